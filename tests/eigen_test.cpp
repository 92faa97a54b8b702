// lowprec scalars inside Eigen: Matrix, Array, Map, Tensor; casts both ways; mixed
// expressions; and the float-accumulating helpers, including the pitfall they fix.
#include "lowprec/eigen.hpp"
#include "lowprec/eigen_tensor.hpp"

#include <Eigen/Dense>
#include <cstdint>
#include <cstring>
#include <random>
#include <unsupported/Eigen/CXX11/Tensor>
#include <vector>

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "support/catch.hpp"

using lowprec::bf16;
using lowprec::fp16;
using lowprec::fp8_e4m3fn;
using lowprec::fp8_e5m2;

namespace {

template <class T>
using MatrixX = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using RowMatrixX = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Eigen::MatrixXf random_matrix(Eigen::Index r, Eigen::Index c, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  Eigen::MatrixXf m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = d(rng);
  return m;
}

// Relative precision of one rounding to T: half an ulp at 1.
template <class T>
double unit_roundoff() {
  return 0.5 * static_cast<double>(static_cast<float>(std::numeric_limits<T>::epsilon()));
}

}  // namespace

TEMPLATE_TEST_CASE("casts between float and lowprec matrices match the scalar conversion",
                   "[eigen]", bf16, fp16, fp8_e4m3fn, fp8_e5m2) {
  using T = TestType;
  const Eigen::MatrixXf f = random_matrix(17, 13, 1) * 100.0f;
  const MatrixX<T> m = f.cast<T>();
  const Eigen::MatrixXf back = m.template cast<float>();
  for (Eigen::Index i = 0; i < f.size(); ++i) {
    REQUIRE(m.data()[i].bits() == T(f.data()[i]).bits());
    REQUIRE(back.data()[i] == static_cast<float>(T(f.data()[i])));
  }
  const RowMatrixX<T> r = f.cast<T>();
  CHECK(r.template cast<float>() == back);
}

TEMPLATE_TEST_CASE("lowprec matrices do arithmetic, products and reductions within precision",
                   "[eigen]", bf16, fp16) {
  using T = TestType;
  const Eigen::MatrixXf af = random_matrix(24, 16, 2), bf = random_matrix(24, 16, 3);
  const MatrixX<T> a = af.cast<T>(), b = bf.cast<T>();
  const Eigen::MatrixXf a32 = a.template cast<float>(), b32 = b.template cast<float>();
  const double u = unit_roundoff<T>();

  // Element-wise ops are one correctly rounded operation each.
  const MatrixX<T> s = a + b;
  const MatrixX<T> p = a.cwiseProduct(b);
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    REQUIRE(s.data()[i].bits() == T(a32.data()[i] + b32.data()[i]).bits());
    REQUIRE(p.data()[i].bits() == T(a32.data()[i] * b32.data()[i]).bits());
  }
  // A product accumulates in T: error grows like k * u * sum |a||b|.
  const MatrixX<T> c = a * b.transpose();
  const Eigen::MatrixXf c32 = a32 * b32.transpose();
  const Eigen::MatrixXf bound =
      (a32.cwiseAbs() * b32.cwiseAbs().transpose()) * static_cast<float>((16 + 1) * u);
  CHECK(((c.template cast<float>() - c32).cwiseAbs().array() <= bound.array()).all());
  // Reductions.
  CHECK(std::fabs(static_cast<float>(a.sum()) - a32.sum()) <=
        static_cast<float>(static_cast<double>(a.size()) * u) * a32.cwiseAbs().sum());
  CHECK(static_cast<float>(a.maxCoeff()) == a32.maxCoeff());
  CHECK(static_cast<float>(a.minCoeff()) == a32.minCoeff());
  // Array and isApprox with NumTraits' precision.
  const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic> arr = a.array() * T(2.0f);
  CHECK(arr.matrix().template cast<float>() == (a32 * 2.0f));
  CHECK(a.isApprox(a));
}

TEST_CASE("mixed bf16/float expressions widen to float", "[eigen]") {
  const Eigen::MatrixXf f = random_matrix(5, 7, 4);
  const MatrixX<bf16> b = f.cast<bf16>();
  const Eigen::MatrixXf sum = b + f;  // ScalarBinaryOpTraits<bf16, float> -> float
  STATIC_REQUIRE(std::is_same_v<decltype(b + f)::Scalar, float>);
  STATIC_REQUIRE(std::is_same_v<decltype(f.cwiseProduct(b))::Scalar, float>);
  CHECK(sum == b.cast<float>() + f);
  const Eigen::MatrixXf scaled = b * 0.5f;
  CHECK(scaled == b.cast<float>() * 0.5f);
}

TEST_CASE("Map views unaligned lowprec buffers in both storage orders", "[eigen]") {
  // One element in: aligned for bf16 but for no SIMD width.
  std::vector<bf16> storage(6 * 4 + 1);
  bf16* p = storage.data() + 1;
  for (int i = 0; i < 24; ++i) p[i] = bf16(static_cast<float>(i));
  Eigen::Map<MatrixX<bf16>> col(p, 6, 4);
  Eigen::Map<RowMatrixX<bf16>> row(p, 6, 4);
  CHECK(static_cast<float>(col(1, 0)) == 1.0f);
  CHECK(static_cast<float>(row(0, 1)) == 1.0f);
  CHECK(static_cast<float>(col.sum()) == 276.0f);
  col(5, 3) = bf16(-1.0f);
  CHECK(static_cast<float>(p[23]) == -1.0f);
}

TEST_CASE("Tensors of rank 1 to 4 do arithmetic, reductions and casts", "[eigen]") {
  Eigen::Tensor<float, 4> f(3, 4, 5, 2);
  f.setRandom();
  const Eigen::Tensor<bf16, 4> t = f.cast<bf16>();
  const Eigen::Tensor<float, 4> back = t.cast<float>();
  for (Eigen::Index i = 0; i < f.size(); ++i) {
    REQUIRE(t.data()[i].bits() == bf16(f.data()[i]).bits());
    REQUIRE(back.data()[i] == static_cast<float>(bf16(f.data()[i])));
  }
  const Eigen::Tensor<bf16, 4> twice = t + t;
  for (Eigen::Index i = 0; i < f.size(); ++i) {
    REQUIRE(static_cast<float>(twice.data()[i]) == 2.0f * back.data()[i]);
  }
  const Eigen::Tensor<bf16, 0> total = t.sum();
  const Eigen::Tensor<float, 0> total32 = back.sum();
  CHECK(std::fabs(static_cast<float>(total()) - total32()) <= 0.05f * 120.0f);
  const Eigen::Tensor<bf16, 1> v = t.chip(0, 3).chip(0, 2).chip(0, 1);
  CHECK(v.dimension(0) == 3);
  Eigen::Tensor<bf16, 2, Eigen::RowMajor> m(2, 3);
  m.setConstant(bf16(1.5f));
  const Eigen::Tensor<bf16, 2, Eigen::RowMajor> mm = m * m.constant(bf16(2.0f));
  CHECK(static_cast<float>(mm(1, 2)) == 3.0f);
  Eigen::TensorMap<const Eigen::Tensor<bf16, 3>> view(t.data(), 12, 5, 2);
  CHECK(view.size() == t.size());
}

TEST_CASE("accumulating in bf16 stalls at 256; lowprec's float accumulation does not",
          "[eigen]") {
  const Eigen::Matrix<bf16, Eigen::Dynamic, 1> ones =
      Eigen::VectorXf::Ones(4096).cast<bf16>();
  // The pitfall, pinned: 256 + 1 is a tie in bf16 and rounds back to 256.
  CHECK(static_cast<float>(ones.dot(ones)) == 256.0f);
  CHECK(static_cast<float>(ones.sum()) == 256.0f);
  // Eigen's own bfloat16 does the same.
  const Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, 1> eones =
      Eigen::VectorXf::Ones(4096).cast<Eigen::bfloat16>();
  CHECK(static_cast<float>(eones.sum()) == 256.0f);
  // The fix.
  CHECK(lowprec::dot(ones, ones) == 4096.0f);
  CHECK(lowprec::sum(ones) == 4096.0f);
  CHECK(lowprec::squared_norm(ones) == 4096.0f);
  CHECK(lowprec::norm(ones) == 64.0f);
}

TEMPLATE_TEST_CASE("float-accumulating matvec and matmul match fp32 on the stored values",
                   "[eigen]", bf16, fp16, fp8_e4m3fn, fp8_e5m2) {
  using T = TestType;
  const Eigen::MatrixXf af = random_matrix(33, 70, 5);
  const Eigen::VectorXf x = random_matrix(70, 1, 6);
  const MatrixX<T> a = af.cast<T>();
  const Eigen::MatrixXf a32 = a.template cast<float>();
  const Eigen::VectorXf y = lowprec::matvec(a, x);
  const Eigen::VectorXf y32 = a32 * x;
  // Same products, float sums in possibly another order: float-level agreement.
  CHECK(((y - y32).cwiseAbs().array() <=
         1e-5f * (a32.cwiseAbs() * x.cwiseAbs()).array() + 1e-30f).all());
  // Row-major storage sums in another documented order: equal to float accuracy.
  const RowMatrixX<T> ar = a;
  CHECK(((lowprec::matvec(ar, x) - y32).cwiseAbs().array() <=
         1e-5f * (a32.cwiseAbs() * x.cwiseAbs()).array() + 1e-30f).all());
  const Eigen::MatrixXf c = lowprec::matmul(a, a.transpose());
  const Eigen::MatrixXf c32 = a32 * a32.transpose();
  CHECK(((c - c32).cwiseAbs().array() <= 1e-5f * (a32.cwiseAbs() * a32.cwiseAbs().transpose()).array() + 1e-30f).all());
  CHECK_THROWS_WITH(lowprec::matvec(a, Eigen::VectorXf(3)),
                    "lowprec::matvec (A.cols() vs x.size()): sizes differ (70 vs 3)");
  CHECK_THROWS_AS(lowprec::dot(x, Eigen::VectorXf(2)), std::invalid_argument);
}

TEST_CASE("Eigen::bfloat16 and Eigen::half buffers are viewed without copying", "[eigen]") {
  Eigen::Matrix<Eigen::bfloat16, 3, 4> eb;
  Eigen::Matrix<Eigen::half, Eigen::Dynamic, Eigen::Dynamic> eh(2, 5);
  for (int i = 0; i < 12; ++i) eb.data()[i] = Eigen::bfloat16(0.1f * static_cast<float>(i) - 0.5f);
  for (int i = 0; i < 10; ++i) eh.data()[i] = Eigen::half(static_cast<float>(i) / 3.0f);
  std::uint16_t bits_b[12], bits_h[10];
  std::memcpy(bits_b, eb.data(), sizeof bits_b);
  std::memcpy(bits_h, eh.data(), sizeof bits_h);

  auto lb = lowprec::view_as_lowprec(eb);
  auto lh = lowprec::view_as_lowprec(eh);
  STATIC_REQUIRE(std::is_same_v<decltype(lb)::Scalar, bf16>);
  STATIC_REQUIRE(std::is_same_v<decltype(lh)::Scalar, fp16>);
  CHECK(static_cast<const void*>(lb.data()) == static_cast<const void*>(eb.data()));
  CHECK(lh.rows() == 2);
  CHECK(lh.cols() == 5);
  for (int i = 0; i < 12; ++i) REQUIRE(lb.data()[i].bits() == bits_b[i]);
  for (int i = 0; i < 10; ++i) REQUIRE(lh.data()[i].bits() == bits_h[i]);
  // Eigen's and lowprec's rounding agree on these values (both nearest-even).
  CHECK(lb(1, 0).bits() == bf16(0.1f * 1.0f - 0.5f).bits());

  lb(2, 3) = bf16(7.0f);
  auto back = lowprec::view_as_eigen(lb);  // a Map: view the Map's storage again
  CHECK(static_cast<float>(back(2, 3)) == 7.0f);
  Eigen::Matrix<bf16, Eigen::Dynamic, Eigen::Dynamic> own = eb.cast<float>().cast<bf16>();
  auto e2 = lowprec::view_as_eigen(own);
  STATIC_REQUIRE(std::is_same_v<decltype(e2)::Scalar, Eigen::bfloat16>);
  CHECK(static_cast<float>(e2(0, 0)) == static_cast<float>(own.cast<float>()(0, 0)));
  bf16 raw[3] = {bf16(1.0f), bf16(2.0f), bf16(3.0f)};
  Eigen::bfloat16* er = lowprec::as_eigen_scalars(raw, 3);
  CHECK(static_cast<float>(er[2]) == 3.0f);
  CHECK(lowprec::as_lowprec_scalars(er, 0) == nullptr);
}

TEMPLATE_TEST_CASE("lowprec::cast goes through the bulk conversion with Eigen's bits",
                   "[eigen]", bf16, fp16, fp8_e4m3fn, fp8_e5m2) {
  using T = TestType;
  const Eigen::MatrixXf f = random_matrix(37, 29, 9) * 300.0f;
  const MatrixX<T> want = f.cast<T>();
  const MatrixX<T> got = lowprec::cast<T>(f);
  const RowMatrixX<T> got_rm = lowprec::cast<T>(RowMatrixX<float>(f));
  const MatrixX<T> got_block = lowprec::cast<T>(f.block(3, 2, 20, 11));  // strided: evaluated
  const auto got_array = lowprec::cast<T>(f.array());
  STATIC_REQUIRE(std::is_base_of_v<Eigen::ArrayBase<std::decay_t<decltype(got_array)>>,
                                   std::decay_t<decltype(got_array)>>);
  for (Eigen::Index j = 0; j < f.cols(); ++j) {
    for (Eigen::Index i = 0; i < f.rows(); ++i) {
      REQUIRE(got(i, j).bits() == want(i, j).bits());
      REQUIRE(got_rm(i, j).bits() == want(i, j).bits());
      REQUIRE(got_array(i, j).bits() == want(i, j).bits());
    }
  }
  for (Eigen::Index j = 0; j < 11; ++j)
    for (Eigen::Index i = 0; i < 20; ++i) REQUIRE(got_block(i, j).bits() == want(i + 3, j + 2).bits());
  const Eigen::MatrixXf back = lowprec::cast<float>(got);
  CHECK(back == want.template cast<float>());
  // Policies pass through: saturate keeps FLT_MAX finite in every format.
  lowprec::convert_options sat;
  sat.on_overflow = lowprec::overflow::saturate;
  const Eigen::Matrix<T, 1, 1> big = lowprec::cast<T>(Eigen::Matrix<float, 1, 1>(std::numeric_limits<float>::max()), sat);
  CHECK(big(0).bits() == std::numeric_limits<T>::max().bits());
}

TEST_CASE("lowprec::cast converts Tensors and TensorMaps of any layout", "[eigen]") {
  Eigen::Tensor<float, 3> f(4, 5, 6);
  f.setRandom();
  const Eigen::Tensor<bf16, 3> h = lowprec::cast<bf16>(f);
  const Eigen::Tensor<bf16, 3> want = f.cast<bf16>();
  for (Eigen::Index i = 0; i < f.size(); ++i) REQUIRE(h.data()[i].bits() == want.data()[i].bits());
  const Eigen::Tensor<float, 3> back = lowprec::cast<float>(h);
  for (Eigen::Index i = 0; i < f.size(); ++i) REQUIRE(back.data()[i] == static_cast<float>(want.data()[i]));
  Eigen::Tensor<float, 2, Eigen::RowMajor> r(3, 7);
  r.setRandom();
  Eigen::TensorMap<const Eigen::Tensor<float, 2, Eigen::RowMajor>> view(r.data(), 3, 7);
  const Eigen::Tensor<fp16, 2, Eigen::RowMajor> rh = lowprec::cast<fp16>(view);
  CHECK(rh.dimension(1) == 7);
  CHECK(rh(2, 6).bits() == fp16(r(2, 6)).bits());
}

TEST_CASE("Eigen matvec runs the SIMD kernel on direct storage and copies expressions",
          "[eigen]") {
  const Eigen::MatrixXf af = random_matrix(45, 70, 10);
  const Eigen::VectorXf x = random_matrix(70, 1, 11);
  const MatrixX<bf16> a = af.cast<bf16>();
  const RowMatrixX<bf16> ar = a;
  std::vector<float> want(45);
  lowprec::matvec(ar.data(), 45, 70, lowprec::layout::row_major, x.data(), want.data());
  const Eigen::VectorXf y = lowprec::matvec(ar, x);
  CHECK(std::memcmp(y.data(), want.data(), sizeof(float) * 45) == 0);
  // A block keeps its outer stride; an expression is evaluated row-major first.
  const Eigen::VectorXf yb = lowprec::matvec(ar.block(5, 0, 30, 70), x);
  CHECK(std::memcmp(yb.data(), want.data() + 5, sizeof(float) * 30) == 0);
  const Eigen::VectorXf ye = lowprec::matvec(a + MatrixX<bf16>::Zero(45, 70), x);
  CHECK(std::memcmp(ye.data(), want.data(), sizeof(float) * 45) == 0);
  CHECK(lowprec::matvec(MatrixX<bf16>(0, 3), Eigen::VectorXf(3)).size() == 0);
  CHECK(lowprec::matvec(MatrixX<bf16>(2, 0), Eigen::VectorXf(0)) == Eigen::VectorXf::Zero(2));
}
