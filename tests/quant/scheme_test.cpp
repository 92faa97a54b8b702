// Scheme descriptions: group geometry for every granularity, and errors that name the
// argument and its values.
#include "lowprec/quant/scheme.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "support/expect.hpp"
#include "support/catch.hpp"

namespace lq = lowprec::quant;

using lowprec_test::require_invalid;

TEST_CASE("format constants match the table", "[quant]") {
  CHECK(lq::info(lq::code_format::int8).qmax == 127);
  CHECK(lq::info(lq::code_format::int8).qmin == -127);
  CHECK(lq::info(lq::code_format::int4).qmax == 7);
  CHECK(lq::info(lq::code_format::uint4).qmax == 15);
  CHECK(lq::info(lq::code_format::uint8).qmax == 255);
  CHECK(lq::info(lq::code_format::fp8_e4m3fn).max_value == 448.0f);
  CHECK(lq::info(lq::code_format::fp8_e5m2).max_value == 57344.0f);
  CHECK(lq::info(lq::code_format::int4).bits == 4);
  CHECK(lq::info(lq::code_format::fp8_e5m2).bits == 8);
}

TEST_CASE("geometry: per tensor, per channel along any axis, blocks along any axis", "[quant]") {
  const std::vector<std::size_t> shape{2, 3, 5};
  const lq::group_geometry t = lq::make_geometry(lq::per_tensor(), shape, "t");
  CHECK(t.groups == 1);
  CHECK(t.scale_shape.empty());
  CHECK(t.count == 30);

  const lq::group_geometry c1 = lq::make_geometry(lq::per_channel(1), shape, "t");
  CHECK(c1.groups == 3);
  CHECK(c1.outer == 2);
  CHECK(c1.len == 3);
  CHECK(c1.inner == 5);
  CHECK(c1.scale_shape == std::vector<std::size_t>{3});
  CHECK(lq::make_geometry(lq::per_channel(-1), shape, "t").groups == 5);

  const lq::group_geometry b = lq::make_geometry(lq::per_block(2), shape, "t");  // last axis
  CHECK(b.blocks_per_line == 3);  // 5 = 2 + 2 + 1
  CHECK(b.groups == 18);
  CHECK(b.scale_shape == std::vector<std::size_t>{2, 3, 3});
  // element (1, 2, 4) = flat 29 is in line (1, 2), block 2
  CHECK(b.group_of_flat(29) == (1 * 3 + 2) * 3 + 2);

  const lq::group_geometry b0 = lq::make_geometry(lq::per_block(4, 1), shape, "t");
  CHECK(b0.blocks_per_line == 1);
  CHECK(b0.scale_shape == std::vector<std::size_t>{2, 1, 5});
  CHECK(b0.group_of_flat(29) == 1 * 5 + 4);
  // a block larger than the axis is one short block
  CHECK(lq::make_geometry(lq::per_block(1000), shape, "t").groups == 6);
}

TEST_CASE("geometry of empty shapes and scalars", "[quant]") {
  CHECK(lq::make_geometry(lq::per_tensor(), {}, "t").count == 1);  // a scalar
  CHECK(lq::make_geometry(lq::per_tensor(), {0}, "t").count == 0);
  const lq::group_geometry g = lq::make_geometry(lq::per_block(8), {3, 0}, "t");
  CHECK(g.groups == 0);
  CHECK(lq::make_geometry(lq::per_channel(0), {4, 0}, "t").groups == 4);
}

TEST_CASE("axis out of range, block size 0 and overflowing shapes are named in the error",
          "[quant]") {
  require_invalid([] { lq::make_geometry(lq::per_channel(2), {4, 5}, "who"); },
                  {"who", "axis 2", "rank-2", "[4, 5]", "-2..1"});
  require_invalid([] { lq::make_geometry(lq::per_channel(-3), {4, 5}, "who"); },
                  {"axis -3", "[4, 5]"});
  require_invalid([] { lq::make_geometry(lq::per_block(32, 0), {}, "who"); },
                  {"axis 0", "rank-0", "a scalar has no axes"});
  require_invalid([] { lq::make_geometry(lq::per_block(0), {4, 5}, "who"); },
                  {"who", "block_size is 0"});
  const std::size_t big = std::size_t{1} << 40;
  require_invalid([&] { lq::make_geometry(lq::per_tensor(), {big, big}, "who"); },
                  {"more elements than size_t"});
}

TEST_CASE("absmax and affine accept only their formats", "[quant]") {
  CHECK(lq::absmax(lq::code_format::int4).map == lq::mapping::absmax);
  CHECK(lq::affine(lq::code_format::uint4, lq::per_row()).groups.kind ==
        lq::granularity::per_channel);
  require_invalid([] { lq::absmax(lq::code_format::uint8); }, {"uint8", "unsigned"});
  require_invalid([] { lq::affine(lq::code_format::fp8_e4m3fn); }, {"fp8_e4m3fn"});
}
