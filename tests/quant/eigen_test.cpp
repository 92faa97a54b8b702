// Eigen front of the quantizers: every kind of dense source and storage order reads as
// the same logical tensor; dequantize<> to Matrix, Array and Tensor; shape errors.
#include "lowprec/quant/eigen.hpp"

#include <Eigen/Core>
#include <cstring>
#include <random>
#include <unsupported/Eigen/CXX11/Tensor>
#include <vector>

#include "support/expect.hpp"
#include "support/catch.hpp"

namespace lq = lowprec::quant;
using lq::code_format;
using lowprec_test::require_invalid;

namespace {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

bool same(const lq::quantized_tensor& a, const lq::quantized_tensor& b) {
  if (a.shape() != b.shape() || a.codes() != b.codes() || a.zero_points() != b.zero_points() ||
      a.scales().size() != b.scales().size()) {
    return false;
  }
  return std::memcmp(a.scales().data(), b.scales().data(), a.scale_bytes()) == 0;
}

// The reference: the logical row-major contents as a raw buffer.
template <class M>
lq::quantized_tensor raw(const M& m, const lq::scheme& s) {
  std::vector<float> x;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) x.push_back(static_cast<float>(m(i, j)));
  return lq::quantize(x.data(), {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())}, s);
}

const lq::scheme kSchemes[] = {
    lq::absmax(code_format::int8, lq::per_row()),
    lq::absmax(code_format::int4, lq::per_column()),
    lq::absmax(code_format::int8, lq::per_block(4)),
    lq::absmax(code_format::fp8_e4m3fn, lq::per_block(3, 0)),
    lq::affine(code_format::uint8, lq::per_tensor()),
    lq::affine(code_format::uint4, lq::per_block(5)),
};

}  // namespace

TEST_CASE("matrices in either storage order, maps, blocks and expressions read alike", "[quant]") {
  std::srand(3);
  const Eigen::MatrixXf m = Eigen::MatrixXf::Random(9, 13);
  const RowMatrixXf mr = m;
  const Eigen::MatrixXf big = Eigen::MatrixXf::Random(20, 30);
  for (const lq::scheme& s : kSchemes) {
    INFO(lq::to_string(s.format) << " " << lq::to_string(s.groups.kind));
    const lq::quantized_tensor want = raw(m, s);
    CHECK(same(lq::quantize(m, s), want));
    CHECK(same(lq::quantize(mr, s), want));
    CHECK(same(lq::quantize(Eigen::Map<const Eigen::MatrixXf>(m.data(), 9, 13), s), want));
    CHECK(same(lq::quantize(m.array(), s), want));
    CHECK(same(lq::quantize(m.transpose().transpose(), s), want));
    CHECK(same(lq::quantize(m * 2.0f, s), raw(Eigen::MatrixXf(m * 2.0f), s)));
    CHECK(same(lq::quantize(m.transpose(), s), raw(Eigen::MatrixXf(m.transpose()), s)));
    // A strided block of a bigger matrix (outer stride 20, and every other row).
    CHECK(same(lq::quantize(big.block(2, 3, 9, 13), s), raw(Eigen::MatrixXf(big.block(2, 3, 9, 13)), s)));
    const Eigen::Map<const Eigen::MatrixXf, 0, Eigen::Stride<40, 2>> every_other(big.data(), 10, 15);
    CHECK(same(lq::quantize(every_other, s), raw(Eigen::MatrixXf(every_other), s)));
  }
}

TEST_CASE("vectors are rank 1; double, fp16 and bf16 matrices are read as float", "[quant]") {
  std::srand(4);
  const Eigen::VectorXf v = Eigen::VectorXf::Random(37);
  const lq::scheme s = lq::absmax(code_format::int4, lq::per_block(8));
  const lq::quantized_tensor q = lq::quantize(v, s);
  CHECK(q.shape() == std::vector<std::size_t>{37});
  CHECK(same(lq::quantize(Eigen::RowVectorXf(v.transpose()), s), q));
  CHECK(same(lq::quantize(v.segment(0, 37), s), q));

  const Eigen::MatrixXf m = Eigen::MatrixXf::Random(6, 10);
  const Eigen::MatrixXd md = m.cast<double>();
  const Eigen::Matrix<lowprec::bf16, Eigen::Dynamic, Eigen::Dynamic> mb = m.cast<lowprec::bf16>();
  const Eigen::Matrix<lowprec::fp16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> mh =
      m.cast<lowprec::fp16>();
  const lq::scheme s8 = lq::absmax(code_format::int8, lq::per_block(4));
  CHECK(same(lq::quantize(md, s8), raw(m, s8)));
  CHECK(same(lq::quantize(mb, s8), raw(Eigen::MatrixXf(mb.cast<float>()), s8)));
  CHECK(same(lq::quantize(mh, s8), raw(Eigen::MatrixXf(mh.cast<float>()), s8)));

  // Eigen's own half and bfloat16 read exactly as lowprec's fp16 and bf16 (same values).
  const Eigen::Matrix<Eigen::half, Eigen::Dynamic, Eigen::Dynamic> eh = m.cast<Eigen::half>();
  const Eigen::Matrix<Eigen::bfloat16, Eigen::Dynamic, Eigen::Dynamic> eb =
      m.cast<Eigen::bfloat16>();
  CHECK(same(lq::quantize(eh, s8), raw(Eigen::MatrixXf(eh.cast<float>()), s8)));
  CHECK(same(lq::quantize(eh, s8), lq::quantize(Eigen::MatrixXf(mh.cast<float>()), s8)));
  CHECK(same(lq::quantize(eb, s8), lq::quantize(Eigen::MatrixXf(mb.cast<float>()), s8)));
  CHECK(same(lq::quantize(eh.transpose() * Eigen::half(2), s8),
             raw(Eigen::MatrixXf((eh.transpose() * Eigen::half(2)).cast<float>()), s8)));
  Eigen::Tensor<Eigen::bfloat16, 2, Eigen::RowMajor> tb(6, 10);
  for (Eigen::Index i = 0; i < 6; ++i) {
    for (Eigen::Index j = 0; j < 10; ++j) tb(i, j) = eb(i, j);
  }
  CHECK(same(lq::quantize(tb, s8), lq::quantize(eb, s8)));
  const lq::quantized_tensor qh = lq::quantize(eh, s8);
  const lq::error_metrics e = lq::measure_error(qh, eh);
  CHECK(e.max_abs == lq::measure_error(qh, Eigen::MatrixXf(eh.cast<float>())).max_abs);
  CHECK(lq::quantize_per_tensor(eh, 0.01f, 3, code_format::uint8).codes() ==
        lq::quantize_per_tensor(Eigen::MatrixXf(eh.cast<float>()), 0.01f, 3, code_format::uint8)
            .codes());
}

TEST_CASE("Tensor and TensorMap in either layout are the same logical tensor", "[quant]") {
  Eigen::Tensor<float, 3> t(4, 5, 6);  // column-major
  t.setRandom();
  Eigen::Tensor<float, 3, Eigen::RowMajor> tr(4, 5, 6);
  std::vector<float> x;  // row-major contents
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j)
      for (int k = 0; k < 6; ++k) {
        tr(i, j, k) = t(i, j, k);
        x.push_back(t(i, j, k));
      }
  const std::vector<std::size_t> shape{4, 5, 6};
  const std::vector<lq::scheme> schemes{
      lq::absmax(code_format::int8, lq::per_channel(1)), lq::absmax(code_format::int4, lq::per_block(4, 0)),
      lq::absmax(code_format::fp8_e5m2, lq::per_block(4)), lq::affine(code_format::uint8, lq::per_channel(-1)),
      lq::affine(code_format::uint4, lq::per_block(2, 1))};
  for (const lq::scheme& s : schemes) {
    const lq::quantized_tensor want = lq::quantize(x.data(), shape, s);
    CHECK(same(lq::quantize(t, s), want));
    CHECK(same(lq::quantize(tr, s), want));
    CHECK(same(lq::quantize(Eigen::TensorMap<Eigen::Tensor<float, 3>>(t.data(), 4, 5, 6), s), want));
    CHECK(same(lq::quantize(Eigen::TensorMap<const Eigen::Tensor<const float, 3, Eigen::RowMajor>>(tr.data(), 4, 5, 6), s), want));
    // A tensor expression is evaluated first.
    const Eigen::Tensor<float, 3> doubled = t * 2.0f;
    CHECK(same(lq::quantize(t * 2.0f, s), lq::quantize(doubled, s)));
  }
  Eigen::Tensor<double, 2, Eigen::RowMajor> td(5, 6);
  for (int j = 0; j < 5; ++j)
    for (int k = 0; k < 6; ++k) td(j, k) = static_cast<double>(tr(0, j, k));
  CHECK(lq::quantize(td, schemes[0]).shape() == std::vector<std::size_t>{5, 6});
}

TEST_CASE("dequantize<> fills Matrix, Array and Tensor types", "[quant]") {
  std::srand(5);
  const Eigen::MatrixXf m = Eigen::MatrixXf::Random(7, 9);
  const lq::quantized_tensor q = lq::quantize(m, lq::absmax(code_format::int8, lq::per_block(4)));
  const std::vector<float> flat = q.dequantize();
  const Eigen::MatrixXf a = q.dequantize<Eigen::MatrixXf>();
  const RowMatrixXf b = q.dequantize<RowMatrixXf>();
  const Eigen::ArrayXXd c = q.dequantize<Eigen::ArrayXXd>();
  const auto t = q.dequantize<Eigen::Tensor<float, 2>>();
  const auto tr = q.dequantize<Eigen::Tensor<float, 2, Eigen::RowMajor>>();
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 9; ++j) {
      const float want = flat[static_cast<std::size_t>(i * 9 + j)];
      REQUIRE(a(i, j) == want);
      REQUIRE(b(i, j) == want);
      REQUIRE(c(i, j) == static_cast<double>(want));
      REQUIRE(t(i, j) == want);
      REQUIRE(tr(i, j) == want);
    }
  }
  // |m| <= 1, so every block's scale is at most 1/127 and the error at most half of it.
  CHECK((a - m).cwiseAbs().maxCoeff() <= 0.5f / 127.0f * 1.0001f);
  const Eigen::VectorXf v = Eigen::VectorXf::Random(11);
  const lq::quantized_tensor qv = lq::quantize(v, lq::absmax(code_format::int8));
  CHECK(qv.dequantize<Eigen::VectorXf>().size() == 11);
  CHECK(qv.dequantize<Eigen::RowVectorXf>().cols() == 11);
  CHECK(qv.dequantize<Eigen::MatrixXf>().cols() == 1);
  CHECK(qv.dequantize<Eigen::Tensor<float, 1>>().dimension(0) == 11);
  const Eigen::Matrix<lowprec::bf16, 7, 9> fixed = q.dequantize<Eigen::Matrix<lowprec::bf16, 7, 9>>();
  CHECK(static_cast<float>(fixed(3, 4)) == static_cast<float>(lowprec::bf16(a(3, 4))));
}

TEST_CASE("shapes that do not fit throw std::invalid_argument naming them", "[quant]") {
  std::srand(6);
  const Eigen::MatrixXf m = Eigen::MatrixXf::Random(3, 4);
  const lq::quantized_tensor q = lq::quantize(m, lq::absmax(code_format::int8));
  require_invalid([&] { (void)q.dequantize<Eigen::Matrix4f>(); }, {"[3, 4]", "4x4"});
  require_invalid([&] { (void)q.dequantize<Eigen::Tensor<float, 3>>(); }, {"rank 2", "[3, 4]", "rank 3"});
  Eigen::Tensor<float, 3> t(2, 2, 2);
  t.setZero();
  const lq::quantized_tensor q3 = lq::quantize(t, lq::absmax(code_format::int8));
  require_invalid([&] { (void)q3.dequantize<Eigen::MatrixXf>(); }, {"rank-3", "[2, 2, 2]"});
  require_invalid([&] { (void)lq::measure_error(q, Eigen::MatrixXf(4, 3)); },
                  {"measure_error", "[4, 3]", "[3, 4]"});
  require_invalid([&] { (void)lq::quantize(m, lq::absmax(code_format::int8, lq::per_channel(2))); },
                  {"axis 2", "[3, 4]"});
}

TEST_CASE("measure_error against Eigen references", "[quant]") {
  std::srand(7);
  const Eigen::MatrixXf m = Eigen::MatrixXf::Random(32, 64);
  const lq::quantized_tensor q = lq::quantize(m, lq::absmax(code_format::int4, lq::per_block(32)));
  const lq::error_metrics e = lq::measure_error(q, m);
  const Eigen::MatrixXf d = q.dequantize<Eigen::MatrixXf>();
  CHECK(e.max_abs == Approx((d - m).cwiseAbs().maxCoeff()));
  CHECK(e.rmse == Approx(std::sqrt((d - m).squaredNorm() / 2048.0)).epsilon(1e-5));
  CHECK(e.count == 2048);
  Eigen::Tensor<float, 2> t(32, 64);
  for (int i = 0; i < 32; ++i)
    for (int j = 0; j < 64; ++j) t(i, j) = m(i, j);
  CHECK(lq::measure_error(q, t).max_abs == e.max_abs);
}
