// NF4 weights end to end: quantize a 1024 x 1024 Gaussian weight matrix to NF4 in blocks
// of 64 (plain and double-quantized scales), multiply by a vector without ever building
// the fp32 weights, and report bits per parameter and the error against the fp32 product.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "lowprec/quant/fused.hpp"
#include "lowprec/quant/metrics.hpp"

int main() {
  namespace lq = lowprec::quant;
  const std::size_t rows = 1024, cols = 1024;
  std::mt19937 gen(1);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> w(rows * cols), x(cols);
  for (float& v : w) v = dist(gen);
  for (float& v : x) v = dist(gen) * 50.0f;

  // The fp32 reference product, accumulated in double.
  std::vector<double> ref(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    double s = 0.0;
    for (std::size_t k = 0; k < cols; ++k) s += static_cast<double>(w[i * cols + k]) * x[k];
    ref[i] = s;
  }

  std::printf("%-22s %8s %10s %10s\n", "weights", "bits", "rel. rmse", "SQNR dB");
  bool ok = true;
  for (const bool dq : {false, true}) {
    const auto m = lq::blockwise_matrix::quantize(w.data(), rows, cols, lq::weight_format::nf4,
                                                  64, dq);
    const std::vector<float> y = m.matvec(x);  // fused: codes -> registers -> float sums
    const lq::error_metrics e = lq::measure_error(ref.data(), y.data(), rows);
    double norm = 0.0;
    for (const double r : ref) norm += r * r;
    const double rel = e.rmse / std::sqrt(norm / static_cast<double>(rows));
    std::printf("%-22s %8.3f %10.4f %10.1f\n", dq ? "nf4 block 64 + dq" : "nf4 block 64",
                m.bits_per_parameter(), rel, e.sqnr_db);
    ok = ok && rel < 0.15 && e.sqnr_db > 15.0;
  }
  std::printf("SIMD target: %s\n", lowprec::simd_target());
  return ok ? 0 : 1;
}
