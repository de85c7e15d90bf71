// Fuzz target for the NAS-Bench-101 core: bytes -> a padded batch of matrices, labels and vertex
// counts through nb101::process (validate, prune, hash, canonical key), compact cells through
// hash_compact / canonical_key / pack_key, and raw keys through decode_key.
//
// Malformed input must end in std::invalid_argument exactly when the documented contract says
// so; every valid cell must satisfy the invariants checked below.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "pyengine/md5.hpp"
#include "pyengine/nb101.hpp"

using namespace pyengine;
using pyengine::fuzz::Reader;
using pyengine::fuzz::rejects;

namespace {

constexpr int kMaxV = nb101::kMaxVertices;

std::uint32_t edge_bit(int x, int y) { return 1u << (y * (y - 1) / 2 + x); }

bool compact_is_valid(const nb101::Compact& c) {
  if (c.n < 2 || c.n > kMaxV) return false;
  if (c.labels[0] != nb101::kInput || c.labels[c.n - 1] != nb101::kOutput) return false;
  for (int v = 1; v < c.n - 1; ++v)
    if (c.labels[v] < 0 || c.labels[v] > 2) return false;
  const int e = c.n * (c.n - 1) / 2;
  return (c.bits >> e) == 0;
}

std::string hash_with(const nb101::Compact& c, const char* backend) {
  const std::string before = md5_backend();
  md5_set_backend(backend);
  std::string h = nb101::hash_one(c);
  md5_set_backend(before);
  return h;
}

// The cell relabelled by a topological order (input first, output last) drawn from the input.
nb101::Compact relabel(const nb101::Compact& c, Reader& r) {
  const int n = c.n;
  std::uint8_t in[kMaxV] = {};
  for (int y = 1; y < n; ++y)
    for (int x = 0; x < y; ++x)
      if (c.bits & edge_bit(x, y)) in[y] = static_cast<std::uint8_t>(in[y] | (1u << x));
  int order[kMaxV];
  order[0] = 0;
  order[n - 1] = n - 1;
  unsigned placed = 1u;
  for (int p = 1; p < n - 1; ++p) {
    int avail[kMaxV];
    unsigned count = 0;
    for (int v = 1; v < n - 1; ++v)
      if (!(placed & (1u << v)) && (in[v] & ~placed) == 0) avail[count++] = v;
    FUZZ_CHECK(count > 0);  // an upper-triangular matrix always has a next vertex
    order[p] = avail[r.below(count)];
    placed |= 1u << order[p];
  }
  int pos[kMaxV];
  for (int p = 0; p < n; ++p) pos[order[p]] = p;
  nb101::Compact out;
  out.n = c.n;
  for (int v = 0; v < n; ++v) out.labels[pos[v]] = c.labels[v];
  for (int y = 1; y < n; ++y)
    for (int x = 0; x < y; ++x)
      if (c.bits & edge_bit(x, y)) out.bits |= edge_bit(pos[x], pos[y]);
  return out;
}

struct Result {
  std::vector<std::uint8_t> status, kept, pruned;
  std::vector<std::int8_t> pruned_labels;
  std::vector<std::int32_t> pruned_n;
  std::vector<char> hashes;
  std::vector<std::int64_t> keys;

  Result(std::size_t batch, std::size_t n)
      : status(batch), kept(batch * n), pruned(batch * n * n), pruned_labels(batch * n), pruned_n(batch),
        hashes(32 * batch), keys(batch) {}

  nb101::BatchOutput view() {
    nb101::BatchOutput out;
    out.status = status.data();
    out.kept = kept.data();
    out.pruned_matrices = pruned.data();
    out.pruned_labels = pruned_labels.data();
    out.pruned_vertices = pruned_n.data();
    out.hashes = hashes.data();
    out.canonical_keys = keys.data();
    return out;
  }
  bool operator==(const Result& o) const {
    return status == o.status && kept == o.kept && pruned == o.pruned && pruned_labels == o.pruned_labels &&
           pruned_n == o.pruned_n && hashes == o.hashes && keys == o.keys;
  }
};

// Runs one well-formed cell alone through process() and returns its outputs.
Result process_one(const std::vector<std::uint8_t>& m, const std::vector<std::int8_t>& l, std::size_t n) {
  const std::int32_t nv = static_cast<std::int32_t>(n);
  Result res(1, n);
  nb101::process({m.data(), l.data(), &nv, 1, n}, res.view(), 1);
  return res;
}

void check_valid_cell(const Result& res, std::size_t i, std::size_t N, Reader& r) {
  const std::int32_t pv = res.pruned_n[i];
  FUZZ_CHECK(pv >= 2 && pv <= kMaxV);
  const auto n = static_cast<std::size_t>(pv);
  std::size_t kept = 0;
  for (std::size_t v = 0; v < N; ++v) kept += res.kept[i * N + v];
  FUZZ_CHECK(kept == n);
  const char* hash = res.hashes.data() + 32 * i;
  for (int k = 0; k < 32; ++k) FUZZ_CHECK((hash[k] >= '0' && hash[k] <= '9') || (hash[k] >= 'a' && hash[k] <= 'f'));
  const std::string h(hash, 32);

  // The pruned cell, as compact and as a dense n x n cell.
  nb101::Compact c;
  c.n = static_cast<std::uint8_t>(n);
  std::vector<std::uint8_t> dense(n * n);
  std::vector<std::int8_t> dense_labels(n);
  for (std::size_t x = 0; x < N; ++x) {
    const std::int8_t lab = res.pruned_labels[i * N + x];
    if (x < n) {
      c.labels[x] = lab;
      dense_labels[x] = lab;
    } else {
      FUZZ_CHECK(lab == nb101::kPadding);
    }
    for (std::size_t y = 0; y < N; ++y) {
      const std::uint8_t e = res.pruned[i * N * N + x * N + y];
      FUZZ_CHECK(e <= 1);
      if (!e) continue;
      FUZZ_CHECK(x < y && y < n);
      c.bits |= edge_bit(static_cast<int>(x), static_cast<int>(y));
      dense[x * n + y] = 1;
    }
  }
  FUZZ_CHECK(compact_is_valid(c));

  // Canonical key: the minimum over relabellings, a fixed point of decode/re-canonicalise.
  const std::int64_t key = res.keys[i];
  FUZZ_CHECK(key >= 0);
  FUZZ_CHECK(nb101::canonical_key(c) == key);
  FUZZ_CHECK(key <= nb101::pack_key(c));
  const nb101::Compact d = nb101::decode_key(key);
  FUZZ_CHECK(d.n == c.n);
  FUZZ_CHECK(nb101::pack_key(d) == key);
  FUZZ_CHECK(nb101::canonical_key(d) == key);

  // Hash: the same for the pruned cell, its canonical form and any relabelling, on any backend.
  FUZZ_CHECK(nb101::hash_one(c) == h);
  FUZZ_CHECK(hash_with(d, "scalar") == h);
  const nb101::Compact p = relabel(c, r);
  FUZZ_CHECK(nb101::canonical_key(p) == key);
  FUZZ_CHECK(nb101::hash_one(p) == h);

  // Pruning is idempotent: the pruned cell is valid, keeps every vertex, and hashes the same.
  const Result again = process_one(dense, dense_labels, n);
  FUZZ_CHECK(again.status[0] == static_cast<std::uint8_t>(nb101::Status::kValid));
  FUZZ_CHECK(again.pruned_n[0] == pv);
  FUZZ_CHECK(std::all_of(again.kept.begin(), again.kept.end(), [](std::uint8_t k) { return k == 1; }));
  FUZZ_CHECK(again.pruned == dense);
  FUZZ_CHECK(again.pruned_labels == dense_labels);
  FUZZ_CHECK(std::string(again.hashes.data(), 32) == h);
  FUZZ_CHECK(again.keys[0] == key);
}

void fuzz_batch(Reader& r) {
  const std::size_t N = r.below(10);  // n_max 0..9
  const std::size_t batch = 1 + r.below(4);
  const std::uint8_t pad = r.byte();
  std::vector<std::uint8_t> mats(batch * N * N, pad);
  std::vector<std::int8_t> labels(batch * N, static_cast<std::int8_t>(pad));
  std::vector<std::int32_t> nv(batch);
  std::vector<bool> lower(batch, false);
  bool malformed = N == 0;
  for (std::size_t i = 0; i < batch; ++i) {
    // Cell flags: bit 0 raw vertex count, bit 1 lower entries, bit 2 raw entries, bit 3 raw labels.
    const std::uint8_t flags = r.byte();
    if ((flags & 1) && r.bit()) {
      nv[i] = r.sbyte();
    } else {
      nv[i] = N == 0 ? 0 : static_cast<std::int32_t>(1 + r.below(static_cast<unsigned>(N)));
    }
    const bool bad_n = nv[i] < 1 || static_cast<std::size_t>(nv[i]) > N;
    malformed = malformed || bad_n;
    const std::size_t n = bad_n ? std::min<std::size_t>(N, 1) : static_cast<std::size_t>(nv[i]);
    for (std::size_t x = 0; x < n; ++x)
      for (std::size_t y = 0; y < n; ++y) {
        std::uint8_t e = 0;
        if (flags & 4) {
          e = r.byte();
          if (e < 0xF0) e = static_cast<std::uint8_t>(x < y && (e & 1));
        } else if (x < y || (flags & 2)) {
          e = r.bit() ? 1 : 0;
          if (x >= y && e) e = r.bit() ? 1 : 0;  // lower entries rarer than upper ones
        }
        if (e > 1 && !bad_n) malformed = true;
        if (e && y <= x) lower[i] = true;
        mats[i * N * N + x * N + y] = e;
      }
    for (std::size_t v = 0; v < n; ++v) {
      std::int8_t lab;
      if (flags & 8) {
        lab = r.sbyte();
      } else if (v == 0) {
        lab = nb101::kInput;
      } else if (v + 1 == n) {
        lab = nb101::kOutput;
      } else {
        lab = static_cast<std::int8_t>(r.below(3));
      }
      labels[i * N + v] = lab;
    }
  }

  Result res(batch, N);
  if (rejects([&] { nb101::process({mats.data(), labels.data(), nv.data(), batch, N}, res.view(), 1); })) {
    FUZZ_CHECK(malformed);
    return;
  }
  FUZZ_CHECK(!malformed);

  // Padding (entries past each cell's vertex count) never changes a result.
  std::vector<std::uint8_t> mats2(mats);
  std::vector<std::int8_t> labels2(labels);
  for (std::size_t i = 0; i < batch; ++i) {
    const auto n = static_cast<std::size_t>(nv[i]);
    for (std::size_t x = 0; x < N; ++x) {
      if (x >= n) labels2[i * N + x] = static_cast<std::int8_t>(~labels2[i * N + x]);
      for (std::size_t y = 0; y < N; ++y)
        if (x >= n || y >= n) mats2[i * N * N + x * N + y] = static_cast<std::uint8_t>(~pad);
    }
  }
  Result res2(batch, N);
  nb101::process({mats2.data(), labels2.data(), nv.data(), batch, N}, res2.view(), 1);
  FUZZ_CHECK(res == res2);

  for (std::size_t i = 0; i < batch; ++i) {
    const std::uint8_t st = res.status[i];
    FUZZ_CHECK(st < nb101::kNumStatus);
    FUZZ_CHECK((st == static_cast<std::uint8_t>(nb101::Status::kNotUpperTriangular)) == lower[i]);
    if (st == static_cast<std::uint8_t>(nb101::Status::kValid)) {
      check_valid_cell(res, i, N, r);
    } else {
      FUZZ_CHECK(res.keys[i] == -1);
      for (int k = 0; k < 32; ++k) FUZZ_CHECK(res.hashes[32 * i + static_cast<std::size_t>(k)] == 0);
    }
  }
}

nb101::Compact read_compact(Reader& r) {
  nb101::Compact c;
  const std::uint8_t flags = r.byte();
  c.n = (flags & 1) ? r.byte() : static_cast<std::uint8_t>(2 + r.below(6));
  const int e = c.n >= 2 && c.n <= kMaxV ? c.n * (c.n - 1) / 2 : 21;
  c.bits = r.u32();
  if (!(flags & 2)) c.bits &= (1u << e) - 1;
  for (int v = 0; v < kMaxV; ++v) {
    if (flags & 4) {
      c.labels[v] = r.sbyte();
    } else if (v == 0) {
      c.labels[v] = nb101::kInput;
    } else if (v + 1 == c.n) {
      c.labels[v] = nb101::kOutput;
    } else {
      c.labels[v] = static_cast<std::int8_t>(r.below(3));
    }
  }
  return c;
}

void fuzz_compact(Reader& r) {
  const std::size_t count = 1 + r.below(3);
  std::vector<nb101::Compact> cells(count);
  bool all_valid = true;
  for (auto& c : cells) {
    c = read_compact(r);
    all_valid = all_valid && compact_is_valid(c);
  }
  std::vector<char> hex(32 * count);
  FUZZ_CHECK(rejects([&] { nb101::hash_compact(cells.data(), count, hex.data(), 1); }) == !all_valid);
  for (std::size_t i = 0; i < count; ++i) {
    const nb101::Compact& c = cells[i];
    const bool valid = compact_is_valid(c);
    std::int64_t key = -1, packed = -1;
    std::string h;
    const int threw = int(rejects([&] { key = nb101::canonical_key(c); })) +
                      int(rejects([&] { packed = nb101::pack_key(c); })) +
                      int(rejects([&] { h = nb101::hash_one(c); }));
    FUZZ_CHECK(threw == (valid ? 0 : 3));
    if (!valid) continue;
    if (all_valid) FUZZ_CHECK(h == std::string(hex.data() + 32 * i, 32));
    FUZZ_CHECK(key >= 0 && key <= packed);
    const nb101::Compact d = nb101::decode_key(key);
    FUZZ_CHECK(nb101::canonical_key(d) == key);
    FUZZ_CHECK(nb101::hash_one(d) == h);
    FUZZ_CHECK(nb101::canonical_key(relabel(c, r)) == key);
    // The dense form: when nothing is pruned, process() agrees with the compact functions.
    const std::size_t n = c.n;
    std::vector<std::uint8_t> dense(n * n);
    std::vector<std::int8_t> dense_labels(c.labels, c.labels + n);
    for (std::size_t y = 1; y < n; ++y)
      for (std::size_t x = 0; x < y; ++x)
        if (c.bits & edge_bit(static_cast<int>(x), static_cast<int>(y))) dense[x * n + y] = 1;
    const Result res = process_one(dense, dense_labels, n);
    if (res.status[0] == static_cast<std::uint8_t>(nb101::Status::kValid) &&
        res.pruned_n[0] == static_cast<std::int32_t>(n)) {
      FUZZ_CHECK(res.keys[0] == key);
      FUZZ_CHECK(std::string(res.hashes.data(), 32) == h);
    }
  }
}

void fuzz_key(Reader& r) {
  std::int64_t key;
  const std::uint8_t flags = r.byte();
  if (flags & 1) {
    key = static_cast<std::int64_t>(r.u64());
  } else {
    const std::int64_t n = 2 + r.below(6);
    key = (n << 40) | (static_cast<std::int64_t>(r.u32() & ((1u << (n * (n - 1) / 2)) - 1)) << 8) | r.byte();
  }
  bool valid = false;
  if (key >= 0) {
    const std::int64_t n = key >> 40;
    if (n >= 2 && n <= kMaxV) {
      const auto bits = static_cast<std::uint32_t>((key >> 8) & 0xffffffff);
      std::int64_t codes = 1;
      for (std::int64_t p = 0; p < n - 2; ++p) codes *= 3;
      valid = (bits >> (n * (n - 1) / 2)) == 0 && (key & 0xff) < codes;
    }
  }
  nb101::Compact d;
  if (rejects([&] { d = nb101::decode_key(key); })) {
    FUZZ_CHECK(!valid);
    return;
  }
  FUZZ_CHECK(valid);
  FUZZ_CHECK(compact_is_valid(d));
  FUZZ_CHECK(nb101::pack_key(d) == key);
  const std::int64_t canon = nb101::canonical_key(d);
  FUZZ_CHECK(canon <= key);
  FUZZ_CHECK(nb101::canonical_key(nb101::decode_key(canon)) == canon);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> backends = md5_available_backends();
  Reader r(data, size);
  const std::uint8_t mode = r.byte();
  md5_set_backend(backends[static_cast<std::size_t>(mode >> 4) % backends.size()]);
  switch (mode & 3) {
    case 0:
    case 1: fuzz_batch(r); break;
    case 2: fuzz_compact(r); break;
    default: fuzz_key(r); break;
  }
  return 0;
}
