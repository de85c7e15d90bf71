// DARTS / NAS-Bench-301 cells: two inputs (nodes 0 and 1, the outputs of the two previous cells),
// four intermediate nodes 2..5 with two incoming edges each, output = concatenation of nodes 2..5.
// A cell is kEdges (input, op) pairs; edges 2k and 2k+1 feed node 2 + k, their inputs lie in
// 0..1+k and differ. Ops follow NASLib's compact order: 0 max_pool_3x3, 1 avg_pool_3x3,
// 2 skip_connect, 3 sep_conv_3x3, 4 sep_conv_5x5, 5 dil_conv_3x3, 6 dil_conv_5x5.
//
// Two cells are isomorphic when one becomes the other by swapping the two edges of a node and by
// renumbering the intermediate nodes in another topological order. The canonical key of a cell is
// the smallest packed form over those relabellings (12 bits per node, node 2 most significant;
// within a node the (input, op) pairs sorted).
#pragma once

#include <cstddef>
#include <cstdint>

#include "pyengine/hd/darts.hpp"

namespace pyengine::darts {

// kNodes, kEdges, kOps and the per-cell functions: pyengine/hd/darts.hpp (shared with the CUDA
// kernels).

// Throws std::invalid_argument naming the cell and edge when a cell breaks the rules above.
void check_cell(const std::int8_t* cell, std::size_t index);

// Canonical key of one checked cell, and the number of distinct packed forms its relabellings
// produce (1..24); a uniform draw over labellings hits a class with probability proportional to
// that number (the edge swaps add the same factor 16 to every class).
std::uint64_t canonical_key(const std::int8_t* cell, std::int32_t* forms);

// The canonical cell (kEdges pairs, smaller pair first in each node) of a key.
void decode_key(std::uint64_t key, std::int8_t* cell);

// Batched: cells (batch, kEdges, 2) -> keys (batch), forms (batch, may be null), canonical cells
// (batch, kEdges, 2, may be null). Checks every cell first; throws for the first bad one.
void canonicalize(const std::int8_t* cells, std::size_t batch, std::uint64_t* keys, std::int32_t* forms,
                  std::int8_t* canonical, int threads);

}  // namespace pyengine::darts
