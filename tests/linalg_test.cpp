// The float-accumulating matvec: every SIMD target, format, layout, shape and stride gives
// exactly the scalar reference's bits.
#include "lowprec/linalg.hpp"

#include <cstdint>
#include <cstring>
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
