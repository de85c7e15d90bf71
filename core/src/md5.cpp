#include "pyengine/md5.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>

#include "md5_tables.hpp"

namespace pyengine {
namespace {

inline std::uint32_t rotl(std::uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

inline std::uint32_t load_le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

inline void store_le32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

void md5_block(std::uint32_t st[4], const std::uint8_t* block) {
  using namespace md5_tables;
  std::uint32_t w[16];
  for (int i = 0; i < 16; ++i) w[i] = load_le32(block + 4 * i);
  std::uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
  for (int i = 0; i < 64; ++i) {
    std::uint32_t f;
    if (i < 16) {
      f = (b & c) | (~b & d);
    } else if (i < 32) {
      f = (d & b) | (~d & c);
    } else if (i < 48) {
      f = b ^ c ^ d;
    } else {
      f = c ^ (b | ~d);
    }
    const std::uint32_t tmp = d;
    d = c;
    c = b;
    b = b + rotl(a + f + K[i] + w[G[i]], S[i]);
    a = tmp;
  }
  st[0] += a;
  st[1] += b;
  st[2] += c;
  st[3] += d;
}

detail::Md5ManyFn pick_default() {
#if defined(PYENGINE_HAVE_X86_SIMD)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return detail::md5_many_avx512;
  if (__builtin_cpu_supports("avx2")) return detail::md5_many_avx2;
#endif
  return detail::md5_many_scalar;
}

std::atomic<detail::Md5ManyFn>& active_fn() {
  static std::atomic<detail::Md5ManyFn> fn{pick_default()};
  return fn;
}

}  // namespace

namespace {
// Pads the final `rem` bytes in `buf` of a message of `message_len` bytes in all.
void pad_tail(std::uint8_t* buf, std::size_t rem, std::uint64_t message_len) {
  const std::size_t total = md5_padded_len(rem);
  buf[rem] = 0x80;
  std::memset(buf + rem + 1, 0, total - rem - 1 - 8);
  const std::uint64_t bits = message_len * 8u;
  for (int i = 0; i < 8; ++i) buf[total - 8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(bits >> (8 * i));
}
}  // namespace

void md5_pad(std::uint8_t* buf, std::size_t len) { pad_tail(buf, len, len); }

void md5(const void* data, std::size_t len, std::uint8_t out[16]) {
  using namespace md5_tables;
  std::uint32_t st[4] = {INIT[0], INIT[1], INIT[2], INIT[3]};
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::size_t full = len / 64;
  for (std::size_t i = 0; i < full; ++i) md5_block(st, p + 64 * i);
  std::uint8_t tail[128];
  const std::size_t rem = len - full * 64;
  std::memcpy(tail, p + full * 64, rem);
  pad_tail(tail, rem, len);
  const std::size_t tail_blocks = md5_padded_len(rem) / 64;
  for (std::size_t i = 0; i < tail_blocks; ++i) md5_block(st, tail + 64 * i);
  for (int i = 0; i < 4; ++i) store_le32(out + 4 * i, st[i]);
}

namespace {
struct HexPairs {
  char pair[256][2];
  HexPairs() : pair() {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) {
      pair[b][0] = kHex[b >> 4];
      pair[b][1] = kHex[b & 15];
    }
  }
};
const HexPairs kHexPairs;
}  // namespace

void md5_hex(const std::uint8_t digest[16], char out[32]) {
  for (int i = 0; i < 16; ++i) std::memcpy(out + 2 * i, kHexPairs.pair[digest[i]], 2);
}

std::string md5_hex(const std::uint8_t digest[16]) {
  std::string s(32, '0');
  md5_hex(digest, s.data());
  return s;
}

namespace detail {
void md5_many_scalar(const std::uint8_t* arena, const std::uint32_t* offsets, const std::uint32_t* ids,
                     std::size_t count, unsigned nblocks, std::uint8_t (*digests)[16]) {
  using namespace md5_tables;
  for (std::size_t k = 0; k < count; ++k) {
    const std::uint32_t id = ids[k];
    const std::uint8_t* msg = arena + offsets[id];
    std::uint32_t st[4] = {INIT[0], INIT[1], INIT[2], INIT[3]};
    for (unsigned b = 0; b < nblocks; ++b) md5_block(st, msg + 64 * b);
    for (int i = 0; i < 4; ++i) store_le32(digests[id] + 4 * i, st[i]);
  }
}
}  // namespace detail

void md5_padded_many(const std::uint8_t* arena, const std::uint32_t* offsets, const std::uint32_t* ids,
                     std::size_t count, unsigned nblocks, std::uint8_t (*digests)[16]) {
  active_fn().load(std::memory_order_relaxed)(arena, offsets, ids, count, nblocks, digests);
}

std::vector<std::string> md5_available_backends() {
  std::vector<std::string> out{"scalar"};
#if defined(PYENGINE_HAVE_X86_SIMD)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) out.emplace_back("avx2");
  if (__builtin_cpu_supports("avx512f")) out.emplace_back("avx512");
#endif
  return out;
}

std::string md5_backend() {
  const detail::Md5ManyFn fn = active_fn().load();
#if defined(PYENGINE_HAVE_X86_SIMD)
  if (fn == detail::md5_many_avx512) return "avx512";
  if (fn == detail::md5_many_avx2) return "avx2";
#endif
  (void)fn;
  return "scalar";
}

void md5_set_backend(const std::string& name) {
  const auto avail = md5_available_backends();
  if (std::find(avail.begin(), avail.end(), name) == avail.end()) {
    std::string msg = "Unknown or unsupported MD5 backend '" + name + "'; available on this CPU:";
    for (const auto& a : avail) msg += " " + a;
    throw std::invalid_argument(msg);
  }
  detail::Md5ManyFn fn = detail::md5_many_scalar;
#if defined(PYENGINE_HAVE_X86_SIMD)
  if (name == "avx2") fn = detail::md5_many_avx2;
  if (name == "avx512") fn = detail::md5_many_avx512;
#endif
  active_fn().store(fn);
}

}  // namespace pyengine
