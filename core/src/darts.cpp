#include "pyengine/darts.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "pyengine/parallel.hpp"

namespace pyengine::darts {
namespace {

using Perm = std::array<int, kNodes>;

// All 24 orders of the intermediate nodes; perm[i] is the new position of old node 2 + i.
const std::array<Perm, 24>& all_perms() {
  static const std::array<Perm, 24> perms = [] {
    std::array<Perm, 24> out{};
    Perm p{0, 1, 2, 3};
    std::size_t k = 0;
    do {
      out[k++] = p;
    } while (std::next_permutation(p.begin(), p.end()));
    return out;
  }();
  return perms;
}

inline std::uint32_t pack_pair(int input, int op) { return static_cast<std::uint32_t>((input << 3) | op); }

}  // namespace

void check_cell(const std::int8_t* cell, std::size_t index) {
  for (int e = 0; e < kEdges; ++e) {
    const int node = 2 + e / 2;
    const int input = cell[2 * e];
    const int op = cell[2 * e + 1];
    if (input < 0 || input >= node) {
      throw std::invalid_argument("DARTS cell " + std::to_string(index) + ", edge " + std::to_string(e) +
                                  ": input " + std::to_string(input) + " of node " + std::to_string(node) +
                                  " must lie in 0.." + std::to_string(node - 1));
    }
    if (op < 0 || op >= kOps) {
      throw std::invalid_argument("DARTS cell " + std::to_string(index) + ", edge " + std::to_string(e) + ": op " +
                                  std::to_string(op) + " is outside 0..6");
    }
  }
  for (int k = 0; k < kNodes; ++k) {
    if (cell[4 * k] == cell[4 * k + 2]) {
      throw std::invalid_argument("DARTS cell " + std::to_string(index) + ": both edges of node " +
                                  std::to_string(2 + k) + " come from node " + std::to_string(cell[4 * k]) +
                                  " (the two inputs of a node must differ)");
    }
  }
}

std::uint64_t canonical_key(const std::int8_t* cell, std::int32_t* forms) {
  std::array<std::uint64_t, 24> keys{};
  int n_keys = 0;
  for (const Perm& p : all_perms()) {
    bool ok = true;
    std::array<std::uint32_t, kNodes> node_bits{};
    for (int i = 0; i < kNodes && ok; ++i) {
      std::uint32_t pairs[2];
      for (int s = 0; s < 2; ++s) {
        int input = cell[4 * i + 2 * s];
        if (input >= 2) {
          const int moved = p[static_cast<std::size_t>(input - 2)];
          if (moved >= p[static_cast<std::size_t>(i)]) {
            ok = false;
            break;
          }
          input = 2 + moved;
        }
        pairs[s] = pack_pair(input, cell[4 * i + 2 * s + 1]);
      }
      if (!ok) break;
      if (pairs[0] > pairs[1]) std::swap(pairs[0], pairs[1]);
      node_bits[static_cast<std::size_t>(p[static_cast<std::size_t>(i)])] = (pairs[0] << 6) | pairs[1];
    }
    if (!ok) continue;
    std::uint64_t key = 0;
    for (int k = 0; k < kNodes; ++k) key = (key << 12) | node_bits[static_cast<std::size_t>(k)];
    keys[static_cast<std::size_t>(n_keys++)] = key;
  }
  std::sort(keys.begin(), keys.begin() + n_keys);
  if (forms != nullptr) {
    *forms = static_cast<std::int32_t>(std::unique(keys.begin(), keys.begin() + n_keys) - keys.begin());
  }
  return keys[0];
}

void decode_key(std::uint64_t key, std::int8_t* cell) {
  for (int k = 0; k < kNodes; ++k) {
    const auto bits = static_cast<std::uint32_t>((key >> (12 * (kNodes - 1 - k))) & 0xFFFu);
    const std::uint32_t pairs[2] = {bits >> 6, bits & 0x3Fu};
    for (int s = 0; s < 2; ++s) {
      cell[4 * k + 2 * s] = static_cast<std::int8_t>(pairs[s] >> 3);
      cell[4 * k + 2 * s + 1] = static_cast<std::int8_t>(pairs[s] & 7u);
    }
  }
}

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
