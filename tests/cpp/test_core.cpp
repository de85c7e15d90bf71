// C++ tests of the graph core, one CTest test per name: `test_core NAME`.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "pyengine/darts.hpp"
#include "pyengine/md5.hpp"
#include "pyengine/nb101.hpp"
#include "pyengine/nb201.hpp"

using namespace pyengine;

namespace {

int failures = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

std::string hex_of(const std::string& s) {
  std::uint8_t d[16];
  md5(s.data(), s.size(), d);
  return md5_hex(d);
}

void md5_rfc1321_vectors() {
  CHECK(hex_of("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(hex_of("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(hex_of("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(hex_of("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
        "57edf4a22be3c955ac49da2e2107b67a");
}

void md5_backends_agree() {
  std::mt19937 rng(7);
  for (std::size_t len : {0u, 1u, 55u, 56u, 63u, 64u, 119u, 120u, 200u, 300u}) {
    const std::size_t count = 37;  // not a multiple of any lane width
    const std::size_t padded = md5_padded_len(len);
    std::vector<std::uint8_t> arena(count * padded);
    std::vector<std::uint32_t> offsets(count), ids(count);
    std::vector<std::string> msgs(count);
    for (std::size_t i = 0; i < count; ++i) {
      msgs[i].resize(len);
      for (auto& c : msgs[i]) c = static_cast<char>('a' + rng() % 26);
      offsets[i] = static_cast<std::uint32_t>(i * padded);
      ids[i] = static_cast<std::uint32_t>(count - 1 - i);
      std::memcpy(arena.data() + i * padded, msgs[i].data(), len);
      md5_pad(arena.data() + i * padded, len);
    }
    for (const auto& be : md5_available_backends()) {
      md5_set_backend(be);
      std::vector<std::uint8_t> out(16 * count);
      md5_padded_many(arena.data(), offsets.data(), ids.data(), count, static_cast<unsigned>(padded / 64),
                      reinterpret_cast<std::uint8_t(*)[16]>(out.data()));
      for (std::size_t i = 0; i < count; ++i) {
        if (md5_hex(out.data() + 16 * i) != hex_of(msgs[i]))
          std::fprintf(stderr, "backend %s, length %zu, message %zu differs\n", be.c_str(), len, i);
        CHECK(md5_hex(out.data() + 16 * i) == hex_of(msgs[i]));
      }
    }
  }
  bool threw = false;
  try {
    md5_set_backend("neon9");
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  md5_set_backend(md5_available_backends().back());
}

nb101::Compact compact_from(const std::vector<std::vector<int>>& m, const std::vector<int>& labels) {
  nb101::Compact c;
  c.n = static_cast<std::uint8_t>(labels.size());
  for (int y = 0; y < c.n; ++y) {
    c.labels[y] = static_cast<std::int8_t>(labels[static_cast<std::size_t>(y)]);
    for (int x = 0; x < y; ++x)
      if (m[static_cast<std::size_t>(x)][static_cast<std::size_t>(y)]) c.bits |= 1u << (y * (y - 1) / 2 + x);
  }
  return c;
}

void nb101_official_hash_golden() {
  // First record of the NAS-Bench-101 export nb101_1k_cells.json.
  const auto c = compact_from({{0, 1, 0, 0, 1, 1, 0},
                               {0, 0, 1, 0, 0, 0, 0},
                               {0, 0, 0, 1, 0, 0, 1},
                               {0, 0, 0, 0, 0, 1, 0},
                               {0, 0, 0, 0, 0, 1, 0},
                               {0, 0, 0, 0, 0, 0, 1},
                               {0, 0, 0, 0, 0, 0, 0}},
                              {-1, 0, 2, 0, 0, 1, -2});
  for (const auto& be : md5_available_backends()) {
    md5_set_backend(be);
    CHECK(nb101::hash_one(c) == "00005c142e6f48ac74fdcf73e3439874");
  }
}

struct Dense {
  std::size_t n;
  std::vector<std::uint8_t> m;
  std::vector<std::int8_t> l;
};

std::vector<std::uint8_t> run_status(const std::vector<Dense>& cells, std::size_t nmax) {
  std::vector<std::uint8_t> mats(cells.size() * nmax * nmax, 0);
  std::vector<std::int8_t> labs(cells.size() * nmax, nb101::kPadding);
  std::vector<std::int32_t> nv(cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    nv[i] = static_cast<std::int32_t>(cells[i].n);
    for (std::size_t r = 0; r < cells[i].n; ++r) {
      labs[i * nmax + r] = cells[i].l[r];
      for (std::size_t c = 0; c < cells[i].n; ++c) mats[i * nmax * nmax + r * nmax + c] = cells[i].m[r * cells[i].n + c];
    }
  }
  std::vector<std::uint8_t> status(cells.size());
  nb101::BatchView in{mats.data(), labs.data(), nv.data(), cells.size(), nmax};
  nb101::BatchOutput out;
  out.status = status.data();
  nb101::process(in, out, 1);
  return status;
}

void nb101_reasons() {
  using S = nb101::Status;
  std::vector<Dense> cells = {
      {2, {0, 1, 0, 0}, {-1, -2}},           // valid
      {2, {0, 1, 1, 0}, {-1, -2}},           // lower entry
      {2, {0, 0, 0, 0}, {-1, -2}},           // no path
      {1, {0}, {-1}},                        // single vertex
      {3, {0, 1, 0, 0, 0, 1, 0, 0, 0}, {-2, 0, -2}},
      {3, {0, 1, 0, 0, 0, 1, 0, 0, 0}, {-1, 0, -1}},
      {3, {0, 1, 0, 0, 0, 1, 0, 0, 0}, {-1, 5, -2}},
      {3, {0, 1, 1, 0, 0, 0, 0, 0, 0}, {-1, 5, -2}},  // vertex 1 pruned: its op does not matter
  };
  const auto st = run_status(cells, 3);
  CHECK(st[0] == static_cast<std::uint8_t>(S::kValid));
  CHECK(st[1] == static_cast<std::uint8_t>(S::kNotUpperTriangular));
  CHECK(st[2] == static_cast<std::uint8_t>(S::kDisconnected));
  CHECK(st[3] == static_cast<std::uint8_t>(S::kDisconnected));
  CHECK(st[4] == static_cast<std::uint8_t>(S::kBadFirstOp));
  CHECK(st[5] == static_cast<std::uint8_t>(S::kBadLastOp));
  CHECK(st[6] == static_cast<std::uint8_t>(S::kBadOps));
  CHECK(st[7] == static_cast<std::uint8_t>(S::kValid));
  // 8 vertices in a chain: too many; 6 vertices fully connected: 15 edges
  Dense chain{8, std::vector<std::uint8_t>(64, 0), {-1, 0, 0, 0, 0, 0, 0, -2}};
  for (std::size_t i = 0; i + 1 < 8; ++i) chain.m[i * 8 + i + 1] = 1;
  Dense full{6, std::vector<std::uint8_t>(36, 0), {-1, 0, 0, 0, 0, -2}};
  for (std::size_t r = 0; r < 6; ++r)
    for (std::size_t c = r + 1; c < 6; ++c) full.m[r * 6 + c] = 1;
  const auto st2 = run_status({chain, full}, 8);
  CHECK(st2[0] == static_cast<std::uint8_t>(S::kTooManyVertices));
  CHECK(st2[1] == static_cast<std::uint8_t>(S::kTooManyEdges));
  CHECK(std::string(nb101::status_name(S::kTooManyEdges)) == "too_many_edges");
}

void nb101_malformed_throws() {
  bool threw = false;
  try {
    run_status({{2, {0, 2, 0, 0}, {-1, -2}}}, 2);
  } catch (const std::invalid_argument& e) {
    threw = std::string(e.what()).find("[0][1] is 2") != std::string::npos;
  }
  CHECK(threw);
  threw = false;
  try {
    run_status({{0, {}, {}}}, 2);
  } catch (const std::invalid_argument& e) {
    threw = std::string(e.what()).find("num_vertices") != std::string::npos;
  }
  CHECK(threw);
  threw = false;
  try {
    nb101::decode_key(std::int64_t{9} << 40);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

void nb101_enumeration() {
  const auto cells = nb101::enumerate_space(0);
  CHECK(cells.size() == nb101::kSpaceSize);
  std::int64_t prev = -1;
  bool sorted = true, canonical = true;
  for (std::size_t i = 0; i < cells.size(); i += (i < 1000 ? 1 : 101)) {
    const std::int64_t k = nb101::canonical_key(cells[i]);
    const auto d = nb101::decode_key(k);
    canonical = canonical && d.bits == cells[i].bits && d.n == cells[i].n &&
                std::equal(d.labels, d.labels + d.n, cells[i].labels);
    sorted = sorted && k > prev;
    prev = k;
  }
  CHECK(sorted);
  CHECK(canonical);
  std::vector<char> hex(32 * cells.size());
  nb101::hash_compact(cells.data(), cells.size(), hex.data(), 0);
  std::vector<std::string> hs(cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) hs[i].assign(hex.data() + 32 * i, 32);
  std::sort(hs.begin(), hs.end());
  CHECK(std::adjacent_find(hs.begin(), hs.end()) == hs.end());  // one hash per class
}

void nb101_canonical_relabel() {
  // A diamond with two different branches, written in both topological orders.
  const auto a = compact_from({{0, 1, 1, 0}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 0}}, {-1, 0, 2, -2});
  const auto b = compact_from({{0, 1, 1, 0}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 0}}, {-1, 2, 0, -2});
  const auto c = compact_from({{0, 1, 1, 0}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 0}}, {-1, 2, 2, -2});
  CHECK(nb101::canonical_key(a) == nb101::canonical_key(b));
  CHECK(nb101::canonical_key(a) != nb101::canonical_key(c));
  CHECK(nb101::hash_one(a) == nb101::hash_one(b));
}

void nb101_pack_key_checks() {
  // pack_key read past its 7-entry identity order for vertex counts above 8 (found by fuzzing).
  nb101::Compact c;
  c.labels[0] = nb101::kInput;
  for (const std::uint8_t n : {std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{8}, std::uint8_t{9}, std::uint8_t{255}}) {
    c.n = n;
    bool threw = false;
    try {
      nb101::pack_key(c);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    CHECK(threw);
  }
  const auto ok = compact_from({{0, 1, 0}, {0, 0, 1}, {0, 0, 0}}, {-1, 2, -2});
  CHECK(nb101::pack_key(ok) == ((std::int64_t{3} << 40) | (std::int64_t{5} << 8) | 2));
  CHECK(nb101::pack_key(nb101::decode_key(nb101::pack_key(ok))) == nb101::pack_key(ok));
}

void nb201_classes() {
  std::vector<std::int32_t> rep(nb201::kNumCells), cls(nb201::kNumCells);
  nb201::space_classes(rep.data(), cls.data(), 0);
  CHECK(*std::max_element(cls.begin(), cls.end()) + 1 == nb201::kNumClasses);
  const std::int8_t skip[6] = {1, 1, 1, 1, 1, 1};
  CHECK(nb201::unique_str(skip) == "0+0+0+0");
  std::int8_t ops[6];
  nb201::cell_ops(1234, ops);
  CHECK(nb201::cell_index(ops) == 1234);
  bool threw = false;
  try {
    const std::int8_t bad[6] = {0, 0, 0, 0, 0, 9};
    nb201::unique_str(bad);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

void darts_canonical() {
  // Nodes 2 and 3 both read only the inputs: renumbering them (and swapping edges) is an isomorph.
  const std::int8_t a[16] = {0, 3, 1, 4, 0, 5, 1, 6, 2, 0, 3, 1, 2, 2, 4, 3};
  const std::int8_t b[16] = {1, 6, 0, 5, 0, 3, 1, 4, 3, 0, 2, 1, 3, 2, 4, 3};
  const std::int8_t c[16] = {0, 3, 1, 4, 0, 5, 1, 6, 2, 0, 3, 1, 2, 2, 4, 4};
  std::int32_t fa = 0, fb = 0;
  const std::uint64_t ka = darts::canonical_key(a, &fa);
  CHECK(ka == darts::canonical_key(b, &fb));
  CHECK(ka != darts::canonical_key(c, nullptr));
  CHECK(fa == 2 && fb == 2);
  std::int8_t decoded[16];
  darts::decode_key(ka, decoded);
  CHECK(darts::canonical_key(decoded, nullptr) == ka);
  // random cells: the key is idempotent and invariant under edge swaps
  std::mt19937 rng(5);
  bool ok = true;
  for (int t = 0; t < 2000; ++t) {
    std::int8_t cell[16], swapped[16], canon[16];
    for (int k = 0; k < 4; ++k) {
      const int node = 2 + k;
      const int x = static_cast<int>(rng() % static_cast<unsigned>(node));
      int y = static_cast<int>(rng() % static_cast<unsigned>(node - 1));
      if (y >= x) ++y;
      cell[4 * k] = static_cast<std::int8_t>(x);
      cell[4 * k + 2] = static_cast<std::int8_t>(y);
      cell[4 * k + 1] = static_cast<std::int8_t>(rng() % 7u);
      cell[4 * k + 3] = static_cast<std::int8_t>(rng() % 7u);
      for (int s = 0; s < 2; ++s) {
        swapped[4 * k + 2 * s] = cell[4 * k + 2 * (1 - s)];
        swapped[4 * k + 2 * s + 1] = cell[4 * k + 2 * (1 - s) + 1];
      }
    }
    const std::uint64_t key = darts::canonical_key(cell, nullptr);
    darts::decode_key(key, canon);
    ok = ok && key == darts::canonical_key(swapped, nullptr) && key == darts::canonical_key(canon, nullptr);
  }
  CHECK(ok);
  bool threw = false;
  try {
    const std::int8_t bad[16] = {0, 3, 0, 4, 0, 5, 1, 6, 2, 0, 3, 1, 2, 2, 4, 3};  // node 2 reads node 0 twice
    darts::check_cell(bad, 0);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

}  // namespace

int main(int argc, char** argv) {
  const std::map<std::string, std::function<void()>> tests = {
      {"md5_rfc1321_vectors", md5_rfc1321_vectors},
      {"md5_backends_agree", md5_backends_agree},
      {"nb101_official_hash_golden", nb101_official_hash_golden},
      {"nb101_reasons", nb101_reasons},
      {"nb101_malformed_throws", nb101_malformed_throws},
      {"nb101_enumeration", nb101_enumeration},
      {"nb101_canonical_relabel", nb101_canonical_relabel},
      {"nb101_pack_key_checks", nb101_pack_key_checks},
      {"nb201_classes", nb201_classes},
      {"darts_canonical", darts_canonical},
  };
  if (argc != 2 || !tests.count(argv[1])) {
    std::fprintf(stderr, "usage: test_core NAME; names:");
    for (const auto& t : tests) std::fprintf(stderr, " %s", t.first.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  try {
    tests.at(argv[1])();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uncaught exception: %s\n", e.what());
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
