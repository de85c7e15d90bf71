// Scalar MD5 (RFC 1321) for host and device: one message per call, the round constants written
// into the code (no tables, so nothing needs a __constant__ copy on the device).
#pragma once

#include "pyengine/hd/common.hpp"

namespace pyengine {
namespace hd {

#define PYENGINE_MD5_ROTL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))
#define PYENGINE_MD5_STEP(f, a, b, c, d, x, k, s) \
  (a) += f((b), (c), (d)) + (x) + (k);            \
  (a) = PYENGINE_MD5_ROTL((a), (s)) + (b);
#define PYENGINE_MD5_F(b, c, d) (((b) & (c)) | (~(b) & (d)))
#define PYENGINE_MD5_G(b, c, d) (((d) & (b)) | (~(d) & (c)))
#define PYENGINE_MD5_H(b, c, d) ((b) ^ (c) ^ (d))
#define PYENGINE_MD5_I(b, c, d) ((c) ^ ((b) | ~(d)))

PYENGINE_HD inline u32 md5_load_le32(const u8* p) {
  return static_cast<u32>(p[0]) | (static_cast<u32>(p[1]) << 8) | (static_cast<u32>(p[2]) << 16) |
         (static_cast<u32>(p[3]) << 24);
}

// One 64-byte block into the state.
PYENGINE_HD inline void md5_block(u32 st[4], const u8* block) {
  u32 w[16];
  for (int i = 0; i < 16; ++i) w[i] = md5_load_le32(block + 4 * i);
  u32 a = st[0], b = st[1], c = st[2], d = st[3];
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, a, b, c, d, w[0], 0xd76aa478u, 7)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, d, a, b, c, w[1], 0xe8c7b756u, 12)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, c, d, a, b, w[2], 0x242070dbu, 17)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, b, c, d, a, w[3], 0xc1bdceeeu, 22)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, a, b, c, d, w[4], 0xf57c0fafu, 7)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, d, a, b, c, w[5], 0x4787c62au, 12)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, c, d, a, b, w[6], 0xa8304613u, 17)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, b, c, d, a, w[7], 0xfd469501u, 22)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, a, b, c, d, w[8], 0x698098d8u, 7)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, d, a, b, c, w[9], 0x8b44f7afu, 12)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, c, d, a, b, w[10], 0xffff5bb1u, 17)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, b, c, d, a, w[11], 0x895cd7beu, 22)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, a, b, c, d, w[12], 0x6b901122u, 7)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, d, a, b, c, w[13], 0xfd987193u, 12)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, c, d, a, b, w[14], 0xa679438eu, 17)
  PYENGINE_MD5_STEP(PYENGINE_MD5_F, b, c, d, a, w[15], 0x49b40821u, 22)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, a, b, c, d, w[1], 0xf61e2562u, 5)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, d, a, b, c, w[6], 0xc040b340u, 9)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, c, d, a, b, w[11], 0x265e5a51u, 14)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, b, c, d, a, w[0], 0xe9b6c7aau, 20)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, a, b, c, d, w[5], 0xd62f105du, 5)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, d, a, b, c, w[10], 0x02441453u, 9)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, c, d, a, b, w[15], 0xd8a1e681u, 14)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, b, c, d, a, w[4], 0xe7d3fbc8u, 20)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, a, b, c, d, w[9], 0x21e1cde6u, 5)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, d, a, b, c, w[14], 0xc33707d6u, 9)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, c, d, a, b, w[3], 0xf4d50d87u, 14)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, b, c, d, a, w[8], 0x455a14edu, 20)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, a, b, c, d, w[13], 0xa9e3e905u, 5)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, d, a, b, c, w[2], 0xfcefa3f8u, 9)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, c, d, a, b, w[7], 0x676f02d9u, 14)
  PYENGINE_MD5_STEP(PYENGINE_MD5_G, b, c, d, a, w[12], 0x8d2a4c8au, 20)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, a, b, c, d, w[5], 0xfffa3942u, 4)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, d, a, b, c, w[8], 0x8771f681u, 11)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, c, d, a, b, w[11], 0x6d9d6122u, 16)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, b, c, d, a, w[14], 0xfde5380cu, 23)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, a, b, c, d, w[1], 0xa4beea44u, 4)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, d, a, b, c, w[4], 0x4bdecfa9u, 11)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, c, d, a, b, w[7], 0xf6bb4b60u, 16)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, b, c, d, a, w[10], 0xbebfbc70u, 23)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, a, b, c, d, w[13], 0x289b7ec6u, 4)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, d, a, b, c, w[0], 0xeaa127fau, 11)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, c, d, a, b, w[3], 0xd4ef3085u, 16)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, b, c, d, a, w[6], 0x04881d05u, 23)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, a, b, c, d, w[9], 0xd9d4d039u, 4)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, d, a, b, c, w[12], 0xe6db99e5u, 11)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, c, d, a, b, w[15], 0x1fa27cf8u, 16)
  PYENGINE_MD5_STEP(PYENGINE_MD5_H, b, c, d, a, w[2], 0xc4ac5665u, 23)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, a, b, c, d, w[0], 0xf4292244u, 6)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, d, a, b, c, w[7], 0x432aff97u, 10)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, c, d, a, b, w[14], 0xab9423a7u, 15)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, b, c, d, a, w[5], 0xfc93a039u, 21)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, a, b, c, d, w[12], 0x655b59c3u, 6)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, d, a, b, c, w[3], 0x8f0ccc92u, 10)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, c, d, a, b, w[10], 0xffeff47du, 15)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, b, c, d, a, w[1], 0x85845dd1u, 21)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, a, b, c, d, w[8], 0x6fa87e4fu, 6)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, d, a, b, c, w[15], 0xfe2ce6e0u, 10)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, c, d, a, b, w[6], 0xa3014314u, 15)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, b, c, d, a, w[13], 0x4e0811a1u, 21)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, a, b, c, d, w[4], 0xf7537e82u, 6)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, d, a, b, c, w[11], 0xbd3af235u, 10)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, c, d, a, b, w[2], 0x2ad7d2bbu, 15)
  PYENGINE_MD5_STEP(PYENGINE_MD5_I, b, c, d, a, w[9], 0xeb86d391u, 21)
  st[0] += a;
  st[1] += b;
  st[2] += c;
  st[3] += d;
}

#undef PYENGINE_MD5_ROTL
#undef PYENGINE_MD5_STEP
#undef PYENGINE_MD5_F
#undef PYENGINE_MD5_G
#undef PYENGINE_MD5_H
#undef PYENGINE_MD5_I

// MD5 of `len` bytes: whole blocks read in place, the padded tail in a 128-byte buffer.
PYENGINE_HD inline void md5_digest(const u8* msg, u32 len, u8 out[16]) {
  u32 st[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
  const u32 full = len / 64;
  for (u32 b = 0; b < full; ++b) md5_block(st, msg + 64 * b);
  u8 tail[128];
  const u32 rem = len - 64 * full;
  for (u32 i = 0; i < rem; ++i) tail[i] = msg[64 * full + i];
  const u32 total = rem + 9 <= 64 ? 64 : 128;
  tail[rem] = 0x80;
  for (u32 i = rem + 1; i < total - 8; ++i) tail[i] = 0;
  const u64 bits = static_cast<u64>(len) * 8u;
  for (int i = 0; i < 8; ++i) tail[total - 8 + static_cast<u32>(i)] = static_cast<u8>(bits >> (8 * i));
  for (u32 b = 0; b < total / 64; ++b) md5_block(st, tail + 64 * b);
  for (int i = 0; i < 4; ++i) {
    out[4 * i] = static_cast<u8>(st[i]);
    out[4 * i + 1] = static_cast<u8>(st[i] >> 8);
    out[4 * i + 2] = static_cast<u8>(st[i] >> 16);
    out[4 * i + 3] = static_cast<u8>(st[i] >> 24);
  }
}

// Lower-case hex of a digest, 32 characters, no terminator.
PYENGINE_HD inline void md5_hex32(const u8 digest[16], char out[32]) {
  const char* digits = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = digits[digest[i] >> 4];
    out[2 * i + 1] = digits[digest[i] & 15];
  }
}

}  // namespace hd
}  // namespace pyengine
