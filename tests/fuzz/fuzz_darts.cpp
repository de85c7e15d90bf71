// Fuzz target for the DARTS core: bytes -> a batch of cells ((input, op) pairs, in range or not)
// through check_cell and the batched canonicalize, and raw keys through decode_key. A malformed
// cell must end in std::invalid_argument; valid cells must satisfy the invariants checked below.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "fuzz_common.hpp"
#include "pyengine/darts.hpp"

using namespace pyengine;
using pyengine::fuzz::Reader;
using pyengine::fuzz::rejects;

namespace {

constexpr int kCell = 2 * darts::kEdges;  // int8 values per cell

bool cell_valid(const std::int8_t* cell) {
  for (int k = 0; k < darts::kNodes; ++k) {
    const int node = 2 + k;
    for (int s = 0; s < 2; ++s) {
      const int input = cell[4 * k + 2 * s], op = cell[4 * k + 2 * s + 1];
      if (input < 0 || input >= node || op < 0 || op >= darts::kOps) return false;
    }
    if (cell[4 * k] == cell[4 * k + 2]) return false;
  }
  return true;
}

// The packing of a cell as it stands (pairs sorted within each node, no renumbering).
std::uint64_t packing(const std::int8_t* cell) {
  std::uint64_t key = 0;
  for (int k = 0; k < darts::kNodes; ++k) {
    std::uint32_t a = static_cast<std::uint32_t>(cell[4 * k] * 8 + cell[4 * k + 1]);
    std::uint32_t b = static_cast<std::uint32_t>(cell[4 * k + 2] * 8 + cell[4 * k + 3]);
    if (a > b) std::swap(a, b);
    key = (key << 12) | (a << 6) | b;
  }
  return key;
}

// An isomorphic copy: intermediate nodes renumbered in a topological order drawn from the input,
// and the two edges of some nodes swapped.
void relabel(const std::int8_t* cell, std::int8_t* out, Reader& r) {
  int order[darts::kNodes];  // order[p]: old node index (0..3) placed at position p
  unsigned placed = 0;
  for (int p = 0; p < darts::kNodes; ++p) {
    int avail[darts::kNodes];
    unsigned count = 0;
    for (int k = 0; k < darts::kNodes; ++k) {
      if (placed & (1u << k)) continue;
      bool ready = true;
      for (int s = 0; s < 2; ++s) {
        const int input = cell[4 * k + 2 * s];
        if (input >= 2 && !(placed & (1u << (input - 2)))) ready = false;
      }
      if (ready) avail[count++] = k;
    }
    FUZZ_CHECK(count > 0);
    order[p] = avail[r.below(count)];
    placed |= 1u << order[p];
  }
  int pos[darts::kNodes];
  for (int p = 0; p < darts::kNodes; ++p) pos[order[p]] = p;
  for (int k = 0; k < darts::kNodes; ++k) {
    const bool swap = r.bit();
    for (int s = 0; s < 2; ++s) {
      const int from = swap ? 1 - s : s;
      int input = cell[4 * k + 2 * from];
      if (input >= 2) input = 2 + pos[input - 2];
      out[4 * pos[k] + 2 * s] = static_cast<std::int8_t>(input);
      out[4 * pos[k] + 2 * s + 1] = cell[4 * k + 2 * from + 1];
    }
  }
}

void fuzz_cells(Reader& r) {
  const std::size_t batch = 1 + r.below(4);
  const std::uint8_t flags = r.byte();
  std::vector<std::int8_t> cells(batch * kCell);
  bool all_valid = true;
  for (std::size_t b = 0; b < batch; ++b) {
    std::int8_t* cell = cells.data() + b * kCell;
    for (int e = 0; e < darts::kEdges; ++e) {
      const int node = 2 + e / 2;
      if ((flags & 1) && r.bit()) {
        cell[2 * e] = r.sbyte();
        cell[2 * e + 1] = r.sbyte();
      } else {
        cell[2 * e] = static_cast<std::int8_t>(r.below(static_cast<unsigned>(node)));
        cell[2 * e + 1] = static_cast<std::int8_t>(r.below(darts::kOps));
      }
    }
    const bool valid = cell_valid(cell);
    FUZZ_CHECK(rejects([&] { darts::check_cell(cell, 0); }) == !valid);
    all_valid = all_valid && valid;
  }
  std::vector<std::uint64_t> keys(batch);
  std::vector<std::int32_t> forms(batch);
  std::vector<std::int8_t> canon(batch * kCell);
  if (rejects([&] { darts::canonicalize(cells.data(), batch, keys.data(), forms.data(), canon.data(), 1); })) {
    FUZZ_CHECK(!all_valid);
    return;
  }
  FUZZ_CHECK(all_valid);
  std::vector<std::uint64_t> keys_only(batch);
  darts::canonicalize(cells.data(), batch, keys_only.data(), nullptr, nullptr, 1);
  FUZZ_CHECK(keys_only == keys);
  for (std::size_t b = 0; b < batch; ++b) {
    const std::int8_t* cell = cells.data() + b * kCell;
    const std::int8_t* c = canon.data() + b * kCell;
    const std::uint64_t key = keys[b];
    FUZZ_CHECK(key >> 48 == 0);
    FUZZ_CHECK(forms[b] >= 1 && forms[b] <= 24);
    FUZZ_CHECK(key <= packing(cell));
    // The canonical cell is valid, packs to the key, has its pairs sorted and is a fixed point.
    FUZZ_CHECK(cell_valid(c));
    FUZZ_CHECK(packing(c) == key);
    for (int k = 0; k < darts::kNodes; ++k)
      FUZZ_CHECK(c[4 * k] * 8 + c[4 * k + 1] <= c[4 * k + 2] * 8 + c[4 * k + 3]);
    std::int8_t decoded[kCell];
    darts::decode_key(key, decoded);
    FUZZ_CHECK(std::equal(decoded, decoded + kCell, c));
    std::int32_t f = 0;
    FUZZ_CHECK(darts::canonical_key(c, &f) == key);
    FUZZ_CHECK(f == forms[b]);
    // Any isomorphic copy has the same key and the same number of forms.
    std::int8_t iso[kCell];
    relabel(cell, iso, r);
    FUZZ_CHECK(cell_valid(iso));
    FUZZ_CHECK(darts::canonical_key(iso, &f) == key);
    FUZZ_CHECK(f == forms[b]);
  }
}

void fuzz_key(Reader& r) {
  const std::uint64_t key = r.u64();
  std::int8_t cell[kCell];
  darts::decode_key(key, cell);
  for (int e = 0; e < darts::kEdges; ++e) FUZZ_CHECK(cell[2 * e] >= 0 && cell[2 * e] < 8 && cell[2 * e + 1] >= 0);
  if (rejects([&] { darts::check_cell(cell, 0); })) {
    FUZZ_CHECK(!cell_valid(cell));
    return;
  }
  FUZZ_CHECK(cell_valid(cell));
  const std::uint64_t low = key & ((std::uint64_t{1} << 48) - 1);
  bool sorted = true;
  for (int k = 0; k < darts::kNodes; ++k)
    sorted = sorted && cell[4 * k] * 8 + cell[4 * k + 1] <= cell[4 * k + 2] * 8 + cell[4 * k + 3];
  if (sorted) FUZZ_CHECK(packing(cell) == low);
  FUZZ_CHECK(darts::canonical_key(cell, nullptr) <= packing(cell));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader r(data, size);
  if ((r.byte() & 3) == 3) {
    fuzz_key(r);
  } else {
    fuzz_cells(r);
  }
  return 0;
}
