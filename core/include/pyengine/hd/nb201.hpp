// NAS-Bench-201 cells for host and device: 6 edges, 5 ops; a cell's index is its ops read as a
// base-5 number, first edge most significant. The canonical form of a cell is the representative
// of its class in a table of the space (built by the C++ core from the official unique strings);
// host and device look cells up in that table by this index.
#pragma once

#include "pyengine/hd/common.hpp"

namespace pyengine {
namespace nb201 {

constexpr int kNumEdges = 6;
constexpr int kNumOps = 5;
constexpr int kNumCells = 15625;
constexpr int kNumClasses = 6466;

namespace cell {

// Index of a cell, or -(1 + e) when edge e holds an op outside 0..4.
PYENGINE_HD inline int index_of(const hd::i8* ops) {
  int idx = 0;
  for (int e = 0; e < kNumEdges; ++e) {
    if (ops[e] < 0 || ops[e] >= kNumOps) return -(1 + e);
    idx = idx * kNumOps + ops[e];
  }
  return idx;
}

}  // namespace cell
}  // namespace nb201
}  // namespace pyengine
