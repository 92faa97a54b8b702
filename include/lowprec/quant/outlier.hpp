// LLM.int8() outlier decomposition (Dettmers et al. 2022; bitsandbytes Linear8bitLt,
// REFERENCE.md section 6): Y = X W^T with X tokens x in (activations) and W out x in
// (nn.Linear's weight), both row-major.
//
//   weight      W row o quantized to int8 with its own scale sw[o] = absmax(W[o,:]) / 127
//               (vector-wise, codes.hpp's rounding: half to even, -127..127)
//   outliers    C = input columns k with any !(|X[t,k]| <= threshold) (default 6.0): a NaN
//               or Inf activation makes its column an outlier, so it propagates to Y
//   regular     X row t without C quantized to int8: sx[t] = absmax over k not in C / 127
//   product     Y[t,o] = (float(sum_{k not in C} xq[t,k] wq[o,k]) * sx[t]) * sw[o]
//                        + sum over k in C, ascending, of fp16(X[t,k]) * fp16(wq[o,k] sw[o])
//               the integer sum is exact (64-bit); the 16-bit part multiplies the two fp16
//               values in float and accumulates in float; each step is rounded to float
// Weights come back for the outlier columns from the int8 codes (as bitsandbytes does
// since 0.38), so the layer stores only int8 codes and one float per output row.
// Standard library only.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowprec/detail/format.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/quant/codes.hpp"
#include "lowprec/quant/metrics.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

namespace lowprec::quant {

// The outlier columns of a tokens x cols row-major matrix, ascending.
inline std::vector<std::size_t> outlier_columns(const float* x, std::size_t tokens,
                                                std::size_t cols, float threshold = 6.0f) {
  if (!(threshold > 0.0f)) {
    throw std::invalid_argument("lowprec::quant::outlier_columns: threshold is " +
                                ::lowprec::detail::shortest_decimal(threshold) +
                                "; it must be > 0");
  }
  std::vector<std::size_t> c;
  for (std::size_t k = 0; k < cols; ++k) {
    for (std::size_t t = 0; t < tokens; ++t) {
      if (!(std::fabs(x[t * cols + k]) <= threshold)) {
        c.push_back(k);
        break;
      }
    }
  }
  return c;
}

class llm_int8_linear {
 public:
  // W: out x in, row-major, finite (throws std::invalid_argument naming the first
  // non-finite weight).
  llm_int8_linear(const float* w, std::size_t out, std::size_t in) : out_(out), in_(in) {
    for (std::size_t e = 0; e < out * in; ++e) {
      if (!std::isfinite(w[e])) {
        throw std::invalid_argument("lowprec::quant::llm_int8_linear: w[" + std::to_string(e) +
                                    "] (row " + std::to_string(e / (in == 0 ? 1 : in)) +
                                    ") is " + ::lowprec::detail::shortest_decimal(w[e]) +
                                    "; weights must be finite");
      }
    }
    codes_.resize(out * in);
    scales_.resize(out);
    for (std::size_t o = 0; o < out; ++o) {
      float m = 0.0f;
      for (std::size_t k = 0; k < in; ++k) m = std::fmax(m, std::fabs(w[o * in + k]));
      scales_[o] = m / 127.0f;
      const float inv = inverse_scale(scales_[o]);
      for (std::size_t k = 0; k < in; ++k) {
        codes_[o * in + k] = static_cast<std::int8_t>(encode_symmetric_int(w[o * in + k], inv, 127));
      }
    }
  }

  std::size_t out_features() const noexcept { return out_; }
  std::size_t in_features() const noexcept { return in_; }
  const std::vector<std::int8_t>& codes() const noexcept { return codes_; }
  const std::vector<float>& scales() const noexcept { return scales_; }

  // y (tokens x out) = x (tokens x in) W^T; returns the outlier columns. Throws
  // std::invalid_argument naming the sizes (x_size != tokens * in, y_size != tokens * out)
  // or the threshold, before writing anything.
  std::vector<std::size_t> forward(const float* x, std::size_t tokens, std::size_t x_size,
                                   float* y, std::size_t y_size, float threshold = 6.0f) const {
    const char* who = "lowprec::quant::llm_int8_linear::forward: ";
    if (x_size != tokens * in_) {
      throw std::invalid_argument(std::string(who) + "x has " + std::to_string(x_size) +
                                  " elements; tokens " + std::to_string(tokens) + " x in " +
                                  std::to_string(in_) + " needs " + std::to_string(tokens * in_));
    }
    if (y_size != tokens * out_) {
      throw std::invalid_argument(std::string(who) + "y has " + std::to_string(y_size) +
                                  " elements; tokens " + std::to_string(tokens) + " x out " +
                                  std::to_string(out_) + " needs " +
                                  std::to_string(tokens * out_));
    }
    const std::vector<std::size_t> cols = outlier_columns(x, tokens, in_, threshold);
    std::vector<char> is_outlier(in_, 0);
    for (const std::size_t k : cols) is_outlier[k] = 1;
    // 16-bit outlier weights, out x |C|.
    std::vector<float> w16(out_ * cols.size());
    for (std::size_t o = 0; o < out_; ++o) {
      for (std::size_t j = 0; j < cols.size(); ++j) {
        const float v = static_cast<float>(codes_[o * in_ + cols[j]]) * scales_[o];
        w16[o * cols.size() + j] = static_cast<float>(fp16(v));
      }
    }
    std::vector<std::int8_t> xq(in_);
    std::vector<float> x16(cols.size());
    for (std::size_t t = 0; t < tokens; ++t) {
      const float* xt = x + t * in_;
      float m = 0.0f;
      for (std::size_t k = 0; k < in_; ++k) {
        if (!is_outlier[k]) m = std::fmax(m, std::fabs(xt[k]));
      }
      const float sx = m / 127.0f;
      const float inv = inverse_scale(sx);
      for (std::size_t k = 0; k < in_; ++k) {
        xq[k] = is_outlier[k] ? std::int8_t{0}
                              : static_cast<std::int8_t>(encode_symmetric_int(xt[k], inv, 127));
      }
      for (std::size_t j = 0; j < cols.size(); ++j) x16[j] = static_cast<float>(fp16(xt[cols[j]]));
      for (std::size_t o = 0; o < out_; ++o) {
        const std::int8_t* wo = codes_.data() + o * in_;
        std::int64_t acc = 0;
        for (std::size_t k = 0; k < in_; ++k) acc += static_cast<std::int64_t>(xq[k]) * wo[k];
        const float regular = static_cast<float>(acc) * sx;
        float sum = regular * scales_[o];
        for (std::size_t j = 0; j < cols.size(); ++j) {
          const float prod = x16[j] * w16[o * cols.size() + j];
          sum = sum + prod;
        }
        y[t * out_ + o] = sum;
      }
    }
    return cols;
  }

 private:
  std::size_t out_, in_;
  std::vector<std::int8_t> codes_;
  std::vector<float> scales_;
};

// The error of the decomposed product against the fp32 product (accumulated in double).
struct llm_int8_report {
  std::vector<std::size_t> outlier_columns;
  std::vector<float> y;
  error_metrics error;
};
inline llm_int8_report llm_int8_matmul(const float* x, std::size_t tokens, const float* w,
                                       std::size_t out, std::size_t in, float threshold = 6.0f) {
  const llm_int8_linear layer(w, out, in);
  llm_int8_report r;
  r.y.resize(tokens * out);
  r.outlier_columns = layer.forward(x, tokens, tokens * in, r.y.data(), r.y.size(), threshold);
  std::vector<double> ref(tokens * out);
  for (std::size_t t = 0; t < tokens; ++t) {
    for (std::size_t o = 0; o < out; ++o) {
      double s = 0.0;
      for (std::size_t k = 0; k < in; ++k) {
        s += static_cast<double>(x[t * in + k]) * static_cast<double>(w[o * in + k]);
      }
      ref[t * out + o] = s;
    }
  }
  r.error = measure_error(ref.data(), r.y.data(), r.y.size());
  return r;
}

}  // namespace lowprec::quant

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
