// DARTS / NAS-Bench-301 cells for host and device: the rules of a cell and its canonical key
// (the smallest packed form over the 24 renumberings of the intermediate nodes and the swaps of
// a node's two edges). src/darts.cpp and the CUDA kernels both call these functions.
#pragma once

#include "pyengine/hd/common.hpp"

namespace pyengine {
namespace darts {

constexpr int kNodes = 4;
constexpr int kEdges = 8;
constexpr int kOps = 7;

namespace cell {

using hd::i8;
using hd::u32;
using hd::u64;

// What is wrong with a cell (kCellOk when nothing): the first broken rule, in the order edges
// are checked (input range, then op range, edge by edge), then the nodes' distinct inputs.
enum Problem : int { kCellOk = 0, kBadInput = 1, kBadOp = 2, kSameInputs = 3 };

// Checks a cell; for a problem, *where is the edge (kBadInput, kBadOp) or node (kSameInputs).
PYENGINE_HD inline int check_cell(const i8* cell, int* where) {
  for (int e = 0; e < kEdges; ++e) {
    const int node = 2 + e / 2;
    const int input = cell[2 * e];
    const int op = cell[2 * e + 1];
    if (input < 0 || input >= node) {
      *where = e;
      return kBadInput;
    }
    if (op < 0 || op >= kOps) {
      *where = e;
      return kBadOp;
    }
  }
  for (int k = 0; k < kNodes; ++k)
    if (cell[4 * k] == cell[4 * k + 2]) {
      *where = k;
      return kSameInputs;
    }
  return kCellOk;
}

PYENGINE_HD inline u32 pack_pair(int input, int op) { return static_cast<u32>((input << 3) | op); }

// Next permutation of 4 values in lexicographic order; false after the last one.
PYENGINE_HD inline bool next_perm4(int* p) {
  int i = kNodes - 2;
  while (i >= 0 && p[i] >= p[i + 1]) --i;
  if (i < 0) return false;
  int j = kNodes - 1;
  while (p[j] <= p[i]) --j;
  int t = p[i];
  p[i] = p[j];
  p[j] = t;
  for (int a = i + 1, b = kNodes - 1; a < b; ++a, --b) {
    t = p[a];
    p[a] = p[b];
    p[b] = t;
  }
  return true;
}

// Canonical key of a checked cell, and (forms not null) the number of distinct packed forms its
// relabellings produce (1..24). Keys pack 12 bits per node, node 2 most significant, each node's
// (input, op) pairs sorted.
PYENGINE_HD inline u64 canonical_key(const i8* cell, int* forms) {
  u64 keys[24];
  int n_keys = 0;
  int p[kNodes] = {0, 1, 2, 3};  // p[i]: new position of old node 2 + i
  do {
    bool ok = true;
    u32 node_bits[kNodes] = {0, 0, 0, 0};
    for (int i = 0; i < kNodes && ok; ++i) {
      u32 pairs[2];
      for (int s = 0; s < 2; ++s) {
        int input = cell[4 * i + 2 * s];
        if (input >= 2) {
          const int moved = p[input - 2];
          if (moved >= p[i]) {
            ok = false;
            break;
          }
          input = 2 + moved;
        }
        pairs[s] = pack_pair(input, cell[4 * i + 2 * s + 1]);
      }
      if (!ok) break;
      if (pairs[0] > pairs[1]) {
        const u32 t = pairs[0];
        pairs[0] = pairs[1];
        pairs[1] = t;
      }
      node_bits[p[i]] = (pairs[0] << 6) | pairs[1];
    }
    if (!ok) continue;
    u64 key = 0;
    for (int k = 0; k < kNodes; ++k) key = (key << 12) | node_bits[k];
    // Insertion into the sorted list of keys.
    int j = n_keys++;
    while (j > 0 && keys[j - 1] > key) {
      keys[j] = keys[j - 1];
      --j;
    }
    keys[j] = key;
  } while (next_perm4(p));
  if (forms) {
    int distinct = n_keys > 0 ? 1 : 0;
    for (int k = 1; k < n_keys; ++k) distinct += keys[k] != keys[k - 1];
    *forms = distinct;
  }
  return keys[0];
}

// The canonical cell (kEdges (input, op) pairs) of a key.
PYENGINE_HD inline void decode_key(u64 key, i8* cell) {
  for (int k = 0; k < kNodes; ++k) {
    const u32 bits = static_cast<u32>((key >> (12 * (kNodes - 1 - k))) & 0xFFFu);
    const u32 pairs[2] = {bits >> 6, bits & 0x3Fu};
    for (int s = 0; s < 2; ++s) {
      cell[4 * k + 2 * s] = static_cast<i8>(pairs[s] >> 3);
      cell[4 * k + 2 * s + 1] = static_cast<i8>(pairs[s] & 7u);
    }
  }
}

}  // namespace cell
}  // namespace darts
}  // namespace pyengine
