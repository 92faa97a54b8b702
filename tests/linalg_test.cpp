// The float-accumulating matvec, sum, squared norm and dot: every SIMD target, format,
// layout, shape and stride gives exactly the scalar reference's bits.
#include "lowprec/linalg.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/targets.hpp"

namespace {

using lowprec_test::for_each_target;

template <class T>
void check_format() {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const struct {
    std::size_t rows, cols, pad;
  } shapes[] = {{1, 1, 0}, {3, 31, 0}, {5, 32, 1}, {7, 33, 3}, {17, 100, 0}, {64, 257, 5},
                {1, 1000, 0}, {40, 3, 2}};
  for (const auto& s : shapes) {
    for (const auto order : {lowprec::layout::row_major, lowprec::layout::col_major}) {
      const bool rm = order == lowprec::layout::row_major;
      const std::size_t stride = (rm ? s.cols : s.rows) + s.pad;
      std::vector<T> a(stride * (rm ? s.rows : s.cols));
      for (auto& v : a) v = T(dist(rng));
      std::vector<float> x(s.cols);
      for (auto& v : x) v = dist(rng);
      std::vector<float> want(s.rows);
      const lowprec::detail::matvec_args m{lowprec::detail::matrix_format_of<T>::value, rm,
                                           s.rows, s.cols, stride};
      lowprec::detail::matvec_reference(a.data(), m, x.data(), want.data());
      for_each_target([&] {
        std::vector<float> y(s.rows + 1, -12345.0f);  // sentinel past the end
        lowprec::matvec(a.data(), s.rows, s.cols, order, x.data(), y.data(), stride);
        INFO(s.rows << "x" << s.cols << " stride " << stride << (rm ? " row" : " col"));
        CHECK(y.back() == -12345.0f);
        CHECK(std::memcmp(y.data(), want.data(), s.rows * sizeof(float)) == 0);
      });
    }
  }
}

}  // namespace

TEST_CASE("matvec equals the scalar reference bit for bit on every target", "[eigen]") {
  check_format<float>();
  check_format<lowprec::bf16>();
  check_format<lowprec::fp16>();
  check_format<lowprec::fp8_e4m3fn>();
  check_format<lowprec::fp8_e5m2>();
}

TEST_CASE("matvec computes the product and rejects a short stride", "[eigen]") {
  const lowprec::bf16 a[6] = {lowprec::bf16(1.0f), lowprec::bf16(2.0f), lowprec::bf16(3.0f),
                              lowprec::bf16(4.0f), lowprec::bf16(5.0f), lowprec::bf16(6.0f)};
  const float x[3] = {1.0f, 10.0f, 100.0f};
  float y[2] = {};
  lowprec::matvec(a, 2, 3, lowprec::layout::row_major, x, y);
  CHECK(y[0] == 321.0f);
  CHECK(y[1] == 654.0f);
  const float x2[2] = {1.0f, 10.0f};
  float y3[3] = {};
  lowprec::matvec(a, 3, 2, lowprec::layout::col_major, x2, y3);
  CHECK(y3[0] == 41.0f);
  CHECK(y3[2] == 63.0f);
  CHECK_THROWS_WITH(lowprec::matvec(a, 2, 3, lowprec::layout::row_major, x, y, 2),
                    "lowprec::matvec: stride 2 is smaller than the row length 3");
}

namespace {

template <class T>
void check_reductions() {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (const std::size_t n : {0u, 1u, 7u, 31u, 32u, 33u, 64u, 100u, 1000u, 4097u}) {
    for (const std::size_t misalign : {0u, 1u, 3u}) {
      std::vector<T> a(n + misalign);
      for (auto& v : a) v = T(dist(rng));
      std::vector<float> x(n + misalign);
      for (auto& v : x) v = dist(rng);
      const T* ap = a.data() + misalign;
      const float* xp = x.data() + misalign;
      const float want_sum = lowprec::detail::reduce_reference(ap, n, false);
      const float want_sq = lowprec::detail::reduce_reference(ap, n, true);
      const float want_dot = lowprec::detail::dot_reference(ap, xp, n);
      // The reference itself against double: float accumulation of n terms.
      double sum_d = 0, sq_d = 0, abs_d = 0;
      for (std::size_t k = 0; k < n; ++k) {
        const double v = static_cast<float>(ap[k]);
        sum_d += v;
        abs_d += std::fabs(v);
        sq_d += v * v;
      }
      const double u = std::ldexp(1.0, -24) * static_cast<double>(n + 1);
      CHECK(std::fabs(want_sum - sum_d) <= u * abs_d);
      CHECK(std::fabs(want_sq - sq_d) <= 2 * u * sq_d);
      for_each_target([&] {
        INFO("n " << n << " misalign " << misalign);
        const float got_sum = lowprec::sum(ap, n);
        const float got_sq = lowprec::squared_norm(ap, n);
        const float got_dot = lowprec::dot(ap, xp, n);
        CHECK(std::memcmp(&got_sum, &want_sum, 4) == 0);
        CHECK(std::memcmp(&got_sq, &want_sq, 4) == 0);
        CHECK(std::memcmp(&got_dot, &want_dot, 4) == 0);
      });
    }
  }
}

}  // namespace

TEST_CASE("sum, squared_norm and dot equal the scalar reference bit for bit on every target",
          "[eigen]") {
  check_reductions<float>();
  check_reductions<lowprec::bf16>();
  check_reductions<lowprec::fp16>();
  check_reductions<lowprec::fp8_e4m3fn>();
  check_reductions<lowprec::fp8_e5m2>();
}

TEST_CASE("reductions accumulate in float: 4096 ones sum to 4096", "[eigen]") {
  const std::vector<lowprec::bf16> ones(4096, lowprec::bf16(1.0f));
  const std::vector<float> onesf(4096, 1.0f);
  CHECK(lowprec::sum(ones.data(), ones.size()) == 4096.0f);
  CHECK(lowprec::squared_norm(ones.data(), ones.size()) == 4096.0f);
  CHECK(lowprec::norm(ones.data(), ones.size()) == 64.0f);
  CHECK(lowprec::dot(ones.data(), onesf.data(), ones.size()) == 4096.0f);
  // NaN and infinity propagate.
  std::vector<lowprec::fp16> v(100, lowprec::fp16(1.0f));
  v[57] = std::numeric_limits<lowprec::fp16>::infinity();
  CHECK(std::isinf(lowprec::sum(v.data(), v.size())));
  v[3] = std::numeric_limits<lowprec::fp16>::quiet_NaN();
  CHECK(std::isnan(lowprec::squared_norm(v.data(), v.size())));
}
