// NAS-Bench-201 cells: 4 nodes, 6 edges, 5 ops. Op indices follow the official op list
// (0 none, 1 skip_connect, 2 nor_conv_1x1, 3 nor_conv_3x3, 4 avg_pool_3x3) and edges follow the
// arch string: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3. A cell's index is its ops read as a base-5
// number, first edge most significant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pyengine/hd/nb201.hpp"

namespace pyengine::nb201 {

// kNumEdges, kNumOps, kNumCells, kNumClasses and cell::index_of: pyengine/hd/nb201.hpp (shared
// with the CUDA kernels).

// Official Structure.to_unique_str(consider_zero=True) of one cell (ops: kNumEdges op indices).
// Throws std::invalid_argument for an op index outside 0..4.
std::string unique_str(const std::int8_t* ops);

// Cell index of a cell and the cell of an index (checked).
std::int32_t cell_index(const std::int8_t* ops);
void cell_ops(std::int32_t index, std::int8_t* ops);

// Classes of the whole space, computed afresh: for every cell index, the smallest cell index with
// the same unique string (its representative) and the class number (classes numbered 0..6465 in
// the order of their representatives). Both outputs hold kNumCells entries.
void space_classes(std::int32_t* representative, std::int32_t* class_id, int threads);

// Representative and class of each cell of a batch (ops: (batch, 6)), from a table of the space
// built once per process. Either output may be null.
void canonicalize(const std::int8_t* ops, std::size_t batch, std::int32_t* representative, std::int32_t* class_id);

}  // namespace pyengine::nb201
