// NAS-Bench-101 cells for host and device: validation and pruning as the official API does them
// (ModelSpec._prune + _check_spec), the canonical key (minimum over topological relabellings) and
// the official iterated-MD5 module hash of one cell. The C++ core (src/nb101.cpp) and the CUDA
// kernels (csrc/cuda/) both call these functions, so their results are the same by construction.
#pragma once

#include "pyengine/hd/common.hpp"
#include "pyengine/hd/md5.hpp"

namespace pyengine {
namespace nb101 {

// Official integer op labels; any other value is an unknown op.
constexpr signed char kInput = -1;
constexpr signed char kOutput = -2;
constexpr signed char kConv3x3 = 0;
constexpr signed char kConv1x1 = 1;
constexpr signed char kMaxPool3x3 = 2;
// Label written into padded slots of output arrays.
constexpr signed char kPadding = -3;

constexpr int kMaxVertices = 7;
constexpr int kMaxEdges = 9;
constexpr int kNumInteriorOps = 3;
// Largest padded vertex count a batch may have (n_max * n_max must fit an int).
constexpr int kMaxPaddedVertices = 46340;

enum class Status : unsigned char {
  kValid = 0,
  kNotUpperTriangular = 1,
  kDisconnected = 2,
  kTooManyVertices = 3,
  kTooManyEdges = 4,
  kBadFirstOp = 5,
  kBadLastOp = 6,
  kBadOps = 7,
};
constexpr int kNumStatus = 8;

namespace cell {

using hd::i32;
using hd::i64;
using hd::i8;
using hd::u32;
using hd::u64;
using hd::u8;

PYENGINE_HD inline u32 edge_bit(int x, int y) { return 1u << (y * (y - 1) / 2 + x); }

// In- and out-neighbour masks of a compact cell (n <= kMaxVertices).
struct Masks {
  u8 in[kMaxVertices];
  u8 out[kMaxVertices];
};

PYENGINE_HD inline Masks masks_of(int n, u32 bits) {
  Masks m;
  for (int v = 0; v < kMaxVertices; ++v) m.in[v] = m.out[v] = 0;
  if (n > kMaxVertices) n = kMaxVertices;
  for (int y = 1; y < n; ++y)
    for (int x = 0; x < y; ++x)
      if (bits & edge_bit(x, y)) {
        m.in[y] = static_cast<u8>(m.in[y] | (1u << x));
        m.out[x] = static_cast<u8>(m.out[x] | (1u << y));
      }
  return m;
}

// Calls fn(order) for every topological order of the DAG that keeps vertex 0 first and vertex
// n-1 last (order[p] is the vertex at position p), interior vertices tried in ascending order at
// each position. fn returns false to stop early. Iterative, so it runs on the device too.
template <class Fn>
PYENGINE_HD void for_each_order(int n, const Masks& m, Fn&& fn) {
  if (n < 2 || n > kMaxVertices) return;
  u8 order[kMaxVertices];
  order[0] = 0;
  order[n - 1] = static_cast<u8>(n - 1);
  if (n <= 2) {
    fn(static_cast<const u8*>(order));
    return;
  }
  const u32 interior = ((1u << (n - 1)) - 1) & ~1u;
  u8 placed[kMaxVertices];  // placed[pos]: vertices at positions < pos
  u8 avail[kMaxVertices];   // avail[pos]: candidates for position pos not tried yet
  int pos = 1;
  placed[1] = 1u;
  avail[1] = static_cast<u8>(interior & ~1u);
  while (pos >= 1) {
    // Skip candidates with an input not yet placed.
    while (avail[pos] && (m.in[hd::ctz32(avail[pos])] & ~placed[pos]))
      avail[pos] = static_cast<u8>(avail[pos] & (avail[pos] - 1));
    if (!avail[pos]) {
      --pos;
      continue;
    }
    const int v = hd::ctz32(avail[pos]);
    avail[pos] = static_cast<u8>(avail[pos] & (avail[pos] - 1));
    order[pos] = static_cast<u8>(v);
    const u8 now = static_cast<u8>(placed[pos] | (1u << v));
    if (pos + 1 == n - 1) {
      if (!fn(static_cast<const u8*>(order))) return;
    } else {
      ++pos;
      placed[pos] = now;
      avail[pos] = static_cast<u8>(interior & ~now);
    }
  }
}

// Official bits of the cell relabelled so that order[p] moves to position p.
PYENGINE_HD inline u32 permuted_bits(int n, const Masks& m, const u8* order) {
  u8 pos[kMaxVertices];
  for (int p = 0; p < n; ++p) pos[order[p]] = static_cast<u8>(p);
  u32 out = 0;
  for (int x = 0; x < n; ++x) {
    u32 o = m.out[x];
    while (o) {
      const int y = hd::ctz32(o);
      o &= o - 1;
      out |= edge_bit(pos[x], pos[y]);
    }
  }
  return out;
}

// Interior labels read in the given order as a base-3 number, first interior most significant.
PYENGINE_HD inline u32 label_code(int n, const i8* labels, const u8* order) {
  u32 code = 0;
  for (int p = 1; p < n - 1; ++p) code = code * 3 + static_cast<u32>(labels[order[p]]);
  return code;
}

PYENGINE_HD inline i64 pack_key(int n, u32 bits, u32 code) {
  return (static_cast<i64>(n) << 40) | (static_cast<i64>(bits) << 8) | static_cast<i64>(code);
}

// Canonical key of a valid compact cell (2..7 vertices, official bits, labels): the minimum over
// the topological orders of (n, bits, label code).
PYENGINE_HD inline i64 canonical_key(int n, u32 bits, const i8* labels) {
  const Masks m = masks_of(n, bits);
  u32 best_bits = ~0u, best_code = ~0u;
  for_each_order(n, m, [&](const u8* order) {
    const u32 b = permuted_bits(n, m, order);
    if (b > best_bits) return true;
    const u32 code = label_code(n, labels, order);
    if (b < best_bits || code < best_code) {
      best_bits = b;
      best_code = code;
    }
    return true;
  });
  return pack_key(n, best_bits, best_code);
}

// ---------------------------------------------------------------------------------------------
// Validation and pruning of one padded cell.

// Why a cell's arrays cannot be read at all (as opposed to a Status, which classifies a readable
// cell): the caller turns these into an error naming the cell.
enum Malformed : int {
  kWellFormed = 0,
  kBadNumVertices = 1,  // num_vertices outside 1..n_max
  kBadEntry = 2,        // a matrix entry other than 0/1 within the first num_vertices rows/columns
};

struct Processed {
  Status status;
  bool pruned;  // reachability pruning left a cell (status valid or one of the later checks)
  int kept;     // vertices kept by pruning (0 unless pruned)
  // The pruned cell in compact form, set when status is kValid.
  int n;
  u32 bits;
  i8 labels[kMaxVertices];
};

// Validates and prunes cell (M: n_max x n_max bytes, row-major; L: n_max labels; nv vertices in
// use). keep (n_max bytes) receives the vertices pruning keeps, scratch (n_max bytes) is work
// space. Returns kWellFormed and fills out, or a Malformed code (bad_entry = r * n_max + c for
// kBadEntry, the first such entry in row-major order).
PYENGINE_HD inline int process_cell(const u8* M, const i8* L, i32 nv, i32 n_max, u8* keep, u8* scratch,
                                    Processed* out, i32* bad_entry) {
  if (nv < 1 || nv > n_max) return kBadNumVertices;
  const int n = nv, N = n_max;
  bool upper = true;
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      const u8 e = M[r * N + c];
      if (e > 1) {
        *bad_entry = r * N + c;
        return kBadEntry;
      }
      if (e && c <= r) upper = false;
    }
  out->status = Status::kValid;
  out->pruned = false;
  out->kept = 0;
  out->n = 0;
  out->bits = 0;
  for (int v = 0; v < kMaxVertices; ++v) out->labels[v] = kPadding;
  for (int v = 0; v < N; ++v) keep[v] = 0;
  if (!upper) {
    out->status = Status::kNotUpperTriangular;
    return kWellFormed;
  }
  // Official ModelSpec._prune: vertices reachable from the input and reaching the output. Edges
  // only go from lower to higher indices, so one pass each way in index order finds them.
  u8* from_out = scratch;
  keep[0] = 1;
  for (int v = 1; v < n; ++v) {
    u8 r = 0;
    for (int t = 0; t < v && !r; ++t) r = static_cast<u8>(keep[t] && M[t * N + v]);
    keep[v] = r;
  }
  for (int v = 0; v < n; ++v) from_out[v] = 0;
  from_out[n - 1] = 1;
  for (int v = n - 2; v >= 0; --v) {
    u8 r = 0;
    for (int t = v + 1; t < n && !r; ++t) r = static_cast<u8>(M[v * N + t] && from_out[t]);
    from_out[v] = r;
  }
  int kept = 0;
  for (int v = 0; v < n; ++v) {
    keep[v] = static_cast<u8>(keep[v] && from_out[v]);
    kept += keep[v];
  }
  if (kept < 2) {
    for (int v = 0; v < n; ++v) keep[v] = 0;
    out->status = Status::kDisconnected;
    return kWellFormed;
  }
  out->pruned = true;
  out->kept = kept;
  int edges = 0;
  for (int r = 0; r < n; ++r)
    if (keep[r])
      for (int c = r + 1; c < n; ++c) edges += (keep[c] && M[r * N + c]) ? 1 : 0;
  // Official _check_spec order: vertices, edges, first op, last op, interior ops.
  if (kept > kMaxVertices) {
    out->status = Status::kTooManyVertices;
  } else if (edges > kMaxEdges) {
    out->status = Status::kTooManyEdges;
  } else if (L[0] != kInput) {
    out->status = Status::kBadFirstOp;
  } else if (L[n - 1] != kOutput) {
    out->status = Status::kBadLastOp;
  } else {
    for (int v = 1; v + 1 < n; ++v)
      if (keep[v] && (L[v] < 0 || L[v] >= kNumInteriorOps)) out->status = Status::kBadOps;
  }
  if (out->status != Status::kValid) return kWellFormed;
  // The compact form of the pruned cell.
  u8 index[kMaxVertices + 1];
  int k = 0;
  for (int v = 0; v < n; ++v)
    if (keep[v]) {
      index[k] = static_cast<u8>(v);
      out->labels[k++] = L[v];
    }
  out->n = kept;
  for (int y = 1; y < kept; ++y)
    for (int x = 0; x < y; ++x)
      if (M[index[x] * N + index[y]]) out->bits |= edge_bit(x, y);
  return kWellFormed;
}

// The pruned cell padded to n_max (P: n_max x n_max zero padded, PL: kPadding padded), as the
// official API's pruned matrix and ops; written only from what process_cell left in keep.
PYENGINE_HD inline void write_pruned(const u8* M, const i8* L, i32 nv, i32 n_max, const u8* keep, u8* P, i8* PL) {
  const int n = nv, N = n_max;
  for (int i = 0; i < N * N; ++i) P[i] = 0;
  for (int v = 0; v < N; ++v) PL[v] = kPadding;
  int row = 0;
  for (int r = 0; r < n; ++r) {
    if (!keep[r]) continue;
    int col = row + 1;
    for (int c = r + 1; c < n; ++c) {
      if (!keep[c]) continue;
      if (M[r * N + c]) P[row * N + col] = 1;
      ++col;
    }
    PL[row++] = L[r];
  }
}

// ---------------------------------------------------------------------------------------------
// The official module hash (NASBench api.hash_module): every vertex starts from md5 of
// str((out_degree, in_degree, label)); each of n rounds replaces a vertex's hash by md5 of its
// in-neighbours' hashes sorted and joined, '|', its out-neighbours' likewise, '|', its own; the
// fingerprint is md5 of str(sorted(hashes)). Hex strings sort as the digests' big-endian bytes.

constexpr int kMessageBytes = 256;  // longest message: str(sorted) of 7 hashes, 252 bytes

struct HashState {
  int n;
  Masks m;
  u8 dig[kMaxVertices][16];
  char hex[kMaxVertices][32];
  u8 order[kMaxVertices];      // vertices sorted by their current hash
  u64 key[kMaxVertices][2];    // digests as big-endian integers
};

// Python's str((out_degree, in_degree, label)) into buf; its length.
PYENGINE_HD inline u32 initial_message(int out_degree, int in_degree, int label, u8* buf) {
  u32 len = 0;
  buf[len++] = '(';
  buf[len++] = static_cast<u8>('0' + out_degree);
  buf[len++] = ',';
  buf[len++] = ' ';
  buf[len++] = static_cast<u8>('0' + in_degree);
  buf[len++] = ',';
  buf[len++] = ' ';
  if (label < 0) {
    buf[len++] = '-';
    label = -label;
  }
  buf[len++] = static_cast<u8>('0' + label);
  buf[len++] = ')';
  return len;
}

PYENGINE_HD inline u64 load_be64(const u8* p) {
  u64 v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// After new digests: their hex strings and the vertices' order by hash.
PYENGINE_HD inline void refresh(HashState& s) {
  for (int v = 0; v < s.n; ++v) {
    hd::md5_hex32(s.dig[v], s.hex[v]);
    s.order[v] = static_cast<u8>(v);
    s.key[v][0] = load_be64(s.dig[v]);
    s.key[v][1] = load_be64(s.dig[v] + 8);
  }
  for (int i = 1; i < s.n; ++i) {
    const u8 x = s.order[i];
    int j = i - 1;
    while (j >= 0 && (s.key[x][0] < s.key[s.order[j]][0] ||
                      (s.key[x][0] == s.key[s.order[j]][0] && s.key[x][1] < s.key[s.order[j]][1]))) {
      s.order[j + 1] = s.order[j];
      --j;
    }
    s.order[j + 1] = x;
  }
}

// The message of vertex v in a refinement round; its length (at most 226 bytes).
PYENGINE_HD inline u32 vertex_message(const HashState& s, int v, u8* buf) {
  u32 len = 0;
  for (int k = 0; k < s.n; ++k) {
    const int w = s.order[k];
    if (s.m.in[v] & (1u << w)) {
      hd::copy_bytes(buf + len, s.hex[w], 32);
      len += 32;
    }
  }
  buf[len++] = '|';
  for (int k = 0; k < s.n; ++k) {
    const int w = s.order[k];
    if (s.m.out[v] & (1u << w)) {
      hd::copy_bytes(buf + len, s.hex[w], 32);
      len += 32;
    }
  }
  buf[len++] = '|';
  hd::copy_bytes(buf + len, s.hex[v], 32);
  return len + 32;
}

// str(sorted(hashes)): "['h0', 'h1', ...]"; its length (at most 252 bytes).
PYENGINE_HD inline u32 final_message(const HashState& s, u8* buf) {
  u32 len = 0;
  buf[len++] = '[';
  for (int k = 0; k < s.n; ++k) {
    if (k) {
      buf[len++] = ',';
      buf[len++] = ' ';
    }
    buf[len++] = '\'';
    hd::copy_bytes(buf + len, s.hex[s.order[k]], 32);
    len += 32;
    buf[len++] = '\'';
  }
  buf[len++] = ']';
  return len;
}

// Sets up the state of a valid compact cell; the initial digests are the caller's.
PYENGINE_HD inline void hash_begin(HashState& s, int n, u32 bits) {
  s.n = n > kMaxVertices ? kMaxVertices : n;
  s.m = masks_of(s.n, bits);
}

// The whole hash of one valid compact cell, one MD5 at a time: 32 hex characters into hex_out.
PYENGINE_HD inline void official_hash(int n, u32 bits, const i8* labels, char* hex_out) {
  HashState s;
  hash_begin(s, n, bits);
  u8 buf[kMessageBytes];
  for (int v = 0; v < s.n; ++v) {
    const u32 len = initial_message(hd::popcount32(s.m.out[v]), hd::popcount32(s.m.in[v]), labels[v], buf);
    hd::md5_digest(buf, len, s.dig[v]);
  }
  refresh(s);
  u8 next[kMaxVertices][16];
  for (int round = 0; round < s.n; ++round) {
    for (int v = 0; v < s.n; ++v) hd::md5_digest(buf, vertex_message(s, v, buf), next[v]);
    for (int v = 0; v < s.n; ++v) hd::copy_bytes(s.dig[v], next[v], 16);
    refresh(s);
  }
  u8 fingerprint[16];
  hd::md5_digest(buf, final_message(s, buf), fingerprint);
  hd::md5_hex32(fingerprint, hex_out);
}

// Everything one cell of a batch gets, as one call (one device thread per cell runs exactly
// this): status byte, canonical key (-1 unless valid), the official hash (hash may be null; 32
// zero bytes unless valid), and malformed: 0 for a readable cell, -1 for num_vertices outside
// 1..n_max, 1 + r * n_max + c for a matrix entry [r][c] other than 0/1 (status then 0xFF).
PYENGINE_HD inline void process_one(const u8* M, const i8* L, i32 nv, i32 n_max, u8* keep, u8* scratch, u8* status,
                                    i64* key, char* hash, i32* malformed) {
  Processed r;
  i32 bad = 0;
  const int m = process_cell(M, L, nv, n_max, keep, scratch, &r, &bad);
  *malformed = m == kWellFormed ? 0 : (m == kBadNumVertices ? -1 : 1 + bad);
  *key = -1;
  if (hash)
    for (int k = 0; k < 32; ++k) hash[k] = 0;
  if (m != kWellFormed) {
    *status = 0xFF;
    return;
  }
  *status = static_cast<u8>(r.status);
  if (r.status != Status::kValid) return;
  *key = canonical_key(r.n, r.bits, r.labels);
  if (hash) official_hash(r.n, r.bits, r.labels, hash);
}

// ---------------------------------------------------------------------------------------------
// A counter-based stream of random specs: candidate `index` of the stream `seed` is a function of
// (seed, index) alone, so host and device, any chunking and any number of threads draw the same
// stream. Each of the 21 upper-triangular edges of a 7-vertex matrix is present with probability
// edge_threshold / 2^32; the 5 interior ops are uniform over 0..2; input first, output last.

PYENGINE_HD inline u64 splitmix64(u64& state) {
  u64 z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The threshold of an edge probability p in [0, 1].
PYENGINE_HD inline u64 edge_threshold(double p) {
  if (!(p > 0.0)) return 0;
  if (p >= 1.0) return 1ull << 32;
  return static_cast<u64>(p * 4294967296.0);
}

// Writes candidate `index` of stream `seed`: M (7 x 7 bytes, row-major), L (7 labels).
PYENGINE_HD inline void random_spec(u64 seed, u64 index, u64 threshold, u8* M, i8* L) {
  u64 s = seed;
  s = splitmix64(s) ^ (index * 0xd1342543de82ef95ull + 0x632be59bd9b4e019ull);
  for (int k = 0; k < kMaxVertices * kMaxVertices; ++k) M[k] = 0;
  u64 word = 0;
  int used = 2;  // 32-bit halves of `word` consumed
  for (int y = 1; y < kMaxVertices; ++y)
    for (int x = 0; x < y; ++x) {
      if (used == 2) {
        word = splitmix64(s);
        used = 0;
      }
      const u64 u = (word >> (32 * used++)) & 0xffffffffull;
      M[x * kMaxVertices + y] = static_cast<u8>(u < threshold);
    }
  L[0] = kInput;
  L[kMaxVertices - 1] = kOutput;
  for (int v = 1; v < kMaxVertices - 1; ++v) {
    if (used == 2) {
      word = splitmix64(s);
      used = 0;
    }
    const u64 u = (word >> (32 * used++)) & 0xffffffffull;
    L[v] = static_cast<i8>((u * 3) >> 32);
  }
}

// Sample and process in one: status and canonical key of candidate `index` of stream `seed`.
PYENGINE_HD inline void stream_one(u64 seed, u64 index, u64 threshold, u8* status, i64* key) {
  u8 M[kMaxVertices * kMaxVertices];
  i8 L[kMaxVertices];
  random_spec(seed, index, threshold, M, L);
  u8 keep[kMaxVertices], scratch[kMaxVertices];
  i32 malformed = 0;
  process_one(M, L, kMaxVertices, kMaxVertices, keep, scratch, status, key, nullptr, &malformed);
}

}  // namespace cell
}  // namespace nb101
}  // namespace pyengine
