// Weights stored as bf16 in an Eigen matrix, multiplied by a float activation vector
// with float accumulation; the error against the fp32 product is printed, beside what
// happens when the product accumulates in bf16 (Eigen's default for a bf16 scalar).
#include <cmath>
#include <cstdio>
#include <random>

#include <Eigen/Core>

#include "lowprec/bf16.hpp"
#include "lowprec/eigen.hpp"

int main() {
  constexpr int kRows = 256, kCols = 4096;  // one layer: 4096 inputs -> 256 outputs
  std::mt19937 rng(2026);
  std::normal_distribution<float> dist(0.0f, 1.0f / 64.0f);  // ~ 1/sqrt(fan_in)
  Eigen::MatrixXf w32(kRows, kCols);
  for (Eigen::Index i = 0; i < w32.size(); ++i) w32.data()[i] = dist(rng);
  Eigen::VectorXf x(kCols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x[i] = std::fabs(dist(rng)) * 64.0f;

  // Store the weights in bf16: half the bytes.
  const Eigen::Matrix<lowprec::bf16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w16 =
      w32.cast<lowprec::bf16>();

  const Eigen::VectorXf exact = w32 * x;                          // fp32 weights
  const Eigen::VectorXf y = lowprec::matvec(w16, x);              // bf16 weights, float sums
  const Eigen::VectorXf y_bf16_acc =                              // bf16 everything
      (w16 * x.cast<lowprec::bf16>()).cast<float>();

  const auto report = [&](const char* what, const Eigen::VectorXf& v) {
    const float max_abs = (v - exact).cwiseAbs().maxCoeff();
    const float rel = (v - exact).norm() / exact.norm();
    std::printf("  %-34s max |error| %.3e   relative L2 error %.3e\n", what, max_abs, rel);
  };
  std::printf("y = W x with W %d x %d: %zu bytes as fp32, %zu bytes as bf16\n", kRows, kCols,
              static_cast<std::size_t>(w32.size()) * sizeof(float),
              static_cast<std::size_t>(w16.size()) * sizeof(lowprec::bf16));
  report("bf16 weights, float accumulation", y);
  report("bf16 weights, bf16 accumulation", y_bf16_acc);
  const float rel = (y - exact).norm() / exact.norm();
  // bf16 keeps 8 significant bits: each weight is off by at most 2^-9 relative, and
  // those errors average out in the sum. Accumulating in bf16 loses far more.
  return rel < 1e-2f ? 0 : 1;
}
