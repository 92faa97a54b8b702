// lowprec's quantizers against PyTorch 1.13, bit for bit: scales, zero points, codes and
// dequantized values of every case in tests/data/quant/golden.txt (make_golden.py), read
// from row-major buffers and again through column-major strided views.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "lowprec/quant/quantized_tensor.hpp"
#include "quant/golden_reader.hpp"
#include "support/catch.hpp"

namespace {

namespace lq = lowprec::quant;
using lowprec_test::float_bits;
using lowprec_test::golden_case;

lq::code_format format_of(const std::string& s) {
  if (s == "int8") return lq::code_format::int8;
  if (s == "uint8") return lq::code_format::uint8;
  if (s == "int4") return lq::code_format::int4;
  if (s == "uint4") return lq::code_format::uint4;
  throw std::runtime_error("unknown format " + s);
}

lq::grouping grouping_of(const golden_case& c) {
  if (c.granularity == "tensor") return lq::per_tensor();
  if (c.granularity == "channel") return lq::per_channel(c.axis);
  return lq::per_block(c.block, c.axis);
}

int code_value(const lq::quantized_tensor& q, std::size_t i) {
  switch (q.format()) {
    case lq::code_format::int8: return q.code<std::int8_t>(i);
    case lq::code_format::uint8: return q.code<std::uint8_t>(i);
    case lq::code_format::int4: return q.code<lowprec::int4>(i);
    case lq::code_format::uint4: return q.code<lowprec::uint4>(i);
    default: return 0;
  }
}

// The same elements stored column-major (first axis fastest), as a strided view.
struct column_major_copy {
  std::vector<float> data;
  lq::tensor_view<float> view;
};
column_major_copy to_column_major(const golden_case& c) {
  column_major_copy out;
  const std::size_t r = c.shape.size();
  std::vector<std::ptrdiff_t> strides(r);
  std::ptrdiff_t step = 1;
  for (std::size_t d = 0; d < r; ++d) {
    strides[d] = step;
    step *= static_cast<std::ptrdiff_t>(c.shape[d]);
  }
  out.data.resize(c.x.size());
  std::vector<std::size_t> index(r, 0);
  for (std::size_t flat = 0; flat < c.x.size(); ++flat) {
    std::ptrdiff_t off = 0;
    for (std::size_t d = 0; d < r; ++d) off += static_cast<std::ptrdiff_t>(index[d]) * strides[d];
    out.data[static_cast<std::size_t>(off)] = c.x[flat];
    for (std::size_t d = r; d-- > 0;) {
      if (++index[d] < c.shape[d]) break;
      index[d] = 0;
    }
  }
  out.view = lq::tensor_view<float>{out.data.data(), c.shape, strides};
  return out;
}

lq::quantized_tensor run_case(const golden_case& c, const lq::tensor_view<float>& x) {
  const lq::code_format f = format_of(c.format);
  if (c.op == "given") {
    if (c.granularity == "tensor") return lq::quantize_per_tensor(x, c.scales[0], c.zero_points[0], f);
    return lq::quantize_per_channel(x, c.scales, c.zero_points, c.axis, f);
  }
  const lq::scheme s = c.op == "absmax" ? lq::absmax(f, grouping_of(c)) : lq::affine(f, grouping_of(c));
  return lq::quantize(x, s);
}

void check_case(const golden_case& c, const lq::quantized_tensor& q) {
  REQUIRE(q.shape() == c.shape);
  REQUIRE(q.scales().size() == c.scales.size());
  std::size_t bad_scales = 0, bad_zps = 0, bad_codes = 0, bad_deq = 0;
  for (std::size_t g = 0; g < c.scales.size(); ++g) {
    if (float_bits(q.scales()[g]) != float_bits(c.scales[g])) {
      if (bad_scales++ == 0) {
        INFO("scale " << g << ": lowprec " << q.scales()[g] << ", torch " << c.scales[g]);
        CHECK(false);
      }
    }
  }
  if (!c.zero_points.empty()) {
    REQUIRE(q.zero_points().size() == c.zero_points.size());
    for (std::size_t g = 0; g < c.zero_points.size(); ++g) {
      bad_zps += q.zero_points()[g] != c.zero_points[g] ? 1 : 0;
    }
  }
  const std::vector<float> deq = q.dequantize();
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    if (code_value(q, i) != c.codes[i]) {
      if (bad_codes++ == 0) {
        INFO("element " << i << " x = " << c.x[i] << ": lowprec code " << code_value(q, i)
                        << ", torch " << c.codes[i]);
        CHECK(false);
      }
    }
    bad_deq += float_bits(deq[i]) != float_bits(c.deq[i]) ? 1 : 0;
  }
  CHECK(bad_scales == 0);
  CHECK(bad_zps == 0);
  CHECK(bad_codes == 0);
  CHECK(bad_deq == 0);
}

const std::vector<golden_case>& cases() {
  static const std::vector<golden_case> all =
      lowprec_test::read_golden(std::string(LOWPREC_QUANT_DATA_DIR) + "/golden.txt");
  return all;
}

}  // namespace

TEST_CASE("the golden file covers every operation, format and granularity", "[quant]") {
  const auto& all = cases();
  REQUIRE(all.size() >= 80);
  for (const char* op : {"observer", "given", "absmax"}) {
    CHECK(std::any_of(all.begin(), all.end(), [&](const golden_case& c) { return c.op == op; }));
  }
  for (const char* f : {"int8", "int4", "uint8", "uint4"}) {
    for (const char* g : {"tensor", "channel", "block"}) {
      INFO(f << " " << g);
      CHECK(std::any_of(all.begin(), all.end(), [&](const golden_case& c) {
        return c.format == f && c.granularity == g;
      }));
    }
  }
}

TEST_CASE("codes, scales, zero points and dequantized values equal PyTorch's bit for bit",
          "[quant]") {
  for (const golden_case& c : cases()) {
    INFO("case " << c.name << " (" << c.op << " " << c.format << " " << c.granularity
                 << " axis " << c.axis << " block " << c.block << ")");
    REQUIRE(c.x.size() == c.codes.size());
    check_case(c, run_case(c, lq::tensor_view<float>{c.x.data(), c.shape, {}}));
  }
}

TEST_CASE("a column-major strided view of the same data gives the same result", "[quant]") {
  for (const golden_case& c : cases()) {
    INFO("case " << c.name);
    const column_major_copy cm = to_column_major(c);
    check_case(c, run_case(c, cm.view));
  }
}
