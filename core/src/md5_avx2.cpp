// AVX2 multi-buffer MD5 (8 lanes). Compiled with -mavx2; only called after a CPU check.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "md5_tables.hpp"
#include "pyengine/md5.hpp"

namespace {
using V = __m256i;
constexpr std::size_t LANES = 8;
inline V set1(std::uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
inline V add(V a, V b) { return _mm256_add_epi32(a, b); }
inline V fF(V x, V y, V z) { return _mm256_xor_si256(z, _mm256_and_si256(x, _mm256_xor_si256(y, z))); }
inline V fG(V x, V y, V z) { return _mm256_xor_si256(y, _mm256_and_si256(z, _mm256_xor_si256(x, y))); }
inline V fH(V x, V y, V z) { return _mm256_xor_si256(_mm256_xor_si256(x, y), z); }
inline V fI(V x, V y, V z) {
  return _mm256_xor_si256(y, _mm256_or_si256(x, _mm256_xor_si256(z, _mm256_set1_epi32(-1))));
}
template <int S>
inline V rotl(V x) {
  return _mm256_or_si256(_mm256_slli_epi32(x, S), _mm256_srli_epi32(x, 32 - S));
}
inline V load_offsets(const std::uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const V*>(p)); }
inline V gather_words(const std::uint8_t* arena, V off, int word) {
  return _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), reinterpret_cast<const int*>(arena + 4 * word), off,
                                      _mm256_set1_epi32(-1), 1);
}
inline void store_state(std::uint32_t* out, V v) { _mm256_storeu_si256(reinterpret_cast<V*>(out), v); }
}  // namespace

#include "md5_simd.inc"

namespace pyengine::detail {
void md5_many_avx2(const std::uint8_t* arena, const std::uint32_t* offsets, const std::uint32_t* ids,
                   std::size_t count, unsigned nblocks, std::uint8_t (*digests)[16]) {
  md5_many_impl(arena, offsets, ids, count, nblocks, digests);
}
}  // namespace pyengine::detail
