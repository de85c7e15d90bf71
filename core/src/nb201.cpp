#include "pyengine/nb201.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "pyengine/parallel.hpp"

namespace pyengine::nb201 {
namespace {

const char* const kOpNames[kNumOps] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};
// (source node, target node) of each edge in arch-string order.
constexpr int kSrc[kNumEdges] = {0, 0, 1, 0, 1, 2};
constexpr int kDst[kNumEdges] = {1, 2, 2, 3, 3, 3};

void check_ops(const std::int8_t* ops) {
  for (int e = 0; e < kNumEdges; ++e)
    if (ops[e] < 0 || ops[e] >= kNumOps)
      throw std::invalid_argument("NB201 op index " + std::to_string(static_cast<int>(ops[e])) + " on edge " +
                                  std::to_string(e) + " is outside 0..4");
}

}  // namespace

std::string unique_str(const std::int8_t* ops) {
  check_ops(ops);
  std::string nodes[4];
  nodes[0] = "0";
  std::vector<std::string> terms;
  for (int node = 1; node < 4; ++node) {
    terms.clear();
    for (int e = 0; e < kNumEdges; ++e) {
      if (kDst[e] != node) continue;
      const std::string& src = nodes[kSrc[e]];
      const int op = ops[e];
      if (op == 0 || src == "#") {
        terms.emplace_back("#");
      } else if (op == 1) {
        terms.push_back(src);
      } else {
        terms.push_back("(" + src + ")@" + kOpNames[op]);
      }
    }
    std::sort(terms.begin(), terms.end());
    std::string joined;
    for (std::size_t k = 0; k < terms.size(); ++k) {
      if (k) joined += '+';
      joined += terms[k];
    }
    nodes[node] = std::move(joined);
  }
  return nodes[3];
}

std::int32_t cell_index(const std::int8_t* ops) {
  check_ops(ops);
  return cell::index_of(ops);
}

void cell_ops(std::int32_t index, std::int8_t* ops) {
  if (index < 0 || index >= kNumCells)
    throw std::invalid_argument("NB201 cell index " + std::to_string(index) + " is outside 0..15624");
  for (int e = kNumEdges - 1; e >= 0; --e) {
    ops[e] = static_cast<std::int8_t>(index % kNumOps);
    index /= kNumOps;
  }
}

void space_classes(std::int32_t* representative, std::int32_t* class_id, int threads) {
  std::vector<std::string> strs(kNumCells);
  parallel_for(static_cast<std::size_t>(kNumCells), threads, 2048, [&](std::size_t b, std::size_t e) {
    std::int8_t cell[kNumEdges];
    for (std::size_t i = b; i < e; ++i) {
      cell_ops(static_cast<std::int32_t>(i), cell);
      strs[i] = unique_str(cell);
    }
  });
  std::unordered_map<std::string, std::int32_t> first;
  first.reserve(2 * kNumClasses);
  std::int32_t classes = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(kNumCells); ++i) {
    auto it = first.find(strs[i]);
    if (it == first.end()) {
      first.emplace(strs[i], static_cast<std::int32_t>(i));
      representative[i] = static_cast<std::int32_t>(i);
      class_id[i] = classes++;
    } else {
      representative[i] = it->second;
      class_id[i] = class_id[static_cast<std::size_t>(it->second)];
    }
  }
}

namespace {
struct ClassTable {
  std::vector<std::int32_t> rep, cls;
  ClassTable() : rep(kNumCells), cls(kNumCells) { space_classes(rep.data(), cls.data(), 0); }
};
const ClassTable& class_table() {
  static const ClassTable table;
  return table;
}
}  // namespace

void canonicalize(const std::int8_t* ops, std::size_t batch, std::int32_t* representative, std::int32_t* class_id) {
  for (std::size_t i = 0; i < batch; ++i) check_ops(ops + kNumEdges * i);
  const ClassTable& t = class_table();
  for (std::size_t i = 0; i < batch; ++i) {
    const auto idx = static_cast<std::size_t>(cell_index(ops + kNumEdges * i));
    if (representative) representative[i] = t.rep[idx];
    if (class_id) class_id[i] = t.cls[idx];
  }
}

}  // namespace pyengine::nb201
