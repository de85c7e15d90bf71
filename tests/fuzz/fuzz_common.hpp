// Helpers shared by the fuzz targets: a byte reader over the fuzzer's input and a check that
// aborts (so libFuzzer and the standalone driver both report it as a crash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <cstdlib>

namespace pyengine::fuzz {

// Reads bytes from the front of the input; past the end it yields zeros, so every input,
// however short, decodes to some case.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : std::uint8_t{0}; }
  std::int8_t sbyte() { return static_cast<std::int8_t>(byte()); }
  bool bit() {
    if (nbits_ == 0) {
      bits_ = byte();
      nbits_ = 8;
    }
    const bool b = (bits_ & 1u) != 0;
    bits_ = static_cast<std::uint8_t>(bits_ >> 1);
    --nbits_;
    return b;
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }
  std::uint64_t u64() { return (static_cast<std::uint64_t>(u32()) << 32) | u32(); }
  // A value in 0..n-1 (n >= 1).
  unsigned below(unsigned n) { return byte() % n; }
  bool empty() const { return pos_ >= size_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::uint8_t bits_ = 0;
  int nbits_ = 0;
};

[[noreturn]] inline void fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: fuzz property violated: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

// Runs f(); true when it threw std::invalid_argument, the core's answer to malformed input. Any
// other exception propagates and ends the run: a finding.
template <class F>
bool rejects(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
    return true;
  }
  return false;
}

}  // namespace pyengine::fuzz

#define FUZZ_CHECK(cond)                                                \
  do {                                                                  \
    if (!(cond)) ::pyengine::fuzz::fail(__FILE__, __LINE__, #cond);     \
  } while (0)
