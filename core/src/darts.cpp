#include "pyengine/darts.hpp"

#include <stdexcept>
#include <string>

#include "pyengine/parallel.hpp"

namespace pyengine::darts {
void check_cell(const std::int8_t* cell, std::size_t index) {
  int where = 0;
  switch (cell::check_cell(cell, &where)) {
    case cell::kBadInput: {
      const int node = 2 + where / 2;
      throw std::invalid_argument("DARTS cell " + std::to_string(index) + ", edge " + std::to_string(where) +
                                  ": input " + std::to_string(cell[2 * where]) + " of node " + std::to_string(node) +
                                  " must lie in 0.." + std::to_string(node - 1));
    }
    case cell::kBadOp:
      throw std::invalid_argument("DARTS cell " + std::to_string(index) + ", edge " + std::to_string(where) + ": op " +
                                  std::to_string(cell[2 * where + 1]) + " is outside 0..6");
    case cell::kSameInputs:
      throw std::invalid_argument("DARTS cell " + std::to_string(index) + ": both edges of node " +
                                  std::to_string(2 + where) + " come from node " + std::to_string(cell[4 * where]) +
                                  " (the two inputs of a node must differ)");
    default:
      return;
  }
}

std::uint64_t canonical_key(const std::int8_t* cell, std::int32_t* forms) {
  int f = 0;
  const std::uint64_t key = cell::canonical_key(cell, forms ? &f : nullptr);
  if (forms) *forms = f;
  return key;
}

void decode_key(std::uint64_t key, std::int8_t* cell) { cell::decode_key(key, cell); }

void canonicalize(const std::int8_t* cells, std::size_t batch, std::uint64_t* keys, std::int32_t* forms,
                  std::int8_t* canonical, int threads) {
  for (std::size_t b = 0; b < batch; ++b) check_cell(cells + b * 2 * kEdges, b);
  parallel_for(batch, threads, 4096, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t b = lo; b < hi; ++b) {
      keys[b] = canonical_key(cells + b * 2 * kEdges, forms != nullptr ? forms + b : nullptr);
      if (canonical != nullptr) decode_key(keys[b], canonical + b * 2 * kEdges);
    }
  });
}

}  // namespace pyengine::darts
