// NAS-Bench-101 cells: validation and pruning exactly as the official API (ModelSpec + _check_spec),
// the official iterated-MD5 module hash, an exact canonical form, and enumeration of the space.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pyengine/hd/nb101.hpp"

namespace pyengine::nb101 {

// Op labels, limits and Status: pyengine/hd/nb101.hpp (shared with the CUDA kernels).

// Number of unique valid cells (classes of the official hash) in the space.
constexpr std::size_t kSpaceSize = 423624;

// Reason string for a status: "valid", "not_upper_triangular", "disconnected", ...
const char* status_name(Status s);

// A valid cell in compact form: n vertices (2..7), edges as official bits (edge x->y, x<y, is
// bit y*(y-1)/2 + x), labels of all n vertices (first -1, last -2, interior 0..2).
struct Compact {
  std::uint8_t n = 0;
  std::uint32_t bits = 0;
  std::int8_t labels[kMaxVertices] = {};
};

// A batch of cells padded to n_max vertices: matrices (batch, n_max, n_max) of 0/1 bytes,
// labels (batch, n_max), num_vertices (batch,) each in 1..n_max. Row-major, C-contiguous.
struct BatchView {
  const std::uint8_t* matrices = nullptr;
  const std::int8_t* labels = nullptr;
  const std::int32_t* num_vertices = nullptr;
  std::size_t batch = 0;
  std::size_t n_max = 0;
};

// Outputs of process(); any pointer may be null to skip that output.
struct BatchOutput {
  std::uint8_t* status = nullptr;          // (batch,)
  std::uint8_t* kept = nullptr;            // (batch, n_max): 1 for vertices kept by pruning
  std::uint8_t* pruned_matrices = nullptr; // (batch, n_max, n_max), zero padded
  std::int8_t* pruned_labels = nullptr;    // (batch, n_max), kPadding padded
  std::int32_t* pruned_vertices = nullptr; // (batch,), 0 when pruning removed the cell
  char* hashes = nullptr;                  // (batch, 32) lower-case hex, zeros for invalid cells
  std::int64_t* canonical_keys = nullptr;  // (batch,), -1 for invalid cells
};

// Validates, prunes, hashes and canonicalises a batch. Malformed input (an entry other than 0/1,
// a vertex count outside 1..n_max) throws std::invalid_argument naming the cell.
void process(const BatchView& in, const BatchOutput& out, int threads);

// The same per cell as process() (status, canonical keys, hashes: null to skip), computed by
// cell::process_one one cell at a time, exactly as the CUDA kernel's threads do; malformed cells
// do not throw but get the codes of cell::process_one in malformed (batch,).
void process_scalar(const BatchView& in, std::uint8_t* status, std::int64_t* canonical_keys, char* hashes,
                    std::int32_t* malformed, int threads);

// Candidates start .. start + count - 1 of the counter-based random stream `seed`
// (cell::random_spec): matrices (count, 7, 7), labels (count, 7).
void random_specs(std::uint64_t seed, std::uint64_t start, std::size_t count, double edge_prob,
                  std::uint8_t* matrices, std::int8_t* labels, int threads);
// The same candidates sampled and processed in one pass (cell::stream_one): status and canonical
// keys (-1 unless valid) only, nothing else materialised.
void stream_keys(std::uint64_t seed, std::uint64_t start, std::size_t count, double edge_prob, std::uint8_t* status,
                 std::int64_t* canonical_keys, int threads);

// Official module hash (hex digests, 32 chars each, no terminator) of valid compact cells.
void hash_compact(const Compact* cells, std::size_t count, char* hex_out, int threads);
std::string hash_one(const Compact& cell);

// Canonical key of a valid compact cell: the minimum over all topological orders (input first,
// output last) of (n, bits, interior labels in base 3, first interior label most significant),
// packed as n << 40 | bits << 8 | label_code. Ascending keys follow the official generator's
// order, and the minimum is the representative the official generator keeps for the class.
std::int64_t canonical_key(const Compact& cell);
// The packing of a cell as it stands (no canonicalisation): its key when it is already canonical,
// as every cell from enumerate_space() is. Throws std::invalid_argument for a cell that is not a
// valid compact cell (as canonical_key does).
std::int64_t pack_key(const Compact& cell);
// Inverse of the packing; throws std::invalid_argument for a malformed key.
Compact decode_key(std::int64_t key);

// Every valid cell of the space, one per isomorphism class, ascending by canonical key
// (kSpaceSize cells): the official generator's order and representatives.
std::vector<Compact> enumerate_space(int threads);

}  // namespace pyengine::nb101
