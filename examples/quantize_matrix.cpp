// Quantizes one weight matrix under several schemes and prints what each costs in memory
// and in accuracy; then round-trips the int8 block-32 result through ggml's Q8_0 bytes.
#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <vector>

#include "lowprec/quant/eigen.hpp"
#include "lowprec/quant/ggml.hpp"

namespace lq = lowprec::quant;

int main() {
  // A deterministic 256 x 512 "weight matrix": smooth rows of different magnitude with a
  // few outliers, the shape of trained weights that makes granularity matter.
  Eigen::MatrixXf w(256, 512);
  for (int i = 0; i < w.rows(); ++i) {
    for (int j = 0; j < w.cols(); ++j) {
      const float row_gain = 0.01f + 0.002f * static_cast<float>(i % 16);
      const bool outlier = (i * 131 + j * 71) % 997 == 0;
      w(i, j) = row_gain * std::sin(0.37f * static_cast<float>(i) + 0.11f * static_cast<float>(j)) +
                (outlier ? 0.5f : 0.0f);
    }
  }

  const struct {
    const char* name;
    lq::scheme scheme;
  } schemes[] = {
      {"int8 per_tensor", lq::absmax(lq::code_format::int8)},
      {"int8 per_row", lq::absmax(lq::code_format::int8, lq::per_row())},
      {"int8 per_block(32)", lq::absmax(lq::code_format::int8, lq::per_block(32))},
      {"fp8_e4m3fn per_row", lq::absmax(lq::code_format::fp8_e4m3fn, lq::per_row())},
      {"uint8 affine per_row", lq::affine(lq::code_format::uint8, lq::per_row())},
      {"int4 per_row", lq::absmax(lq::code_format::int4, lq::per_row())},
      {"int4 per_block(64)", lq::absmax(lq::code_format::int4, lq::per_block(64))},
      {"int4 per_block(32)", lq::absmax(lq::code_format::int4, lq::per_block(32))},
      {"uint4 affine per_block(32)", lq::affine(lq::code_format::uint4, lq::per_block(32))},
  };

  std::printf("%-28s %6s %9s %10s %10s %8s\n", "scheme", "bits", "bytes", "max_abs", "rmse",
              "sqnr_db");
  std::printf("%-28s %6.2f %9zu\n", "float32", 32.0, static_cast<std::size_t>(w.size()) * 4);
  for (const auto& s : schemes) {
    const lq::quantized_tensor q = lq::quantize(w, s.scheme);
    const lq::error_metrics e = lq::measure_error(q, w);
    std::printf("%-28s %6.2f %9zu %10.3e %10.3e %8.2f\n", s.name, q.bits_per_parameter(),
                q.bytes(), e.max_abs, e.rmse, e.sqnr_db);
  }

  // ggml Q8_0, row by row (ggml blocks each row separately), then into a quantized_tensor
  // and back to the very same bytes.
  std::vector<float> rows(static_cast<std::size_t>(w.size()));
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      rows.data(), w.rows(), w.cols()) = w;
  std::vector<lq::ggml::block_q8_0> blocks(static_cast<std::size_t>(w.rows()) * 16);
  for (std::size_t r = 0; r < 256; ++r) {
    lq::ggml::quantize_q8_0(rows.data() + r * 512, 512, blocks.data() + r * 16);
  }
  const lq::quantized_tensor q8 = lq::ggml::import_q8_0(blocks.data(), blocks.size(), {256, 512});
  const std::vector<lq::ggml::block_q8_0> again = lq::ggml::export_q8_0(q8);
  const bool same = lq::ggml::to_bytes(again.data(), again.size()) ==
                    lq::ggml::to_bytes(blocks.data(), blocks.size());
  const lq::error_metrics e = lq::measure_error(q8, w);
  std::printf("ggml Q8_0: %zu blocks of 34 bytes, sqnr %.2f dB, export %s\n", blocks.size(),
              e.sqnr_db, same ? "byte-identical" : "DIFFERENT");

  // Use the dequantized weights like any Eigen matrix.
  const Eigen::MatrixXf w8 = q8.dequantize<Eigen::MatrixXf>();
  const Eigen::VectorXf x = Eigen::VectorXf::Ones(512);
  std::printf("max |W x - W8 x| = %.3e\n", static_cast<double>((w * x - w8 * x).cwiseAbs().maxCoeff()));
  return same ? 0 : 1;
}
