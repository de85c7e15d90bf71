#include "pyengine/nb101.hpp"

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>

#include "pyengine/md5.hpp"
#include "pyengine/parallel.hpp"

namespace pyengine::nb101 {
namespace {

inline int popcount(std::uint32_t x) { return __builtin_popcount(x); }
inline std::uint32_t edge_bit(int x, int y) { return 1u << (y * (y - 1) / 2 + x); }

constexpr std::uint32_t kPow3[kMaxVertices] = {1, 3, 9, 27, 81, 243, 729};

// In- and out-neighbour masks of a compact cell.
struct Masks {
  std::uint8_t in[kMaxVertices] = {};
  std::uint8_t out[kMaxVertices] = {};
};

Masks masks_of(int n, std::uint32_t bits) {
  Masks m;
  n = std::min(n, kMaxVertices);
  for (int y = 1; y < n; ++y) {
    for (int x = 0; x < y; ++x) {
      if (bits & edge_bit(x, y)) {
        m.in[y] = static_cast<std::uint8_t>(m.in[y] | (1u << x));
        m.out[x] = static_cast<std::uint8_t>(m.out[x] | (1u << y));
      }
    }
  }
  return m;
}

// Calls fn(order) for every topological order of the DAG that keeps vertex 0 first and vertex
// n-1 last (order[p] is the vertex at position p). fn returns false to stop early.
template <class Fn>
void for_each_order(int n, const Masks& m, Fn&& fn) {
  std::uint8_t order[kMaxVertices];
  order[0] = 0;
  order[n - 1] = static_cast<std::uint8_t>(n - 1);
  const std::uint8_t interior = static_cast<std::uint8_t>(((1u << (n - 1)) - 1) & ~1u);
  bool stop = false;
  auto rec = [&](auto&& self, int pos, std::uint8_t placed) -> void {
    if (stop) return;
    if (pos == n - 1) {
      if (!fn(static_cast<const std::uint8_t*>(order))) stop = true;
      return;
    }
    std::uint8_t avail = static_cast<std::uint8_t>(interior & ~placed);
    while (avail) {
      const int v = __builtin_ctz(avail);
      avail = static_cast<std::uint8_t>(avail & (avail - 1));
      if ((m.in[v] & ~placed) == 0) {
        order[pos] = static_cast<std::uint8_t>(v);
        self(self, pos + 1, static_cast<std::uint8_t>(placed | (1u << v)));
        if (stop) return;
      }
    }
  };
  rec(rec, 1, 1u);
}

// Official bits of the cell relabelled so that order[p] moves to position p.
std::uint32_t permuted_bits(int n, const Masks& m, const std::uint8_t* order) {
  std::uint8_t pos[kMaxVertices];
  for (int p = 0; p < n; ++p) pos[order[p]] = static_cast<std::uint8_t>(p);
  std::uint32_t out = 0;
  for (int x = 0; x < n; ++x) {
    std::uint8_t o = m.out[x];
    while (o) {
      const int y = __builtin_ctz(o);
      o = static_cast<std::uint8_t>(o & (o - 1));
      out |= edge_bit(pos[x], pos[y]);
    }
  }
  return out;
}

std::uint32_t label_code(int n, const std::int8_t* labels, const std::uint8_t* order) {
  std::uint32_t code = 0;
  for (int p = 1; p < n - 1; ++p) code = code * 3 + static_cast<std::uint32_t>(labels[order[p]]);
  return code;
}

inline std::int64_t pack_key(int n, std::uint32_t bits, std::uint32_t code) {
  return (static_cast<std::int64_t>(n) << 40) | (static_cast<std::int64_t>(bits) << 8) | code;
}

// ---------------------------------------------------------------------------------------------
// Official hash pipeline: all cells of a group advance one refinement round at a time, and every
// MD5 message of a round is hashed by the multi-buffer kernel, bucketed by block count.

constexpr int kLabelMin = -2;
constexpr int kLabelSpan = 5;  // labels -2..2

struct InitialTable {
  // Digest of Python's str((out_degree, in_degree, label)) for degrees 0..7.
  std::uint8_t dig[8][8][kLabelSpan][16];
  InitialTable() {
    char buf[64];
    for (int o = 0; o < 8; ++o)
      for (int i = 0; i < 8; ++i)
        for (int l = 0; l < kLabelSpan; ++l) {
          const int len = std::snprintf(buf, sizeof buf, "(%d, %d, %d)", o, i, l + kLabelMin);
          md5(buf, static_cast<std::size_t>(len), dig[o][i][l]);
        }
  }
};

const InitialTable& initial_table() {
  static const InitialTable table;
  return table;
}

struct HashState {
  int n;
  Masks m;
  std::uint8_t dig[kMaxVertices][16];
  char hex[kMaxVertices][32];
  std::uint8_t order[kMaxVertices];  // vertices sorted by current digest
  std::uint64_t key[kMaxVertices][2]; // digests as big-endian integers (hex order)
};

inline std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

inline bool digest_less(const HashState& s, int a, int b) {
  return s.key[a][0] < s.key[b][0] || (s.key[a][0] == s.key[b][0] && s.key[a][1] < s.key[b][1]);
}

void sort_by_digest(HashState& s) {
  s.n = std::min(s.n, kMaxVertices);
  for (int v = 0; v < s.n; ++v) {
    s.order[v] = static_cast<std::uint8_t>(v);
    s.key[v][0] = load_be64(s.dig[v]);
    s.key[v][1] = load_be64(s.dig[v] + 8);
  }
  for (int i = 1; i < s.n; ++i) {
    const std::uint8_t key = s.order[i];
    int j = i - 1;
    while (j >= 0 && digest_less(s, key, s.order[j])) {
      s.order[j + 1] = s.order[j];
      --j;
    }
    s.order[j + 1] = key;
  }
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
      s.n = std::min<int>(cells[c].n, kMaxVertices);  // check_compact guarantees it
      s.m = masks_of(s.n, cells[c].bits);
      max_n = std::max(max_n, s.n);
      for (int v = 0; v < s.n; ++v) {
        const int o = popcount(s.m.out[v]), i = popcount(s.m.in[v]);
        std::memcpy(s.dig[v], table.dig[o][i][cells[c].labels[v] - kLabelMin], 16);
        md5_hex(s.dig[v], s.hex[v]);
      }
      sort_by_digest(s);
    }
    // Worst case per cell and round: 7 messages of at most 7*32+2 bytes, or one of 7*36 bytes.
    arena_.resize(g * kMaxVertices * md5_padded_len(kMaxVertices * 32 + 2));
    for (int round = 0; round <= max_n; ++round) {
      offsets_.clear();
      target_.clear();
      for (auto& b : bucket_) b.clear();
      std::size_t used = 0;
      for (std::size_t c = 0; c < g; ++c) {
        HashState& s = st_[c];
        if (round < s.n) {
          for (int v = 0; v < s.n; ++v) {
            std::uint8_t* p = arena_.data() + used;
            std::size_t len = 0;
            for (int k = 0; k < s.n; ++k) {
              const int w = s.order[k];
              if (s.m.in[v] & (1u << w)) {
                std::memcpy(p + len, s.hex[w], 32);
                len += 32;
              }
            }
            p[len++] = '|';
            for (int k = 0; k < s.n; ++k) {
              const int w = s.order[k];
              if (s.m.out[v] & (1u << w)) {
                std::memcpy(p + len, s.hex[w], 32);
                len += 32;
              }
            }
            p[len++] = '|';
            std::memcpy(p + len, s.hex[v], 32);
            len += 32;
            add_message(used, static_cast<std::uint32_t>(c * 8 + static_cast<std::size_t>(v)), len);
          }
        } else if (round == s.n) {
          // str(sorted(hashes)): "['h0', 'h1', ...]"
          std::uint8_t* p = arena_.data() + used;
          std::size_t len = 0;
          p[len++] = '[';
          for (int k = 0; k < s.n; ++k) {
            if (k) {
              p[len++] = ',';
              p[len++] = ' ';
            }
            p[len++] = '\'';
            std::memcpy(p + len, s.hex[s.order[k]], 32);
            len += 32;
            p[len++] = '\'';
          }
          p[len++] = ']';
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
        if (round < s.n) {
          for (int v = 0; v < s.n; ++v) md5_hex(s.dig[v], s.hex[v]);
          sort_by_digest(s);
        }
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
  const int n = cell.n;
  const Masks m = masks_of(n, cell.bits);
  std::uint32_t best_bits = ~0u, best_code = ~0u;
  for_each_order(n, m, [&](const std::uint8_t* order) {
    const std::uint32_t b = permuted_bits(n, m, order);
    if (b > best_bits) return true;
    const std::uint32_t code = label_code(n, cell.labels, order);
    if (b < best_bits || code < best_code) {
      best_bits = b;
      best_code = code;
    }
    return true;
  });
  return pack_key(n, best_bits, best_code);
}

std::int64_t pack_key(const Compact& cell) {
  check_compact(cell);
  std::uint8_t identity[kMaxVertices];
  for (int v = 0; v < kMaxVertices; ++v) identity[v] = static_cast<std::uint8_t>(v);
  return pack_key(cell.n, cell.bits, label_code(cell.n, cell.labels, identity));
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
  parallel_for(in.batch, threads, 512, [&](std::size_t begin, std::size_t end) {
    std::vector<Compact> valid;
    std::vector<std::size_t> valid_index;
    std::vector<std::uint8_t> from_in(N), from_out(N), keep(N);
    std::vector<int> stack;
    std::vector<int> new_index(N);
    for (std::size_t i = begin; i < end; ++i) {
      const std::int32_t nv = in.num_vertices[i];
      if (nv < 1 || static_cast<std::size_t>(nv) > N)
        throw std::invalid_argument("cell " + std::to_string(i) + ": num_vertices is " + std::to_string(nv) +
                                    ", expected 1.." + std::to_string(N));
      const auto n = static_cast<std::size_t>(nv);
      const std::uint8_t* M = in.matrices + i * N * N;
      const std::int8_t* L = in.labels + i * N;
      bool upper = true;
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < n; ++c) {
          const std::uint8_t e = M[r * N + c];
          if (e > 1)
            throw std::invalid_argument("cell " + std::to_string(i) + ": matrix entry [" + std::to_string(r) + "][" +
                                        std::to_string(c) + "] is " + std::to_string(e) + ", expected 0 or 1");
          if (e && c <= r) upper = false;
        }
      Status status = Status::kValid;
      std::size_t kept_count = 0;
      if (!upper) {
        status = Status::kNotUpperTriangular;
      } else {
        // Official ModelSpec._prune: DFS forward from the input, backward from the output.
        std::fill(from_in.begin(), from_in.end(), 0);
        std::fill(from_out.begin(), from_out.end(), 0);
        from_in[0] = 1;
        stack.assign(1, 0);
        while (!stack.empty()) {
          const auto t = static_cast<std::size_t>(stack.back());
          stack.pop_back();
          for (std::size_t v = t + 1; v < n; ++v)
            if (M[t * N + v] && !from_in[v]) {
              from_in[v] = 1;
              stack.push_back(static_cast<int>(v));
            }
        }
        from_out[n - 1] = 1;
        stack.assign(1, static_cast<int>(n - 1));
        while (!stack.empty()) {
          const auto t = static_cast<std::size_t>(stack.back());
          stack.pop_back();
          for (std::size_t v = 0; v < t; ++v)
            if (M[v * N + t] && !from_out[v]) {
              from_out[v] = 1;
              stack.push_back(static_cast<int>(v));
            }
        }
        for (std::size_t v = 0; v < n; ++v) {
          keep[v] = static_cast<std::uint8_t>(from_in[v] && from_out[v]);
          kept_count += keep[v];
        }
        if (kept_count < 2) {
          status = Status::kDisconnected;
          kept_count = 0;
        }
      }
      const bool pruned = status == Status::kValid;  // pruning produced a cell
      std::size_t edges = 0;
      if (pruned) {
        std::size_t k = 0;
        for (std::size_t v = 0; v < n; ++v) new_index[v] = keep[v] ? static_cast<int>(k++) : -1;
        for (std::size_t r = 0; r < n; ++r)
          if (keep[r])
            for (std::size_t c = r + 1; c < n; ++c) edges += (keep[c] && M[r * N + c]) ? 1 : 0;
        // Official _check_spec order: vertices, edges, first op, last op, interior ops.
        std::size_t first = 0, last = n - 1;
        if (kept_count > static_cast<std::size_t>(kMaxVertices)) {
          status = Status::kTooManyVertices;
        } else if (edges > static_cast<std::size_t>(kMaxEdges)) {
          status = Status::kTooManyEdges;
        } else if (L[first] != kInput) {
          status = Status::kBadFirstOp;
        } else if (L[last] != kOutput) {
          status = Status::kBadLastOp;
        } else {
          for (std::size_t v = 1; v + 1 < n; ++v)
            if (keep[v] && (L[v] < 0 || L[v] >= kNumInteriorOps)) status = Status::kBadOps;
        }
      }
      if (out.status) out.status[i] = static_cast<std::uint8_t>(status);
      if (out.kept) {
        std::uint8_t* K = out.kept + i * N;
        for (std::size_t v = 0; v < N; ++v) K[v] = (pruned && v < n) ? keep[v] : 0;
      }
      if (out.pruned_matrices) {
        std::uint8_t* P = out.pruned_matrices + i * N * N;
        std::memset(P, 0, N * N);
        if (pruned)
          for (std::size_t r = 0; r < n; ++r)
            if (keep[r])
              for (std::size_t c = r + 1; c < n; ++c)
                if (keep[c] && M[r * N + c])
                  P[static_cast<std::size_t>(new_index[r]) * N + static_cast<std::size_t>(new_index[c])] = 1;
      }
      if (out.pruned_labels) {
        std::int8_t* PL = out.pruned_labels + i * N;
        std::fill(PL, PL + N, kPadding);
        if (pruned)
          for (std::size_t v = 0; v < n; ++v)
            if (keep[v]) PL[new_index[v]] = L[v];
      }
      if (out.pruned_vertices) out.pruned_vertices[i] = pruned ? static_cast<std::int32_t>(kept_count) : 0;
      if (out.hashes) std::memset(out.hashes + 32 * i, 0, 32);
      if (out.canonical_keys) out.canonical_keys[i] = -1;
      if (status == Status::kValid) {
        Compact c;
        c.n = static_cast<std::uint8_t>(kept_count);
        for (std::size_t r = 0; r < n; ++r)
          if (keep[r]) {
            c.labels[new_index[r]] = L[r];
            for (std::size_t col = r + 1; col < n; ++col)
              if (keep[col] && M[r * N + col]) c.bits |= edge_bit(new_index[r], new_index[col]);
          }
        if (out.canonical_keys) out.canonical_keys[i] = canonical_key(c);
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
