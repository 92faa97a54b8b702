// The container and the N-d front: storage accounting, typed code access, every
// granularity against an independent per-group reference, sources of every scalar type
// and layout, empty and scalar tensors, import from parts, metrics, and errors.
#include "lowprec/quant/quantized_tensor.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "support/expect.hpp"
#include "support/catch.hpp"

namespace lq = lowprec::quant;
using lq::code_format;
using lowprec_test::require_invalid;

namespace {

std::vector<float> normal_data(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(gen);
  return x;
}

// An independent reference: gathers each group's elements by brute force (the group of
// element i from scheme.hpp's definition written out with index arithmetic), quantizes
// the group as one 1-D block, and scatters the codes back.
std::vector<float> reference_dequantized(const std::vector<float>& x,
                                         const std::vector<std::size_t>& shape,
                                         const lq::scheme& s) {
  const std::size_t n = x.size(), r = shape.size();
  auto group = [&](std::size_t flat) -> std::size_t {
    if (s.groups.kind == lq::granularity::per_tensor) return 0;
    const std::size_t a = s.groups.axis < 0 ? r - static_cast<std::size_t>(-s.groups.axis)
                                            : static_cast<std::size_t>(s.groups.axis);
    std::vector<std::size_t> idx(r);
    for (std::size_t d = r, rest = flat; d-- > 0;) {
      idx[d] = rest % shape[d];
      rest /= shape[d];
    }
    if (s.groups.kind == lq::granularity::per_channel) return idx[a];
    idx[a] /= s.groups.block_size;  // block index in place of the axis index
    std::size_t g = 0;
    for (std::size_t d = 0; d < r; ++d) {
      const std::size_t extent =
          d == a ? lq::block_count(shape[a], s.groups.block_size) : shape[d];
      g = g * extent + idx[d];
    }
    return g;
  };
  std::vector<std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t g = group(i);
    if (members.size() <= g) members.resize(g + 1);
    members[g].push_back(i);
  }
  std::vector<float> out(n);
  for (const auto& m : members) {
    std::vector<float> part;
    for (const std::size_t i : m) part.push_back(x[i]);
    std::vector<std::uint8_t> codes(lq::code_bytes(s.format, part.size()) + 1);
    std::vector<float> scales(1), deq(part.size());
    std::vector<std::uint8_t> zps(1);
    if (part.empty()) continue;
    if (s.map == lq::mapping::affine) {
      lq::quantize_affine_blocks(part.data(), part.size(), part.size(), s.format, codes.data(),
                                 scales.data(), zps.data());
      lq::dequantize_affine_blocks(codes.data(), scales.data(), zps.data(), part.size(),
                                   part.size(), s.format, deq.data());
    } else {
      lq::quantize_absmax_blocks(part.data(), part.size(), part.size(), s.format, codes.data(),
                                 scales.data());
      lq::dequantize_absmax_blocks(codes.data(), scales.data(), part.size(), part.size(),
                                   s.format, deq.data());
    }
    for (std::size_t k = 0; k < m.size(); ++k) out[m[k]] = deq[k];
  }
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], 4) != 0) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("every granularity and format equals a brute-force per-group reference", "[quant]") {
  const std::vector<std::vector<std::size_t>> shapes{{37}, {6, 9}, {3, 4, 5}, {2, 3, 4, 5}, {5, 1}};
  const code_format formats[] = {code_format::int8, code_format::int4, code_format::fp8_e4m3fn,
                                 code_format::fp8_e5m2, code_format::uint8, code_format::uint4};
  std::uint32_t seed = 1;
  for (const auto& shape : shapes) {
    const std::size_t n = lq::element_count(shape, "test");
    const std::vector<float> x = normal_data(n, seed++);
    std::vector<lq::grouping> groupings{lq::per_tensor()};
    for (int a = 0; a < static_cast<int>(shape.size()); ++a) {
      groupings.push_back(lq::per_channel(a));
      groupings.push_back(lq::per_channel(a - static_cast<int>(shape.size())));
      for (const std::size_t b : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{32}}) {
        groupings.push_back(lq::per_block(b, a));
      }
    }
    for (const code_format f : formats) {
      for (const lq::grouping& g : groupings) {
        const bool aff = f == code_format::uint8 || f == code_format::uint4;
        const lq::scheme s = aff ? lq::affine(f, g) : lq::absmax(f, g);
        INFO(lq::shape_string(shape) << " " << lq::to_string(f) << " " << lq::to_string(g.kind)
                                     << " axis " << g.axis << " block " << g.block_size);
        const lq::quantized_tensor q = lq::quantize(x.data(), shape, s);
        CHECK(q.scales().size() == q.geometry().groups);
        REQUIRE(same_bits(q.dequantize(), reference_dequantized(x, shape, s)));
        for (std::size_t i = 0; i < n; i += 7) {
          REQUIRE(q.value(i) == q.dequantize()[i]);
        }
      }
    }
  }
}

TEST_CASE("bytes and bits per parameter count codes, scales and zero points", "[quant]") {
  const std::vector<float> x = normal_data(4096, 3);
  const auto bits = [&](const lq::scheme& s) {
    return lq::quantize(x.data(), {64, 64}, s).bits_per_parameter();
  };
  CHECK(bits(lq::absmax(code_format::int8, lq::per_block(32))) == 9.0);     // 8 + 32/32
  CHECK(bits(lq::absmax(code_format::int4, lq::per_block(64))) == 4.5);     // 4 + 32/64
  CHECK(bits(lq::absmax(code_format::int4, lq::per_block(32))) == 5.0);
  CHECK(bits(lq::affine(code_format::uint4, lq::per_block(32))) == 5.25);   // 4 + 1 + 0.25
  CHECK(bits(lq::absmax(code_format::fp8_e4m3fn, lq::per_tensor())) == 8.0 + 32.0 / 4096);
  const lq::quantized_tensor q = lq::quantize(x.data(), {64, 64}, lq::affine(code_format::uint8, lq::per_row()));
  CHECK(q.code_bytes() == 4096);
  CHECK(q.scale_bytes() == 64 * 4);
  CHECK(q.zero_point_bytes() == 64);
  CHECK(q.bytes() == 4096 + 256 + 64);
  // an odd count of 4-bit codes rounds up to whole bytes
  CHECK(lq::quantize(x.data(), {7}, lq::absmax(code_format::int4)).code_bytes() == 4);
}

TEST_CASE("codes are read as their lowprec types; a wrong type throws", "[quant]") {
  const std::vector<float> x{-1.0f, 0.5f, 1.0f};
  const lq::quantized_tensor q8 = lq::quantize(x.data(), {3}, lq::absmax(code_format::int8));
  CHECK(q8.code<std::int8_t>(0) == -127);
  CHECK(q8.code<std::int8_t>(1) == 64);  // 63.5 rounds to even
  const lq::quantized_tensor q4 = lq::quantize(x.data(), {3}, lq::absmax(code_format::int4));
  CHECK(static_cast<int>(q4.code<lowprec::int4>(0)) == -7);
  // 0.5 * (1 / float(1/7)) = 3.4999998: just below the tie, so 3.
  CHECK(static_cast<int>(q4.code<lowprec::int4>(1)) == 3);
  const lq::quantized_tensor e4 = lq::quantize(x.data(), {3}, lq::absmax(code_format::fp8_e4m3fn));
  CHECK(static_cast<float>(e4.code<lowprec::fp8_e4m3fn>(2)) == 448.0f);
  const lq::quantized_tensor u4 = lq::quantize(x.data(), {3}, lq::affine(code_format::uint4));
  CHECK(static_cast<int>(u4.code<lowprec::uint4>(0)) == 0);
  require_invalid([&] { (void)q8.code<std::uint8_t>(0); }, {"int8"});
  require_invalid([&] { (void)q4.code<std::int8_t>(0); }, {"int4"});
}

TEST_CASE("double, fp16 and bf16 sources read as float; doubles round to nearest", "[quant]") {
  const std::vector<float> xf = normal_data(96, 9);
  std::vector<double> xd(xf.begin(), xf.end());
  std::vector<lowprec::fp16> xh;
  std::vector<lowprec::bf16> xb;
  std::vector<float> xh_f, xb_f;
  for (const float v : xf) {
    xh.emplace_back(v);
    xb.emplace_back(v);
    xh_f.push_back(static_cast<float>(xh.back()));
    xb_f.push_back(static_cast<float>(xb.back()));
  }
  const lq::scheme s = lq::absmax(code_format::int4, lq::per_block(32));
  const auto deq = [&](const lq::quantized_tensor& q) { return q.dequantize(); };
  CHECK(same_bits(deq(lq::quantize(xd.data(), {96}, s)), deq(lq::quantize(xf.data(), {96}, s))));
  CHECK(same_bits(deq(lq::quantize(xh.data(), {96}, s)), deq(lq::quantize(xh_f.data(), {96}, s))));
  CHECK(same_bits(deq(lq::quantize(xb.data(), {96}, s)), deq(lq::quantize(xb_f.data(), {96}, s))));
  // 1 + 2^-30 is not a float: it is read as 1.
  const std::vector<double> tricky{1.0 + std::ldexp(1.0, -30), 0.5};
  const lq::quantized_tensor q = lq::quantize(tricky.data(), {2}, lq::absmax(code_format::int8));
  CHECK(q.scales()[0] == 1.0f / 127.0f);
}

TEST_CASE("strided views: transposed, sliced and reversed sources", "[quant]") {
  // A 6x8 row-major matrix; view its transpose (8x6) through strides and compare with a
  // materialised transpose.
  const std::vector<float> x = normal_data(48, 4);
  std::vector<float> xt(48);
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t j = 0; j < 8; ++j) xt[j * 6 + i] = x[i * 8 + j];
  const lq::scheme s = lq::absmax(code_format::int8, lq::per_block(4));
  const lq::tensor_view<float> tv{x.data(), {8, 6}, {1, 8}};
  CHECK(same_bits(lq::quantize(tv, s).dequantize(), lq::quantize(xt.data(), {8, 6}, s).dequantize()));
  // Every other column (stride 2), and a reversed vector (negative stride).
  std::vector<float> cols;
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t j = 0; j < 8; j += 2) cols.push_back(x[i * 8 + j]);
  const lq::tensor_view<float> every_other{x.data(), {6, 4}, {8, 2}};
  CHECK(same_bits(lq::quantize(every_other, s).dequantize(), lq::quantize(cols.data(), {6, 4}, s).dequantize()));
  std::vector<float> rev(x.rbegin(), x.rend());
  const lq::tensor_view<float> backwards{x.data() + 47, {48}, {-1}};
  CHECK(same_bits(lq::quantize(backwards, s).dequantize(), lq::quantize(rev.data(), {48}, s).dequantize()));
}

TEST_CASE("empty tensors and scalars", "[quant]") {
  const lq::scheme s8 = lq::absmax(code_format::int8, lq::per_block(32));
  const lq::quantized_tensor e = lq::quantize(static_cast<const float*>(nullptr), {0}, s8);
  CHECK(e.size() == 0);
  CHECK(e.codes().empty());
  CHECK(e.scales().empty());
  CHECK(e.dequantize().empty());
  CHECK(e.bits_per_parameter() == 0.0);
  const lq::quantized_tensor e2 = lq::quantize(static_cast<const float*>(nullptr), {3, 0},
                                               lq::affine(code_format::uint8, lq::per_row()));
  CHECK(e2.scales() == std::vector<float>(3, lq::affine_eps));
  const lq::quantized_tensor et = lq::quantize(static_cast<const float*>(nullptr), {0},
                                               lq::absmax(code_format::int4));
  CHECK(et.scales() == std::vector<float>{0.0f});
  const float one = 3.0f;
  const lq::quantized_tensor scalar = lq::quantize(&one, {}, lq::absmax(code_format::int8));
  CHECK(scalar.size() == 1);
  CHECK(scalar.dequantize() == std::vector<float>{3.0f});
  const lq::quantized_tensor def;
  CHECK(def.size() == 0);
}

TEST_CASE("bad arguments throw std::invalid_argument naming them; nothing is returned",
          "[quant]") {
  const std::vector<float> x(12, 1.0f);
  require_invalid([&] { lq::quantize(x.data(), {3, 4}, lq::absmax(code_format::int8, lq::per_channel(2))); },
                  {"lowprec::quant::quantize: axis 2", "[3, 4]"});
  require_invalid([&] { lq::quantize(x.data(), {3, 4}, lq::absmax(code_format::int8, lq::per_block(0))); },
                  {"lowprec::quant::quantize: block_size is 0"});
  require_invalid([&] { lq::quantize(lq::tensor_view<float>{x.data(), {3, 4}, {4}}, lq::absmax(code_format::int8)); },
                  {"strides has 1 entries", "rank-2", "[3, 4]"});
  require_invalid([&] { lq::quantize(static_cast<const float*>(nullptr), {3, 4}, lq::absmax(code_format::int8)); },
                  {"data is null", "12 elements"});
  require_invalid([&] {
    lq::quantize(x.data(), {12}, lq::scheme{code_format::uint8, lq::mapping::absmax, lq::per_tensor()});
  }, {"uint8", "absmax"});
  const lq::tensor_view<float> v{x.data(), {3, 4}, {}};
  require_invalid([&] { lq::quantize_per_channel(v, {0.1f, 0.1f}, {0, 0}, 0, code_format::uint8); },
                  {"quantize_per_channel", "2 scales", "axis 0", "[3, 4]", "3 channels"});
  require_invalid([&] { lq::quantize_per_channel(v, {0.1f, 0.1f, 0.0f}, {0, 0, 0}, 0, code_format::uint8); },
                  {"scale (channel 2)"});
  require_invalid([&] { lq::quantize_per_channel(v, {0.1f, 0.1f, 0.1f}, {0, 16, 0}, 0, code_format::uint4); },
                  {"zero_point (channel 1)", "16"});
  require_invalid([&] { lq::quantize_per_channel(v, {0.1f}, {0}, 5, code_format::uint4); },
                  {"lowprec::quant::quantize_per_channel: axis 5"});
  require_invalid([&] { lq::quantize_per_tensor(v, 0.1f, 300, code_format::uint8); }, {"300"});
}

TEST_CASE("a tensor from parts checks every size; import keeps codes and scales", "[quant]") {
  const lq::scheme s = lq::affine(code_format::uint4, lq::per_block(2));
  const lq::quantized_tensor q(s, {2, 3}, {0x21, 0x43, 0x05}, {1, 2, 3, 4}, {0, 1, 2, 3});
  CHECK(q.code_bits(0) == 1);
  CHECK(q.code_bits(4) == 5);
  CHECK(q.value(4) == (5.0f - 2.0f) * 3.0f);  // row 1, block 0 = group 2
  CHECK(q.value(5) == (0.0f - 3.0f) * 4.0f);  // row 1, block 1 = group 3
  require_invalid([&] { lq::quantized_tensor(s, {2, 3}, {0x21, 0x43}, {1, 2, 3, 4}, {0, 1, 2, 3}); },
                  {"codes has 2 entries", "[2, 3]", "needs 3"});
  require_invalid([&] { lq::quantized_tensor(s, {2, 3}, {0x21, 0x43, 0x05}, {1, 2, 3}, {0, 1, 2, 3}); },
                  {"scales has 3 entries", "needs 4"});
  require_invalid([&] { lq::quantized_tensor(s, {2, 3}, {0x21, 0x43, 0x05}, {1, 2, 3, 4}, {}); },
                  {"zero_points has 0 entries"});
  require_invalid([&] { lq::quantized_tensor(s, {2, 3}, {0x21, 0x43, 0x05}, {1, 2, 3, 4}, {0, 1, 2, 16}); },
                  {"zero_points[3]", "16", "0..15"});
  require_invalid([&] { lq::quantized_tensor(s, {5}, {0x21, 0x43, 0x75}, {1, 2, 3}, {0, 1, 2}); },
                  {"high nibble"});
}

TEST_CASE("error metrics: max abs, RMSE and SQNR in dB", "[quant]") {
  const std::vector<float> ref{3.0f, -4.0f, 0.0f, std::numeric_limits<float>::quiet_NaN()};
  const std::vector<float> approx{3.0f, -3.0f, 1.0f, 0.0f};
  const lq::error_metrics m = lq::measure_error(ref.data(), approx.data(), ref.size());
  CHECK(m.count == 3);
  CHECK(m.skipped == 1);
  CHECK(m.max_abs == 1.0);
  CHECK(m.rmse == Approx(std::sqrt(2.0 / 3.0)));
  CHECK(m.sqnr_db == Approx(10.0 * std::log10(25.0 / 2.0)));
  const lq::error_metrics exact = lq::measure_error(ref.data(), ref.data(), 3);
  CHECK(exact.sqnr_db == std::numeric_limits<double>::infinity());
  CHECK(exact.rmse == 0.0);
  const std::vector<float> zeros(3, 0.0f);
  CHECK(lq::measure_error(zeros.data(), approx.data(), 3).sqnr_db == -std::numeric_limits<double>::infinity());
  // int8 per-row on Gaussian data: about 6 dB per bit, minus the crest factor.
  const std::vector<float> x = normal_data(64 * 256, 12);
  const lq::quantized_tensor q = lq::quantize(x.data(), {64, 256}, lq::absmax(code_format::int8, lq::per_row()));
  const lq::error_metrics e = lq::measure_error(q, x.data());
  CHECK(e.count == x.size());
  CHECK(e.sqnr_db > 35.0);
  CHECK(e.sqnr_db < 45.0);
  CHECK(e.max_abs <= static_cast<double>(*std::max_element(q.scales().begin(), q.scales().end())) / 2 * 1.0001);
}
