// CUDA kernels of graph canonicalization: one thread per cell, each running the same per-cell
// functions as the C++ core (core/include/pyengine/hd/). Compiled at run time by NVRTC through
// CuPy (pyengine/graph/device.py), so a CPU-only install needs no CUDA toolkit; nvcc compiles
// the same file unchanged (tests/graph/test_cuda_sources.py checks both compilers).
#include "pyengine/hd/darts.hpp"
#include "pyengine/hd/nb101.hpp"
#include "pyengine/hd/nb201.hpp"

using pyengine::hd::i32;
using pyengine::hd::i64;
using pyengine::hd::i8;
using pyengine::hd::u64;
using pyengine::hd::u8;

// Per-thread scratch bound of the NB101 kernel: batches padded to more vertices are refused by
// the Python side before launch (NB101 cells have at most 7 vertices after pruning).
#define PYENGINE_DEVICE_MAX_PADDED 32

// NB101: status, canonical key, official hash (hashes may be null) and malformed code of every
// cell of a padded batch (matrices (batch, n_max, n_max) of 0/1 bytes, labels (batch, n_max)).
extern "C" __global__ void pyengine_nb101_process(const u8* matrices, const i8* labels, const i32* num_vertices,
                                                  i64 batch, i32 n_max, u8* status, i64* keys, char* hashes,
                                                  i32* malformed) {
  u8 keep[PYENGINE_DEVICE_MAX_PADDED];
  u8 scratch[PYENGINE_DEVICE_MAX_PADDED];
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < batch; i += stride) {
    if (n_max > PYENGINE_DEVICE_MAX_PADDED) {
      status[i] = 0xFF;
      keys[i] = -1;
      malformed[i] = -2;
      continue;
    }
    const i64 nn = static_cast<i64>(n_max) * n_max;
    pyengine::nb101::cell::process_one(matrices + i * nn, labels + i * n_max, num_vertices[i], n_max, keep, scratch,
                                       status + i, keys + i, hashes ? hashes + 32 * i : nullptr, malformed + i);
  }
}

// NB101 random stream (cell::random_spec): candidates start .. start + count - 1 of stream seed,
// matrices (count, 7, 7) and labels (count, 7).
extern "C" __global__ void pyengine_nb101_random_specs(u64 seed, u64 start, i64 count, u64 threshold, u8* matrices,
                                                       i8* labels) {
  constexpr int V = pyengine::nb101::kMaxVertices;
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    pyengine::nb101::cell::random_spec(seed, start + static_cast<u64>(i), threshold, matrices + V * V * i,
                                       labels + V * i);
}

// The same candidates sampled and processed in one pass: status and canonical keys only.
extern "C" __global__ void pyengine_nb101_stream_keys(u64 seed, u64 start, i64 count, u64 threshold, u8* status,
                                                      i64* keys) {
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    pyengine::nb101::cell::stream_one(seed, start + static_cast<u64>(i), threshold, status + i, keys + i);
}

// NB201: representative and class of every cell (ops (batch, 6)) from the space's class tables
// (15625 entries each, built by the C++ core); bad = 0, or 1 + e for an op outside 0..4 on edge e.
extern "C" __global__ void pyengine_nb201_canonicalize(const i8* ops, i64 batch, const i32* rep_table,
                                                       const i32* class_table, i32* representative, i32* class_id,
                                                       i32* bad) {
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < batch; i += stride) {
    const int idx = pyengine::nb201::cell::index_of(ops + pyengine::nb201::kNumEdges * i);
    if (idx < 0) {
      representative[i] = -1;
      class_id[i] = -1;
      bad[i] = -idx;
    } else {
      representative[i] = rep_table[idx];
      class_id[i] = class_table[idx];
      bad[i] = 0;
    }
  }
}

// DARTS: canonical key, number of distinct forms and canonical cell of every cell (cells (batch,
// 8, 2)); problem = 0, or the cell::Problem code * 16 + the edge or node it names.
extern "C" __global__ void pyengine_darts_canonicalize(const i8* cells, i64 batch, u64* keys, i32* forms,
                                                       i8* canonical, i32* problem) {
  namespace dc = pyengine::darts::cell;
  constexpr int kStride = 2 * pyengine::darts::kEdges;
  const i64 stride = static_cast<i64>(gridDim.x) * blockDim.x;
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < batch; i += stride) {
    const i8* cell = cells + kStride * i;
    int where = 0;
    const int p = dc::check_cell(cell, &where);
    if (p != dc::kCellOk) {
      problem[i] = p * 16 + where;
      keys[i] = 0;
      forms[i] = 0;
      for (int k = 0; k < kStride; ++k) canonical[kStride * i + k] = -1;
      continue;
    }
    problem[i] = 0;
    int f = 0;
    keys[i] = dc::canonical_key(cell, &f);
    forms[i] = f;
    dc::decode_key(keys[i], canonical + kStride * i);
  }
}
