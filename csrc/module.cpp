// pybind11 bindings of the graph core: array conversion and GIL release only.
// std::invalid_argument from the core surfaces in Python as pyengine.errors.InvalidValueError (a ValueError).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "pyengine/darts.hpp"
#include "pyengine/md5.hpp"
#include "pyengine/nb101.hpp"
#include "pyengine/nb201.hpp"

namespace py = pybind11;
using namespace pyengine;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// A fresh numpy array of n 32-byte strings (dtype "S32"), zero-filled.
py::array hex_array(std::size_t n) {
  return py::module_::import("numpy").attr("zeros")(static_cast<py::ssize_t>(n), "S32").cast<py::array>();
}

void check_ndim(const py::array& a, py::ssize_t ndim, const char* name) {
  if (a.ndim() != ndim)
    throw std::invalid_argument(std::string("'") + name + "' must have " + std::to_string(ndim) +
                                " dimensions. Got " + std::to_string(a.ndim()) + " instead.");
}

std::vector<nb101::Compact> compact_from_arrays(const CArray<std::int8_t>& n, const CArray<std::uint32_t>& bits,
                                                const CArray<std::int8_t>& labels) {
  check_ndim(n, 1, "num_vertices");
  check_ndim(bits, 1, "bits");
  check_ndim(labels, 2, "labels");
  const auto count = static_cast<std::size_t>(n.shape(0));
  if (static_cast<std::size_t>(bits.shape(0)) != count || static_cast<std::size_t>(labels.shape(0)) != count ||
      labels.shape(1) != nb101::kMaxVertices)
    throw std::invalid_argument("compact NB101 arrays must have shapes (B,), (B,) and (B, 7)");
  std::vector<nb101::Compact> cells(count);
  auto nv = n.unchecked<1>();
  auto bv = bits.unchecked<1>();
  auto lv = labels.unchecked<2>();
  for (std::size_t i = 0; i < count; ++i) {
    cells[i].n = static_cast<std::uint8_t>(nv(static_cast<py::ssize_t>(i)));
    cells[i].bits = bv(static_cast<py::ssize_t>(i));
    for (int v = 0; v < nb101::kMaxVertices; ++v) cells[i].labels[v] = lv(static_cast<py::ssize_t>(i), v);
  }
  return cells;
}

py::dict dense_from_compact(const std::vector<nb101::Compact>& cells) {
  const auto count = static_cast<py::ssize_t>(cells.size());
  constexpr py::ssize_t V = nb101::kMaxVertices;
  py::array_t<std::uint8_t> matrices({count, V, V});
  py::array_t<std::int8_t> labels({count, V});
  py::array_t<std::int32_t> nverts({count});
  py::array_t<std::uint32_t> bits({count});
  {
    auto m = matrices.mutable_unchecked<3>();
    auto l = labels.mutable_unchecked<2>();
    auto n = nverts.mutable_unchecked<1>();
    auto b = bits.mutable_unchecked<1>();
    for (py::ssize_t i = 0; i < count; ++i) {
      const auto& c = cells[static_cast<std::size_t>(i)];
      n(i) = c.n;
      b(i) = c.bits;
      for (py::ssize_t x = 0; x < V; ++x) {
        l(i, x) = x < c.n ? c.labels[x] : nb101::kPadding;
        for (py::ssize_t y = 0; y < V; ++y) {
          const bool edge = x < y && y < c.n && ((c.bits >> (y * (y - 1) / 2 + x)) & 1u);
          m(i, x, y) = edge ? 1 : 0;
        }
      }
    }
  }
  py::dict d;
  d["matrices"] = matrices;
  d["labels"] = labels;
  d["num_vertices"] = nverts;
  d["bits"] = bits;
  return d;
}

// The padded NB101 batch of three arrays, their shapes checked against each other.
nb101::BatchView batch_view(const CArray<std::uint8_t>& matrices, const CArray<std::int8_t>& labels,
                            const CArray<std::int32_t>& num_vertices) {
  check_ndim(matrices, 3, "matrices");
  check_ndim(labels, 2, "labels");
  check_ndim(num_vertices, 1, "num_vertices");
  const py::ssize_t B = matrices.shape(0), N = matrices.shape(1);
  if (matrices.shape(2) != N) throw std::invalid_argument("'matrices' must have shape (batch, n, n)");
  if (labels.shape(0) != B || labels.shape(1) != N) throw std::invalid_argument("'labels' must have shape (batch, n)");
  if (num_vertices.shape(0) != B) throw std::invalid_argument("'num_vertices' must have shape (batch,)");
  nb101::BatchView in;
  in.matrices = matrices.data();
  in.labels = labels.data();
  in.num_vertices = num_vertices.data();
  in.batch = static_cast<std::size_t>(B);
  in.n_max = static_cast<std::size_t>(N);
  return in;
}

py::dict nb101_process(const CArray<std::uint8_t>& matrices, const CArray<std::int8_t>& labels,
                       const CArray<std::int32_t>& num_vertices, bool with_hash, bool with_canonical, int threads) {
  const nb101::BatchView in = batch_view(matrices, labels, num_vertices);
  const auto B = static_cast<py::ssize_t>(in.batch), N = static_cast<py::ssize_t>(in.n_max);
  py::array_t<std::uint8_t> status({B}), kept({B, N}), pruned({B, N, N});
  py::array_t<std::int8_t> pruned_labels({B, N});
  py::array_t<std::int32_t> pruned_n({B});
  py::array_t<std::int64_t> keys({B});
  py::array hashes = hex_array(static_cast<std::size_t>(B));
  nb101::BatchOutput out;
  out.status = status.mutable_data();
  out.kept = kept.mutable_data();
  out.pruned_matrices = pruned.mutable_data();
  out.pruned_labels = pruned_labels.mutable_data();
  out.pruned_vertices = pruned_n.mutable_data();
  out.hashes = with_hash ? static_cast<char*>(hashes.mutable_data()) : nullptr;
  out.canonical_keys = with_canonical ? keys.mutable_data() : nullptr;
  {
    py::gil_scoped_release release;
    nb101::process(in, out, threads);
  }
  py::dict d;
  d["status"] = status;
  d["kept"] = kept;
  d["pruned_matrices"] = pruned;
  d["pruned_labels"] = pruned_labels;
  d["pruned_vertices"] = pruned_n;
  if (with_hash) d["hashes"] = hashes;
  if (with_canonical) d["canonical_keys"] = keys;
  return d;
}

// The per-cell path of the CUDA kernel (cell::process_one), run on the host: status, canonical
// keys, hashes and malformed codes, without throwing for malformed cells.
py::dict nb101_process_scalar(const CArray<std::uint8_t>& matrices, const CArray<std::int8_t>& labels,
                              const CArray<std::int32_t>& num_vertices, bool with_hash, int threads) {
  const nb101::BatchView in = batch_view(matrices, labels, num_vertices);
  const auto B = static_cast<py::ssize_t>(in.batch), N = static_cast<py::ssize_t>(in.n_max);
  py::array_t<std::uint8_t> status({B});
  py::array_t<std::int64_t> keys({B});
  py::array_t<std::int32_t> malformed({B});
  py::array hashes = hex_array(static_cast<std::size_t>(B));
  {
    py::gil_scoped_release release;
    nb101::process_scalar(in, status.mutable_data(), keys.mutable_data(),
                          with_hash ? static_cast<char*>(hashes.mutable_data()) : nullptr, malformed.mutable_data(),
                          threads);
  }
  py::dict d;
  d["status"] = status;
  d["canonical_keys"] = keys;
  d["malformed"] = malformed;
  if (with_hash) d["hashes"] = hashes;
  return d;
}

py::dict nb101_random_specs(std::uint64_t seed, std::uint64_t start, py::ssize_t count, double edge_prob, int threads) {
  if (count < 0) throw std::invalid_argument("count must be >= 0, got " + std::to_string(count));
  constexpr py::ssize_t V = nb101::kMaxVertices;
  py::array_t<std::uint8_t> matrices({count, V, V});
  py::array_t<std::int8_t> labels({count, V});
  {
    py::gil_scoped_release release;
    nb101::random_specs(seed, start, static_cast<std::size_t>(count), edge_prob, matrices.mutable_data(),
                        labels.mutable_data(), threads);
  }
  py::dict d;
  d["matrices"] = matrices;
  d["labels"] = labels;
  return d;
}

py::dict nb101_stream_keys(std::uint64_t seed, std::uint64_t start, py::ssize_t count, double edge_prob, int threads) {
  if (count < 0) throw std::invalid_argument("count must be >= 0, got " + std::to_string(count));
  py::array_t<std::uint8_t> status({count});
  py::array_t<std::int64_t> keys({count});
  {
    py::gil_scoped_release release;
    nb101::stream_keys(seed, start, static_cast<std::size_t>(count), edge_prob, status.mutable_data(),
                       keys.mutable_data(), threads);
  }
  py::dict d;
  d["status"] = status;
  d["canonical_keys"] = keys;
  return d;
}

py::array nb101_hash_compact(const CArray<std::int8_t>& n, const CArray<std::uint32_t>& bits,
                             const CArray<std::int8_t>& labels, int threads) {
  const auto cells = compact_from_arrays(n, bits, labels);
  py::array out = hex_array(cells.size());
  char* dst = static_cast<char*>(out.mutable_data());
  {
    py::gil_scoped_release release;
    nb101::hash_compact(cells.data(), cells.size(), dst, threads);
  }
  return out;
}

py::dict nb101_enumerate(bool with_hash, int threads) {
  std::vector<nb101::Compact> cells;
  {
    py::gil_scoped_release release;
    cells = nb101::enumerate_space(threads);
  }
  py::dict d = dense_from_compact(cells);
  py::array_t<std::int64_t> keys({static_cast<py::ssize_t>(cells.size())});
  auto k = keys.mutable_unchecked<1>();
  for (std::size_t i = 0; i < cells.size(); ++i) k(static_cast<py::ssize_t>(i)) = nb101::pack_key(cells[i]);
  d["canonical_keys"] = keys;
  if (with_hash) {
    py::array hashes = hex_array(cells.size());
    char* dst = static_cast<char*>(hashes.mutable_data());
    {
      py::gil_scoped_release release;
      nb101::hash_compact(cells.data(), cells.size(), dst, threads);
    }
    d["hashes"] = hashes;
  }
  return d;
}

py::dict nb101_decode_keys(const CArray<std::int64_t>& keys) {
  check_ndim(keys, 1, "keys");
  std::vector<nb101::Compact> cells(static_cast<std::size_t>(keys.shape(0)));
  auto k = keys.unchecked<1>();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    try {
      cells[i] = nb101::decode_key(k(static_cast<py::ssize_t>(i)));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("key " + std::to_string(i) + ": " + e.what());
    }
  }
  return dense_from_compact(cells);
}

py::list nb201_unique_str(const CArray<std::int8_t>& ops) {
  check_ndim(ops, 2, "ops");
  if (ops.shape(1) != nb201::kNumEdges) throw std::invalid_argument("'ops' must have shape (batch, 6)");
  py::list out;
  const std::int8_t* p = ops.data();
  for (py::ssize_t i = 0; i < ops.shape(0); ++i) out.append(nb201::unique_str(p + nb201::kNumEdges * i));
  return out;
}

py::tuple nb201_canonicalize(const CArray<std::int8_t>& ops) {
  check_ndim(ops, 2, "ops");
  if (ops.shape(1) != nb201::kNumEdges) throw std::invalid_argument("'ops' must have shape (batch, 6)");
  const py::ssize_t B = ops.shape(0);
  py::array_t<std::int32_t> rep({B}), cls({B});
  {
    std::int32_t* r = rep.mutable_data();
    std::int32_t* c = cls.mutable_data();
    const std::int8_t* p = ops.data();
    py::gil_scoped_release release;
    nb201::canonicalize(p, static_cast<std::size_t>(B), r, c);
  }
  return py::make_tuple(rep, cls);
}

py::tuple nb201_space_classes(int threads) {
  py::array_t<std::int32_t> rep({static_cast<py::ssize_t>(nb201::kNumCells)}), cls({static_cast<py::ssize_t>(nb201::kNumCells)});
  {
    std::int32_t* r = rep.mutable_data();
    std::int32_t* c = cls.mutable_data();
    py::gil_scoped_release release;
    nb201::space_classes(r, c, threads);
  }
  return py::make_tuple(rep, cls);
}

py::tuple darts_canonicalize(const CArray<std::int8_t>& cells, int threads) {
  check_ndim(cells, 3, "cells");
  if (cells.shape(1) != darts::kEdges || cells.shape(2) != 2)
    throw std::invalid_argument("'cells' must have shape (batch, 8, 2)");
  const py::ssize_t B = cells.shape(0);
  py::array_t<std::uint64_t> keys({B});
  py::array_t<std::int32_t> forms({B});
  py::array_t<std::int8_t> canon({B, static_cast<py::ssize_t>(darts::kEdges), static_cast<py::ssize_t>(2)});
  {
    const std::int8_t* c = cells.data();
    std::uint64_t* k = keys.mutable_data();
    std::int32_t* f = forms.mutable_data();
    std::int8_t* o = canon.mutable_data();
    py::gil_scoped_release release;
    darts::canonicalize(c, static_cast<std::size_t>(B), k, f, o, threads);
  }
  return py::make_tuple(keys, forms, canon);
}

py::array_t<std::int8_t> darts_decode_keys(const CArray<std::uint64_t>& keys) {
  check_ndim(keys, 1, "keys");
  const py::ssize_t B = keys.shape(0);
  py::array_t<std::int8_t> cells({B, static_cast<py::ssize_t>(darts::kEdges), static_cast<py::ssize_t>(2)});
  std::int8_t* o = cells.mutable_data();
  for (py::ssize_t b = 0; b < B; ++b) darts::decode_key(keys.data()[b], o + b * 2 * darts::kEdges);
  return cells;
}

// Raises the typed error `name` of pyengine.errors (a subclass of `fallback`), or `fallback` itself
// where that module cannot be imported.
void set_typed_error(const char* name, PyObject* fallback, const char* what) {
  try {
    py::object cls = py::module_::import("pyengine.errors").attr(name);
    PyErr_SetString(cls.ptr(), what);
  } catch (py::error_already_set&) {
    PyErr_SetString(fallback, what);
  }
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "pyengine native graph core (NAS-Bench-101/201 validation, hashing, canonical forms, enumeration)";

  // The core's refusals of bad input reach Python as pyengine's typed errors.
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::invalid_argument& e) {
      set_typed_error("InvalidValueError", PyExc_ValueError, e.what());
    } catch (const std::out_of_range& e) {
      set_typed_error("InvalidIndexError", PyExc_IndexError, e.what());
    }
  });

  py::list names;
  for (int s = 0; s < nb101::kNumStatus; ++s) names.append(nb101::status_name(static_cast<nb101::Status>(s)));
  m.attr("NB101_STATUS_NAMES") = names;
  m.attr("NB101_SPACE_SIZE") = nb101::kSpaceSize;
  m.attr("NB201_NUM_CELLS") = nb201::kNumCells;
  m.attr("NB201_NUM_CLASSES") = nb201::kNumClasses;

  m.def("nb101_process", &nb101_process, py::arg("matrices"), py::arg("labels"), py::arg("num_vertices"),
        py::arg("with_hash") = true, py::arg("with_canonical") = true, py::arg("threads") = 0);
  m.def("nb101_process_scalar", &nb101_process_scalar, py::arg("matrices"), py::arg("labels"),
        py::arg("num_vertices"), py::arg("with_hash") = true, py::arg("threads") = 0);
  m.def("nb101_random_specs", &nb101_random_specs, py::arg("seed"), py::arg("start"), py::arg("count"),
        py::arg("edge_prob") = 0.5, py::arg("threads") = 0);
  m.def("nb101_stream_keys", &nb101_stream_keys, py::arg("seed"), py::arg("start"), py::arg("count"),
        py::arg("edge_prob") = 0.5, py::arg("threads") = 0);
  m.def("nb101_hash_compact", &nb101_hash_compact, py::arg("num_vertices"), py::arg("bits"), py::arg("labels"),
        py::arg("threads") = 0);
  m.def("nb101_enumerate", &nb101_enumerate, py::arg("with_hash") = true, py::arg("threads") = 0);
  m.def("nb101_decode_keys", &nb101_decode_keys, py::arg("keys"));
  m.def("nb201_unique_str", &nb201_unique_str, py::arg("ops"));
  m.def("nb201_canonicalize", &nb201_canonicalize, py::arg("ops"));
  m.def("nb201_space_classes", &nb201_space_classes, py::arg("threads") = 0);
  m.def("darts_canonicalize", &darts_canonicalize, py::arg("cells"), py::arg("threads") = 0);
  m.def("darts_decode_keys", &darts_decode_keys, py::arg("keys"));

  m.def("md5_backends", &md5_available_backends);
  m.def("md5_backend", &md5_backend);
  m.def("set_md5_backend", &md5_set_backend, py::arg("name"));
  m.def("md5_hex", [](const py::bytes& data) {
    const std::string s = data;
    std::uint8_t d[16];
    md5(s.data(), s.size(), d);
    return md5_hex(d);
  });
}
