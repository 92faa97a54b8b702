// Masks identical to torch.nn.utils.prune (PyTorch 1.13): l1_unstructured (with and without
// importance scores), ln_structured for n = 1, 2, inf along every dim, global_unstructured,
// and compositions through PruningContainer; counts round(amount * n) as torch computes
// them. Golden data: tests/data/prune/golden.txt, made by make_golden.py beside it. Every
// case runs for float, double, fp16 and bf16 weights held in std::vector, Eigen row- and
// column-major matrices, vectors, maps, and Tensors / TensorMaps of both layouts.
#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>
#include <unsupported/Eigen/CXX11/Tensor>
#include <vector>

#include "lowprec/prune/eigen.hpp"
#include "lowprec/prune/magnitude.hpp"
#include "lowprec/prune/structured.hpp"
#include "prune/prune_reference.hpp"
#include "support/catch.hpp"

#ifndef LOWPREC_PRUNE_GOLDEN
#error "LOWPREC_PRUNE_GOLDEN must name tests/data/prune/golden.txt"
#endif

namespace prune = lowprec::prune;

namespace {

struct golden_tensor {
  prune::shape_t shape;
  std::vector<float> values;  // row-major
};
struct golden_mask {
  prune::shape_t shape;
  std::vector<std::uint8_t> keep;
};
struct golden_case {
  std::string name, op;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<golden_tensor> tensors;
  std::vector<golden_mask> masks;

  std::string param(const std::string& key) const {
    for (const auto& [k, v] : params) {
      if (k == key) return v;
    }
    FAIL("case " << name << " has no parameter " << key);
    return "";
  }
  prune::amount amount(const std::string& key) const {
    const std::string v = param(key);
    if (param(key + "kind") == "i") return prune::amount(std::stoll(v));
    return prune::amount(std::stod(v));
  }
  double norm() const {
    const std::string v = param("n");
    return v == "inf" ? prune::inf_norm : std::stod(v);
  }
};
struct golden_count {
  double amount;
  std::size_t n, expected;
};

struct golden_file {
  std::vector<golden_case> cases;
  std::vector<golden_count> counts;
};

prune::shape_t read_shape(std::istringstream& in) {
  std::size_t rank = 0;
  in >> rank;
  prune::shape_t s(rank);
  for (auto& d : s) in >> d;
  std::string colon;
  in >> colon;
  return s;
}

const golden_file& golden() {
  static const golden_file file = [] {
    golden_file g;
    std::ifstream in(LOWPREC_PRUNE_GOLDEN);
    REQUIRE(in.good());
    std::string line;
    golden_case c;
    while (std::getline(in, line)) {
      std::istringstream s(line);
      std::string tag;
      s >> tag;
      if (tag == "case") {
        c = golden_case{};
        s >> c.name >> c.op;
      } else if (tag == "param") {
        std::string k, v;
        s >> k >> v;
        c.params.emplace_back(k, v);
      } else if (tag == "tensor") {
        golden_tensor t;
        t.shape = read_shape(s);
        std::string hex;
        while (s >> hex) {
          const auto bits = static_cast<std::uint32_t>(std::stoul(hex, nullptr, 16));
          float f = 0;
          std::memcpy(&f, &bits, 4);
          t.values.push_back(f);
        }
        c.tensors.push_back(std::move(t));
      } else if (tag == "mask") {
        golden_mask m;
        m.shape = read_shape(s);
        std::string bits;
        s >> bits;
        for (const char ch : bits) m.keep.push_back(ch == '1' ? 1 : 0);
        c.masks.push_back(std::move(m));
      } else if (tag == "end") {
        g.cases.push_back(c);
      } else if (tag == "count") {
        golden_count k{};
        std::string a;
        s >> a >> k.n >> k.expected;
        k.amount = std::stod(a);
        g.counts.push_back(k);
      }
    }
    return g;
  }();
  return file;
}

bool same(const prune::mask& got, const golden_mask& want) {
  return got.shape() == want.shape &&
         std::vector<std::uint8_t>(got.data(), got.data() + got.size()) == want.keep;
}

// ---- The same tensor in every container ---------------------------------------------

template <class T, int R, int Layout>
Eigen::Tensor<T, R, Layout> make_tensor(const golden_tensor& g) {
  std::array<Eigen::Index, R> dims{};
  for (int d = 0; d < R; ++d) dims[static_cast<std::size_t>(d)] = static_cast<Eigen::Index>(g.shape[static_cast<std::size_t>(d)]);
  Eigen::Tensor<T, R, Layout> t(dims);
  std::array<Eigen::Index, R> idx{};
  for (std::size_t pos = 0; pos < g.values.size(); ++pos) {
    std::size_t rest = pos;
    for (int d = R - 1; d >= 0; --d) {
      const std::size_t extent = g.shape[static_cast<std::size_t>(d)];
      idx[static_cast<std::size_t>(d)] = static_cast<Eigen::Index>(rest % extent);
      rest /= extent;
    }
    t(idx) = prune_ref::from_double<T>(g.values[pos]);
  }
  return t;
}

template <class T, int Options>
Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Options> make_matrix(const golden_tensor& g) {
  const auto rows = static_cast<Eigen::Index>(g.shape[0]), cols = static_cast<Eigen::Index>(g.shape[1]);
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Options> m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      m(i, j) = prune_ref::from_double<T>(g.values[static_cast<std::size_t>(i * cols + j)]);
    }
  }
  return m;
}

// Calls fn(container, description) with the tensor in every container that fits its rank.
template <class T, class Fn>
void for_each_container(const golden_tensor& g, Fn&& fn) {
  switch (g.shape.size()) {
    case 1: {
      std::vector<T> v;
      for (const float x : g.values) v.push_back(prune_ref::from_double<T>(x));
      fn(v, "std::vector");
      Eigen::Matrix<T, Eigen::Dynamic, 1> e = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(v.data(), static_cast<Eigen::Index>(v.size()));
      fn(e, "VectorX");
      // A strided vector: every other element of a longer buffer.
      std::vector<T> wide(2 * v.size());
      for (std::size_t i = 0; i < v.size(); ++i) wide[2 * i] = v[i];
      const Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>, 0, Eigen::InnerStride<2>> strided(
          wide.data(), static_cast<Eigen::Index>(v.size()));
      fn(strided, "strided Map");
      break;
    }
    case 2: {
      const auto rm = make_matrix<T, Eigen::RowMajor>(g);
      fn(rm, "row-major Matrix");
      const auto cm = make_matrix<T, Eigen::ColMajor>(g);
      fn(cm, "column-major Matrix");
      // A block of a larger column-major matrix (outer stride != rows).
      Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> big(cm.rows() + 3, cm.cols() + 1);
      big.setConstant(T(7.0f));
      big.block(1, 0, cm.rows(), cm.cols()) = cm;
      fn(big.block(1, 0, cm.rows(), cm.cols()), "Block");
      break;
    }
    case 3: {
      const auto r = make_tensor<T, 3, Eigen::RowMajor>(g);
      fn(r, "row-major Tensor");
      const auto c = make_tensor<T, 3, Eigen::ColMajor>(g);
      fn(c, "column-major Tensor");
      const Eigen::TensorMap<const Eigen::Tensor<T, 3, Eigen::ColMajor>> map(c.data(), c.dimensions());
      fn(map, "TensorMap");
      break;
    }
    case 4: {
      const auto r = make_tensor<T, 4, Eigen::RowMajor>(g);
      fn(r, "row-major Tensor");
      const auto c = make_tensor<T, 4, Eigen::ColMajor>(g);
      fn(c, "column-major Tensor");
      break;
    }
    default:
      FAIL("unexpected rank " << g.shape.size());
  }
}

template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, float>) return "float";
  if constexpr (std::is_same_v<T, double>) return "double";
  if constexpr (std::is_same_v<T, lowprec::fp16>) return "fp16";
  return "bf16";
}

template <class T>
void run_single_tensor_cases(const char* type) {
  std::size_t checked = 0;
  for (const golden_case& c : golden().cases) {
    if (c.op == "global" || c.op == "global_global") continue;
    const golden_tensor& t = c.op == "l1_scores" ? c.tensors[1] : c.tensors[0];
    for_each_container<T>(t, [&](const auto& w, const char* kind) {
      INFO(c.name << " (" << c.op << ") on " << type << " " << kind);
      ++checked;
      if (c.op == "l1" || c.op == "l1_scores") {
        CHECK(same(prune::l1_unstructured(w, c.amount("amount")), c.masks[0]));
      } else if (c.op == "ln") {
        CHECK(same(prune::ln_structured(w, c.amount("amount"), c.norm(), std::stoi(c.param("dim"))),
                   c.masks[0]));
      } else if (c.op == "l1_l1") {
        const prune::mask first = prune::l1_unstructured(w, c.amount("amount"));
        CHECK(same(first, c.masks[0]));
        CHECK(same(prune::l1_unstructured(w, c.amount("amount2"), first), c.masks[1]));
      } else if (c.op == "l1_ln") {
        const prune::mask first = prune::l1_unstructured(w, c.amount("amount"));
        CHECK(same(first, c.masks[0]));
        CHECK(same(prune::ln_structured(w, c.amount("amount2"), c.norm(), std::stoi(c.param("dim")), first),
                   c.masks[1]));
      } else if (c.op == "ln_l1") {
        const prune::mask first = prune::ln_structured(w, c.amount("amount"), c.norm(), std::stoi(c.param("dim")));
        CHECK(same(first, c.masks[0]));
        CHECK(same(prune::l1_unstructured(w, c.amount("amount2"), first), c.masks[1]));
      } else if (c.op == "ln_ln" || c.op == "ln_ln_same") {
        const int second_dim = c.op == "ln_ln" ? 1 : 0;
        const prune::mask first = prune::ln_structured(w, c.amount("amount"), c.norm(), 0);
        CHECK(same(first, c.masks[0]));
        CHECK(same(prune::ln_structured(w, c.amount("amount2"), c.norm(), second_dim, first), c.masks[1]));
      } else {
        FAIL("unknown op " << c.op);
      }
    });
  }
  CHECK(checked > 600);
}

}  // namespace

TEMPLATE_TEST_CASE("masks equal torch.nn.utils.prune's for one tensor, in every container",
                   "[prune]", float, double, lowprec::fp16, lowprec::bf16) {
  REQUIRE(golden().cases.size() > 200);
  run_single_tensor_cases<TestType>(type_name<TestType>());
}

TEST_CASE("global_unstructured equals torch's, across containers and scalar types", "[prune]") {
  std::size_t checked = 0;
  for (const golden_case& c : golden().cases) {
    if (c.op != "global" && c.op != "global_global") continue;
    INFO(c.name);
    // One float row-major matrix, one bf16 column-major matrix, and fp16 or a double vector.
    const auto a = make_matrix<float, Eigen::RowMajor>(c.tensors[0]);
    const auto b = make_matrix<lowprec::bf16, Eigen::ColMajor>(c.tensors[1]);
    if (c.op == "global") {
      std::vector<lowprec::fp16> v;
      for (const float x : c.tensors[2].values) v.push_back(lowprec::fp16(x));
      const auto ms = prune::global_unstructured({a, b, v}, c.amount("amount"));
      CHECK(same(ms[0], c.masks[0]));
      CHECK(same(ms[1], c.masks[1]));
      CHECK(same(ms[2], c.masks[2]));
      const std::vector<double> vd(c.tensors[2].values.begin(), c.tensors[2].values.end());
      const auto md = prune::global_unstructured({a, b, vd}, c.amount("amount"));
      CHECK(same(md[2], c.masks[2]));
    } else {
      const auto first = prune::global_unstructured({a, b}, c.amount("amount"));
      CHECK(same(first[0], c.masks[0]));
      CHECK(same(first[1], c.masks[1]));
      const auto second = prune::global_unstructured({a, b}, c.amount("amount2"), first);
      CHECK(same(second[0], c.masks[2]));
      CHECK(same(second[1], c.masks[3]));
    }
    ++checked;
  }
  CHECK(checked == 5);
}

TEST_CASE("amount counts equal torch's _compute_nparams_toprune", "[prune]") {
  REQUIRE(golden().counts.size() > 500);
  for (const golden_count& k : golden().counts) {
    INFO("amount " << k.amount << " of " << k.n);
    CHECK(prune::amount(k.amount).resolve(k.n, "test") == k.expected);
  }
}

TEST_CASE("Eigen objects are pruned in place and checked for shape", "[prune]") {
  Eigen::MatrixXf w(4, 6);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(i + 1);
  const prune::mask m = prune::ln_structured(w, 0.5, 1.0, 1);  // columns 0-2 pruned
  m.apply(w);
  CHECK(w.leftCols(3).isZero());
  CHECK(w(0, 3) == 13.0f);
  Eigen::Tensor<lowprec::bf16, 3, Eigen::RowMajor> t(2, 3, 4);
  t.setConstant(lowprec::bf16(1.0f));
  const prune::mask mt = prune::random_unstructured(t, 0.25, 5);
  mt.apply(t);
  CHECK(prune::count_zeros(t) == 6);
  prune::sparsity_report r;
  r.add("w", m).add_weights("t", t);
  CHECK(r.sparsity() == Approx((12.0 + 6.0) / 48.0));
  // A mask of another shape: nothing changes.
  Eigen::MatrixXf before = w;
  CHECK(!prune_ref::invalid_argument_message([&] { mt.apply(w); }).empty());
  CHECK(w == before);
  // Blocks are views: pruning writes through.
  Eigen::MatrixXd big = Eigen::MatrixXd::Constant(5, 5, 2.0);
  prune::mask({2, 2}, {0, 1, 1, 0}).apply(big.block(1, 1, 2, 2));
  CHECK(big(1, 1) == 0.0);
  CHECK(big(2, 2) == 0.0);
  CHECK(big(1, 2) == 2.0);
  CHECK((big.array() == 0.0).count() == 2);
}
