#include "pyengine/nb101.hpp"

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>

#include "pyengine/md5.hpp"
#include "pyengine/parallel.hpp"

namespace pyengine::nb101 {
namespace {

using cell::edge_bit;
using cell::for_each_order;
using cell::HashState;
using cell::label_code;
using cell::Masks;
using cell::masks_of;
using cell::permuted_bits;

inline int popcount(std::uint32_t x) { return hd::popcount32(x); }

constexpr std::uint32_t kPow3[kMaxVertices] = {1, 3, 9, 27, 81, 243, 729};

// ---------------------------------------------------------------------------------------------
// Official hash pipeline: all cells of a group advance one refinement round at a time, and every
// MD5 message of a round is hashed by the multi-buffer kernel, bucketed by block count.

constexpr int kLabelMin = -2;
constexpr int kLabelSpan = 5;  // labels -2..2

struct InitialTable {
  // Digest of Python's str((out_degree, in_degree, label)) for degrees 0..7.
  std::uint8_t dig[8][8][kLabelSpan][16];
  InitialTable() {
    std::uint8_t buf[16];
    for (int o = 0; o < 8; ++o)
      for (int i = 0; i < 8; ++i)
        for (int l = 0; l < kLabelSpan; ++l) md5(buf, cell::initial_message(o, i, l + kLabelMin, buf), dig[o][i][l]);
  }
};

const InitialTable& initial_table() {
  static const InitialTable table;
  return table;
}

constexpr std::size_t kGroup = 256;
constexpr unsigned kMaxBlocks = 8;

class Hasher {
 public:
  void run(const Compact* cells, std::size_t count, char* hex_out) {
    for (std::size_t base = 0; base < count; base += kGroup) {
      const std::size_t g = std::min(kGroup, count - base);
      group(cells + base, g, hex_out + 32 * base);
    }
  }

 private:
  std::vector<HashState> st_;
  std::vector<std::uint8_t> arena_;
  std::vector<std::uint32_t> offsets_;
  std::vector<std::uint32_t> target_;  // cell * 8 + vertex (vertex 7 = final fingerprint)
  std::vector<std::uint32_t> bucket_[kMaxBlocks + 1];
  std::vector<std::array<std::uint8_t, 16>> out_;

  void add_message(std::size_t& used, std::uint32_t target, std::size_t len) {
    const std::size_t padded = md5_padded_len(len);
    md5_pad(arena_.data() + used, len);
    const unsigned nb = static_cast<unsigned>(padded / 64);
    if (nb > kMaxBlocks) throw std::logic_error("nb101 hash: message longer than expected");
    const auto id = static_cast<std::uint32_t>(offsets_.size());
    offsets_.push_back(static_cast<std::uint32_t>(used));
    target_.push_back(target);
    bucket_[nb].push_back(id);
    used += padded;
  }

  void group(const Compact* cells, std::size_t g, char* hex_out) {
    const InitialTable& table = initial_table();
    st_.resize(g);
    int max_n = 0;
    for (std::size_t c = 0; c < g; ++c) {
      HashState& s = st_[c];
      cell::hash_begin(s, cells[c].n, cells[c].bits);  // check_compact guarantees 2..7 vertices
      max_n = std::max(max_n, s.n);
      for (int v = 0; v < s.n; ++v) {
        const int o = popcount(s.m.out[v]), i = popcount(s.m.in[v]);
        std::memcpy(s.dig[v], table.dig[o][i][cells[c].labels[v] - kLabelMin], 16);
      }
      cell::refresh(s);
    }
    // Worst case per cell and round: 7 messages of at most 6*32+2+32 bytes, or one of at most
    // cell::kMessageBytes.
    arena_.resize(g * kMaxVertices * md5_padded_len(cell::kMessageBytes));
    for (int round = 0; round <= max_n; ++round) {
      offsets_.clear();
      target_.clear();
      for (auto& b : bucket_) b.clear();
      std::size_t used = 0;
      for (std::size_t c = 0; c < g; ++c) {
        HashState& s = st_[c];
        if (round < s.n) {
          for (int v = 0; v < s.n; ++v) {
            const std::size_t len = cell::vertex_message(s, v, arena_.data() + used);
            add_message(used, static_cast<std::uint32_t>(c * 8 + static_cast<std::size_t>(v)), len);
          }
        } else if (round == s.n) {
          const std::size_t len = cell::final_message(s, arena_.data() + used);
          add_message(used, static_cast<std::uint32_t>(c * 8 + 7), len);
        }
      }
      out_.resize(offsets_.size());
      auto* digests = reinterpret_cast<std::uint8_t(*)[16]>(out_.data());
      for (unsigned nb = 1; nb <= kMaxBlocks; ++nb) {
        if (!bucket_[nb].empty())
          md5_padded_many(arena_.data(), offsets_.data(), bucket_[nb].data(), bucket_[nb].size(), nb, digests);
      }
      for (std::size_t k = 0; k < target_.size(); ++k) {
        const std::size_t c = target_[k] / 8;
        const int v = static_cast<int>(target_[k] % 8);
        if (v == 7) {
          md5_hex(out_[k].data(), hex_out + 32 * c);
        } else {
          std::memcpy(st_[c].dig[v], out_[k].data(), 16);
        }
      }
      for (std::size_t c = 0; c < g; ++c) {
        HashState& s = st_[c];
        if (round < s.n) cell::refresh(s);
      }
    }
  }
};

void check_compact(const Compact& c) {
  if (c.n < 2 || c.n > kMaxVertices) throw std::invalid_argument("compact NB101 cell must have 2..7 vertices");
  if (c.labels[0] != kInput || c.labels[c.n - 1] != kOutput)
    throw std::invalid_argument("compact NB101 cell must start with input and end with output");
  for (int v = 1; v < c.n - 1; ++v)
    if (c.labels[v] < 0 || c.labels[v] >= kNumInteriorOps)
      throw std::invalid_argument("compact NB101 cell has an interior label outside 0..2");
  if (c.bits >> (c.n * (c.n - 1) / 2)) throw std::invalid_argument("compact NB101 cell has edge bits beyond n");
}

}  // namespace

const char* status_name(Status s) {
  switch (s) {
    case Status::kValid: return "valid";
    case Status::kNotUpperTriangular: return "not_upper_triangular";
    case Status::kDisconnected: return "disconnected";
    case Status::kTooManyVertices: return "too_many_vertices";
    case Status::kTooManyEdges: return "too_many_edges";
    case Status::kBadFirstOp: return "bad_first_op";
    case Status::kBadLastOp: return "bad_last_op";
    case Status::kBadOps: return "bad_ops";
  }
  return "unknown";
}

void hash_compact(const Compact* cells, std::size_t count, char* hex_out, int threads) {
  for (std::size_t i = 0; i < count; ++i) check_compact(cells[i]);
  parallel_for(count, threads, 4 * kGroup, [&](std::size_t b, std::size_t e) {
    Hasher h;
    h.run(cells + b, e - b, hex_out + 32 * b);
  });
}

std::string hash_one(const Compact& cell) {
  std::string s(32, '0');
  hash_compact(&cell, 1, s.data(), 1);
  return s;
}

std::int64_t canonical_key(const Compact& cell) {
  check_compact(cell);
  return cell::canonical_key(cell.n, cell.bits, cell.labels);
}

std::int64_t pack_key(const Compact& cell) {
  check_compact(cell);
  std::uint8_t identity[kMaxVertices];
  for (int v = 0; v < kMaxVertices; ++v) identity[v] = static_cast<std::uint8_t>(v);
  return cell::pack_key(cell.n, cell.bits, label_code(cell.n, cell.labels, identity));
}

Compact decode_key(std::int64_t key) {
  Compact c;
  if (key < 0) throw std::invalid_argument("NB101 canonical key must be non-negative");
  const std::int64_t n = key >> 40;
  if (n < 2 || n > kMaxVertices) throw std::invalid_argument("NB101 canonical key encodes a vertex count outside 2..7");
  c.n = static_cast<std::uint8_t>(n);
  c.bits = static_cast<std::uint32_t>((key >> 8) & 0xffffffff);
  std::uint32_t code = static_cast<std::uint32_t>(key & 0xff);
  if (c.bits >> (c.n * (c.n - 1) / 2)) throw std::invalid_argument("NB101 canonical key has edge bits beyond its vertex count");
  if (code >= kPow3[c.n - 2]) throw std::invalid_argument("NB101 canonical key has a label code out of range");
  c.labels[0] = kInput;
  c.labels[c.n - 1] = kOutput;
  for (int p = c.n - 2; p >= 1; --p) {
    c.labels[p] = static_cast<std::int8_t>(code % 3);
    code /= 3;
  }
  return c;
}

void process(const BatchView& in, const BatchOutput& out, int threads) {
  const std::size_t N = in.n_max;
  if (in.batch > 0 && N == 0) throw std::invalid_argument("NB101 cells need at least one vertex");
  if (N > kMaxPaddedVertices)
    throw std::invalid_argument("NB101 cells of " + std::to_string(N) + " vertices are too large");
  parallel_for(in.batch, threads, 512, [&](std::size_t begin, std::size_t end) {
    std::vector<Compact> valid;
    std::vector<std::size_t> valid_index;
    std::vector<std::uint8_t> keep(N), scratch(N);
    for (std::size_t i = begin; i < end; ++i) {
      const std::int32_t nv = in.num_vertices[i];
      const std::uint8_t* M = in.matrices + i * N * N;
      const std::int8_t* L = in.labels + i * N;
      cell::Processed r;
      std::int32_t bad = 0;
      const int malformed =
          cell::process_cell(M, L, nv, static_cast<std::int32_t>(N), keep.data(), scratch.data(), &r, &bad);
      if (malformed == cell::kBadNumVertices)
        throw std::invalid_argument("cell " + std::to_string(i) + ": num_vertices is " + std::to_string(nv) +
                                    ", expected 1.." + std::to_string(N));
      if (malformed == cell::kBadEntry) {
        const auto b = static_cast<std::size_t>(bad);
        throw std::invalid_argument("cell " + std::to_string(i) + ": matrix entry [" + std::to_string(b / N) + "][" +
                                    std::to_string(b % N) + "] is " + std::to_string(M[b]) + ", expected 0 or 1");
      }
      if (out.status) out.status[i] = static_cast<std::uint8_t>(r.status);
      if (out.kept) std::memcpy(out.kept + i * N, keep.data(), N);
      if (out.pruned_matrices || out.pruned_labels) {
        // write_pruned fills both; a caller may want one of them only.
        std::vector<std::uint8_t> P(out.pruned_matrices ? 0 : N * N);
        std::vector<std::int8_t> PL(out.pruned_labels ? 0 : N);
        cell::write_pruned(M, L, nv, static_cast<std::int32_t>(N), keep.data(),
                           out.pruned_matrices ? out.pruned_matrices + i * N * N : P.data(),
                           out.pruned_labels ? out.pruned_labels + i * N : PL.data());
      }
      if (out.pruned_vertices) out.pruned_vertices[i] = r.pruned ? r.kept : 0;
      if (out.hashes) std::memset(out.hashes + 32 * i, 0, 32);
      if (out.canonical_keys) out.canonical_keys[i] = -1;
      if (r.status == Status::kValid) {
        Compact c;
        c.n = static_cast<std::uint8_t>(r.n);
        c.bits = r.bits;
        std::memcpy(c.labels, r.labels, kMaxVertices);
        if (out.canonical_keys) out.canonical_keys[i] = cell::canonical_key(c.n, c.bits, c.labels);
        valid.push_back(c);
        valid_index.push_back(i);
      }
    }
    if (out.hashes && !valid.empty()) {
      std::vector<char> hex(32 * valid.size());
      Hasher h;
      h.run(valid.data(), valid.size(), hex.data());
      for (std::size_t k = 0; k < valid.size(); ++k) std::memcpy(out.hashes + 32 * valid_index[k], hex.data() + 32 * k, 32);
    }
  });
}

void process_scalar(const BatchView& in, std::uint8_t* status, std::int64_t* canonical_keys, char* hashes,
                    std::int32_t* malformed, int threads) {
  const std::size_t N = in.n_max;
  if (in.batch > 0 && N == 0) throw std::invalid_argument("NB101 cells need at least one vertex");
  if (N > kMaxPaddedVertices)
    throw std::invalid_argument("NB101 cells of " + std::to_string(N) + " vertices are too large");
  parallel_for(in.batch, threads, 512, [&](std::size_t begin, std::size_t end) {
    std::vector<std::uint8_t> keep(N), scratch(N);
    for (std::size_t i = begin; i < end; ++i)
      cell::process_one(in.matrices + i * N * N, in.labels + i * N, in.num_vertices[i], static_cast<std::int32_t>(N),
                        keep.data(), scratch.data(), status + i, canonical_keys + i, hashes ? hashes + 32 * i : nullptr,
                        malformed + i);
  });
}

namespace {
void check_edge_prob(double p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw std::invalid_argument("edge probability " + std::to_string(p) + " is outside [0, 1]");
}
}  // namespace

void random_specs(std::uint64_t seed, std::uint64_t start, std::size_t count, double edge_prob,
                  std::uint8_t* matrices, std::int8_t* labels, int threads) {
  check_edge_prob(edge_prob);
  const std::uint64_t t = cell::edge_threshold(edge_prob);
  constexpr std::size_t V = kMaxVertices;
  parallel_for(count, threads, 4096, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) cell::random_spec(seed, start + i, t, matrices + i * V * V, labels + i * V);
  });
}

void stream_keys(std::uint64_t seed, std::uint64_t start, std::size_t count, double edge_prob, std::uint8_t* status,
                 std::int64_t* canonical_keys, int threads) {
  check_edge_prob(edge_prob);
  const std::uint64_t t = cell::edge_threshold(edge_prob);
  parallel_for(count, threads, 4096, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) cell::stream_one(seed, start + i, t, status + i, canonical_keys + i);
  });
}

std::vector<Compact> enumerate_space(int threads) {
  std::vector<Compact> all;
  all.reserve(kSpaceSize);
  for (int n = 2; n <= kMaxVertices; ++n) {
    const int e = n * (n - 1) / 2;
    const std::size_t patterns = std::size_t{1} << e;
    const std::size_t chunks = std::min<std::size_t>(patterns, 256);
    std::vector<std::vector<Compact>> parts(chunks);
    parallel_for_dynamic(chunks, threads, [&](std::size_t chunk) {
      std::vector<std::array<std::uint8_t, kMaxVertices>> autos;
      {
        auto& part = parts[chunk];
        const std::size_t lo = patterns * chunk / chunks, hi = patterns * (chunk + 1) / chunks;
        for (std::size_t pb = lo; pb < hi; ++pb) {
          const auto bits = static_cast<std::uint32_t>(pb);
          if (popcount(bits) > kMaxEdges) continue;
          const Masks m = masks_of(n, bits);
          bool full = true;  // official is_full_dag: no dangling vertices
          for (int v = 0; v < n && full; ++v) {
            if (v < n - 1 && m.out[v] == 0) full = false;
            if (v > 0 && m.in[v] == 0) full = false;
          }
          if (!full) continue;
          // The matrix is a representative only if no topological relabelling has smaller bits;
          // the relabellings with equal bits are its automorphisms, which then order labelings.
          autos.clear();
          bool minimal = true;
          for_each_order(n, m, [&](const std::uint8_t* order) {
            const std::uint32_t b = permuted_bits(n, m, order);
            if (b < bits) {
              minimal = false;
              return false;
            }
            if (b == bits) {
              bool identity = true;
              for (int p = 0; p < n; ++p) identity = identity && order[p] == p;
              if (!identity) {
                std::array<std::uint8_t, kMaxVertices> a{};
                std::copy(order, order + n, a.begin());
                autos.push_back(a);
              }
            }
            return true;
          });
          if (!minimal) continue;
          const std::uint32_t codes = kPow3[n - 2];
          for (std::uint32_t code = 0; code < codes; ++code) {
            Compact c;
            c.n = static_cast<std::uint8_t>(n);
            c.bits = bits;
            c.labels[0] = kInput;
            c.labels[n - 1] = kOutput;
            std::uint32_t rest = code;
            for (int p = n - 2; p >= 1; --p) {
              c.labels[p] = static_cast<std::int8_t>(rest % 3);
              rest /= 3;
            }
            bool smallest = true;
            for (const auto& a : autos)
              if (label_code(n, c.labels, a.data()) < code) {
                smallest = false;
                break;
              }
            if (smallest) part.push_back(c);
          }
        }
      }
    });
    for (auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  }
  return all;
}

}  // namespace pyengine::nb101
