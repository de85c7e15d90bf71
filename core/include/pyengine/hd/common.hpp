// Definitions shared by the C++ core and the CUDA kernels: every function here is plain C++17
// without the standard library (only <cstdint>'s types, which NVRTC lacks and gets spelled out
// for an LP64 target), so the same text compiles with g++/clang++, nvcc and NVRTC.
// PYENGINE_HD marks a function callable from host and device code.
#pragma once

#if defined(__CUDACC__)
#define PYENGINE_HD __host__ __device__
#else
#define PYENGINE_HD
#endif

#if !defined(__CUDACC_RTC__)
#include <cstdint>
#endif

namespace pyengine {
namespace hd {

#if defined(__CUDACC_RTC__)
typedef unsigned char u8;
typedef signed char i8;
typedef unsigned int u32;
typedef int i32;
typedef long i64;
typedef unsigned long u64;
#else
typedef std::uint8_t u8;
typedef std::int8_t i8;
typedef std::uint32_t u32;
typedef std::int32_t i32;
typedef std::int64_t i64;
typedef std::uint64_t u64;
#endif

static_assert(sizeof(u32) == 4 && sizeof(i64) == 8 && sizeof(u64) == 8, "fixed-width types");

PYENGINE_HD inline int popcount32(u32 x) {
#if defined(__CUDA_ARCH__)
  return __popc(x);
#else
  return __builtin_popcount(x);
#endif
}

// Index of the lowest set bit; x must be non-zero.
PYENGINE_HD inline int ctz32(u32 x) {
#if defined(__CUDA_ARCH__)
  return __ffs(static_cast<int>(x)) - 1;
#else
  return __builtin_ctz(x);
#endif
}

PYENGINE_HD inline void copy_bytes(void* dst, const void* src, u32 n) {
#if defined(__CUDA_ARCH__)
  u8* d = static_cast<u8*>(dst);
  const u8* s = static_cast<const u8*>(src);
  for (u32 i = 0; i < n; ++i) d[i] = s[i];
#else
  __builtin_memcpy(dst, src, n);
#endif
}

}  // namespace hd
}  // namespace pyengine
