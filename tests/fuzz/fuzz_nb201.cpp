// Fuzz target for the NAS-Bench-201 core: bytes -> op indices (in range or not) through
// unique_str, cell_index / cell_ops and the batched canonicalize, and raw cell indices through
// cell_ops. Out-of-range input must end in std::invalid_argument; valid cells must satisfy the
// invariants checked below.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "pyengine/nb201.hpp"

using namespace pyengine;
using pyengine::fuzz::Reader;
using pyengine::fuzz::rejects;

namespace {

constexpr int kE = nb201::kNumEdges;

bool ops_valid(const std::int8_t* ops) {
  for (int e = 0; e < kE; ++e)
    if (ops[e] < 0 || ops[e] >= nb201::kNumOps) return false;
  return true;
}

// Characters an official unique string is made of: node 0, '#', '+', parentheses, '@' and op names.
bool plausible_unique_str(const std::string& s) {
  if (s.empty()) return false;
  for (const char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '#' || ch == '+' ||
          ch == '(' || ch == ')' || ch == '@'))
      return false;
  return true;
}

void fuzz_ops(Reader& r) {
  const std::size_t batch = 1 + r.below(4);
  const std::uint8_t flags = r.byte();
  std::vector<std::int8_t> ops(batch * kE);
  bool all_valid = true;
  for (std::size_t i = 0; i < batch; ++i) {
    for (int e = 0; e < kE; ++e) {
      std::int8_t op;
      if ((flags & 1) && r.bit()) {
        op = r.sbyte();
      } else {
        op = static_cast<std::int8_t>(r.below(nb201::kNumOps));
      }
      ops[i * kE + static_cast<std::size_t>(e)] = op;
    }
    all_valid = all_valid && ops_valid(ops.data() + i * kE);
  }
  std::vector<std::int32_t> rep(batch, -7), cls(batch, -7);
  FUZZ_CHECK(rejects([&] { nb201::canonicalize(ops.data(), batch, rep.data(), cls.data()); }) == !all_valid);
  for (std::size_t i = 0; i < batch; ++i) {
    const std::int8_t* cell = ops.data() + i * kE;
    const bool valid = ops_valid(cell);
    std::string s;
    std::int32_t idx = -1;
    const int threw =
        int(rejects([&] { s = nb201::unique_str(cell); })) + int(rejects([&] { idx = nb201::cell_index(cell); }));
    FUZZ_CHECK(threw == (valid ? 0 : 2));
    if (!valid) continue;
    FUZZ_CHECK(plausible_unique_str(s));
    FUZZ_CHECK(idx >= 0 && idx < nb201::kNumCells);
    std::int8_t back[kE];
    nb201::cell_ops(idx, back);
    for (int e = 0; e < kE; ++e) FUZZ_CHECK(back[e] == cell[e]);
    if (!all_valid) continue;
    // The representative is the smallest index of the class, shares the unique string, and is
    // its own representative; class numbers follow the representatives.
    FUZZ_CHECK(rep[i] >= 0 && rep[i] <= idx);
    FUZZ_CHECK(cls[i] >= 0 && cls[i] < nb201::kNumClasses && cls[i] <= rep[i]);
    std::int8_t rep_ops[kE];
    nb201::cell_ops(rep[i], rep_ops);
    FUZZ_CHECK(nb201::unique_str(rep_ops) == s);
    std::int32_t rep2 = -1, cls2 = -1;
    nb201::canonicalize(rep_ops, 1, &rep2, &cls2);
    FUZZ_CHECK(rep2 == rep[i] && cls2 == cls[i]);
    // Cells of one batch share a class exactly when they share a unique string.
    for (std::size_t j = 0; j < i; ++j)
      FUZZ_CHECK((nb201::unique_str(ops.data() + j * kE) == s) == (rep[j] == rep[i]));
  }
  // Null outputs are allowed.
  if (all_valid) nb201::canonicalize(ops.data(), batch, nullptr, nullptr);
}

void fuzz_index(Reader& r) {
  std::int32_t index = static_cast<std::int32_t>(r.u32());
  if (r.bit()) index = static_cast<std::int32_t>(static_cast<std::uint32_t>(index) % (nb201::kNumCells + 16)) - 8;
  const bool valid = index >= 0 && index < nb201::kNumCells;
  std::int8_t ops[kE];
  if (rejects([&] { nb201::cell_ops(index, ops); })) {
    FUZZ_CHECK(!valid);
    return;
  }
  FUZZ_CHECK(valid);
  FUZZ_CHECK(ops_valid(ops));
  FUZZ_CHECK(nb201::cell_index(ops) == index);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader r(data, size);
  if (r.byte() & 1) {
    fuzz_index(r);
  } else {
    fuzz_ops(r);
  }
  return 0;
}
