// MD5 digests: a portable scalar implementation and multi-buffer SIMD kernels that
// hash many equally long, pre-padded messages at once (AVX2: 8 lanes, AVX-512: 16 lanes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pyengine {

using Digest = std::uint8_t[16];

// Length in bytes of a message of `len` bytes after MD5 padding (a multiple of 64).
constexpr std::size_t md5_padded_len(std::size_t len) { return ((len + 8) / 64 + 1) * 64; }

// Writes MD5 padding after the first `len` bytes of `buf`, which must hold
// md5_padded_len(len) bytes.
void md5_pad(std::uint8_t* buf, std::size_t len);

// One-shot MD5 of `len` bytes.
void md5(const void* data, std::size_t len, std::uint8_t out[16]);

// Lower-case hex of a digest: 32 characters written to `out` (no terminator).
void md5_hex(const std::uint8_t digest[16], char out[32]);
std::string md5_hex(const std::uint8_t digest[16]);

// Hashes `count` pre-padded messages of `nblocks` 64-byte blocks each. Message k starts at
// arena + offsets[ids[k]] and its digest goes to digests[ids[k]]. Uses the active backend.
void md5_padded_many(const std::uint8_t* arena, const std::uint32_t* offsets, const std::uint32_t* ids,
                     std::size_t count, unsigned nblocks, std::uint8_t (*digests)[16]);

// Backends: "scalar" always; "avx2" and "avx512" where the CPU supports them.
std::vector<std::string> md5_available_backends();
std::string md5_backend();
// Selects a backend by name; throws std::invalid_argument for an unknown or unsupported one.
void md5_set_backend(const std::string& name);

namespace detail {
using Md5ManyFn = void (*)(const std::uint8_t*, const std::uint32_t*, const std::uint32_t*, std::size_t, unsigned,
                           std::uint8_t (*)[16]);
void md5_many_scalar(const std::uint8_t*, const std::uint32_t*, const std::uint32_t*, std::size_t, unsigned,
                     std::uint8_t (*)[16]);
#if defined(PYENGINE_HAVE_X86_SIMD)
void md5_many_avx2(const std::uint8_t*, const std::uint32_t*, const std::uint32_t*, std::size_t, unsigned,
                   std::uint8_t (*)[16]);
void md5_many_avx512(const std::uint8_t*, const std::uint32_t*, const std::uint32_t*, std::size_t, unsigned,
                     std::uint8_t (*)[16]);
#endif
}  // namespace detail

}  // namespace pyengine
