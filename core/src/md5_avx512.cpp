// AVX-512 multi-buffer MD5 (16 lanes, ternary logic and native rotates). Compiled with -mavx512f;
// only called after a CPU check.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "md5_tables.hpp"
#include "pyengine/md5.hpp"

namespace {
using V = __m512i;
constexpr std::size_t LANES = 16;
inline V set1(std::uint32_t x) { return _mm512_set1_epi32(static_cast<int>(x)); }
inline V add(V a, V b) { return _mm512_add_epi32(a, b); }
// imm8 truth tables over (x, y, z): select x ? y : z = 0xCA, parity = 0x96, y ^ (x | ~z) = 0x39.
inline V fF(V x, V y, V z) { return _mm512_ternarylogic_epi32(x, y, z, 0xCA); }
inline V fG(V x, V y, V z) { return _mm512_ternarylogic_epi32(z, x, y, 0xCA); }
inline V fH(V x, V y, V z) { return _mm512_ternarylogic_epi32(x, y, z, 0x96); }
inline V fI(V x, V y, V z) { return _mm512_ternarylogic_epi32(x, y, z, 0x39); }
template <int S>
inline V rotl(V x) {
  return _mm512_mask_rol_epi32(x, 0xFFFF, x, S);  // masked form: no undefined source operand
}
inline V load_offsets(const std::uint32_t* p) { return _mm512_loadu_si512(p); }
inline V gather_words(const std::uint8_t* arena, V off, int word) {
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), 0xFFFF, off, arena + 4 * word, 1);
}
inline void store_state(std::uint32_t* out, V v) { _mm512_storeu_si512(out, v); }
}  // namespace

#include "md5_simd.inc"

namespace pyengine::detail {
void md5_many_avx512(const std::uint8_t* arena, const std::uint32_t* offsets, const std::uint32_t* ids,
                     std::size_t count, unsigned nblocks, std::uint8_t (*digests)[16]) {
  md5_many_impl(arena, offsets, ids, count, nblocks, digests);
}
}  // namespace pyengine::detail
