// N:M sparsity: the invariants of the masks (exactly N survivors per group, and they are
// the N largest), the compressed layout byte for byte, compression / decompression round
// trips, the product on the compressed form on every SIMD target (bit-exact against the
// scalar definition, and equal to the dense masked product), and the bad inputs.
#include "lowprec/prune/nm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "prune/prune_reference.hpp"
#include "support/catch.hpp"
#include "support/targets.hpp"

namespace prune = lowprec::prune;
using prune::nm_pattern;
using prune_ref::contains;
using prune_ref::invalid_argument_message;

namespace {

using lowprec_test::for_each_target;

template <class T>
std::vector<T> values_of(std::size_t n, std::uint32_t seed, bool nans) {
  std::vector<T> out;
  for (const float x : prune_ref::messy_values(n, seed, nans)) out.push_back(prune_ref::from_double<T>(x));
  return out;
}

template <class T>
double as_double(T x) {
  return static_cast<double>(static_cast<float>(x));
}
template <>
double as_double<double>(double x) {
  return x;
}

// Logical index of element t of line l along axis (row-major shape).
std::size_t element_index(const prune::shape_t& shape, std::size_t axis, std::size_t line, std::size_t t) {
  std::size_t inner = 1;
  for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  return (line / inner) * shape[axis] * inner + line % inner + t * inner;
}

// Checks a mask against the definition: in each group of M along axis, the survivors are
// the min(N, eligible) highest of (|w|, position) among the eligible.
template <class T>
void check_nm_mask(const std::vector<T>& w, const prune::shape_t& shape, std::size_t axis,
                   nm_pattern p, const prune::mask& m, const std::vector<std::uint8_t>& prior = {}) {
  const std::size_t len = shape[axis];
  const std::size_t lines = w.size() / std::max<std::size_t>(len, 1);
  for (std::size_t l = 0; l < lines; ++l) {
    for (std::size_t g = 0; g < len / p.m; ++g) {
      std::vector<std::size_t> members;
      for (std::size_t t = 0; t < p.m; ++t) {
        const std::size_t i = element_index(shape, axis, l, g * p.m + t);
        if (prior.empty() || prior[i] != 0) members.push_back(i);
      }
      // Ascending (|w|, position); positions increase with i along a line.
      std::stable_sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
        return prune_ref::magnitude_less(as_double(w[a]), as_double(w[b]));
      });
      const std::size_t keep = std::min(p.n, members.size());
      std::size_t kept_here = 0;
      for (std::size_t t = 0; t < p.m; ++t) kept_here += m.keeps(element_index(shape, axis, l, g * p.m + t));
      INFO("line " << l << " group " << g);
      REQUIRE(kept_here == keep);
      for (std::size_t r = 0; r < members.size(); ++r) {
        REQUIRE(m.keeps(members[r]) == (r >= members.size() - keep));
      }
    }
  }
}

// A strided view of the same logical tensor: storage with the axes in reverse order.
template <class T>
struct reversed_copy {
  std::vector<T> data;
  prune::tensor_ref<const T> view;
  reversed_copy(const std::vector<T>& w, const prune::shape_t& shape) : data(w.size()) {
    const std::size_t r = shape.size();
    std::vector<std::ptrdiff_t> strides(r);
    std::ptrdiff_t step = 1;
    for (std::size_t d = 0; d < r; ++d) {
      strides[d] = step;
      step *= static_cast<std::ptrdiff_t>(shape[d]);
    }
    const auto rm = prune::row_major_strides(shape);
    for (std::size_t i = 0; i < w.size(); ++i) {
      std::size_t rest = i;
      std::ptrdiff_t at = 0;
      for (std::size_t d = 0; d < r; ++d) {
        const auto idx = static_cast<std::ptrdiff_t>(rest / static_cast<std::size_t>(rm[d]));
        rest %= static_cast<std::size_t>(rm[d]);
        at += idx * strides[d];
      }
      data[static_cast<std::size_t>(at)] = w[i];
    }
    view = prune::tensor_ref<const T>(data.data(), shape, strides);
  }
};

const nm_pattern kPatterns[] = {{2, 4}, {1, 4}, {4, 8}, {1, 2}, {3, 8}, {5, 16}, {7, 32}, {100, 256}};

}  // namespace

TEMPLATE_TEST_CASE("nm_mask keeps exactly the N largest in every group, any axis and layout",
                   "[prune]", float, double, lowprec::fp16, lowprec::bf16) {
  using T = TestType;
  std::uint32_t seed = 3;
  for (const nm_pattern p : kPatterns) {
    const prune::shape_t shapes[] = {{3, 2 * p.m}, {2 * p.m, 5}, {2, p.m, 3}, {1, p.m}};
    for (const auto& shape : shapes) {
      const std::vector<T> w = values_of<T>(prune::element_count(shape), seed++, true);
      const prune::tensor_ref<const T> v(w.data(), shape);
      const reversed_copy<T> other(w, shape);
      for (std::size_t axis = 0; axis < shape.size(); ++axis) {
        if (shape[axis] % p.m != 0) continue;
        INFO(p.n << ":" << p.m << " shape " << prune::shape_string(shape) << " axis " << axis);
        const prune::mask m = prune::nm_mask(v, p, static_cast<int>(axis));
        check_nm_mask(w, shape, axis, p, m);
        CHECK(prune::nm_mask(other.view, p, static_cast<int>(axis)) == m);
        // Compression selects the same survivors, and decompresses to the masked tensor.
        const auto c = prune::nm_compress(v, p, static_cast<int>(axis));
        CHECK(prune::nm_compress(other.view, p, static_cast<int>(axis)) == c);
        CHECK(prune::nm_compress(v, m, p, static_cast<int>(axis)) == c);
        std::vector<T> masked = w;
        m.apply(prune::tensor_ref<T>(masked.data(), shape));
        const std::vector<T> dense = prune::decompress(c);
        REQUIRE(dense.size() == masked.size());
        CHECK(std::memcmp(dense.data(), masked.data(), dense.size() * sizeof(T)) == 0);
        // With a prior: the N largest survivors, padded with zeros when compressed.
        const prune::mask prior = prune::random_unstructured(shape, 0.5, seed);
        const prune::mask mp = prune::nm_mask(v, p, static_cast<int>(axis), prior);
        check_nm_mask(w, shape, axis, p, mp, std::vector<std::uint8_t>(prior.data(), prior.data() + prior.size()));
        const auto cp = prune::nm_compress(v, mp, p, static_cast<int>(axis));
        std::vector<T> mpw = w;
        mp.apply(prune::tensor_ref<T>(mpw.data(), shape));
        const std::vector<T> dp = prune::decompress(cp);
        CHECK(std::memcmp(dp.data(), mpw.data(), dp.size() * sizeof(T)) == 0);
      }
    }
  }
}

TEST_CASE("the float 2:4 selection kernel equals the scalar rule on every target", "[prune]") {
  for (std::size_t len = 4; len <= 100; len += 4) {
    const std::vector<float> w = prune_ref::messy_values(3 * len, static_cast<std::uint32_t>(len), true);
    const prune::shape_t shape{3, len};
    const std::vector<double> wd(w.begin(), w.end());
    // The reference: the generic scalar selection on a double copy (same order on values).
    const prune::mask want = prune::nm_mask(wd, nm_pattern{2, 4}, -1);
    const auto cwant = prune::nm_compress(prune::tensor_ref<const double>(wd.data(), shape), nm_pattern{2, 4});
    for_each_target([&] {
      INFO("len " << len);
      const prune::mask got = prune::nm_mask(prune::tensor_ref<const float>(w.data(), shape), nm_pattern{2, 4});
      CHECK(std::memcmp(got.data(), want.data(), got.size()) == 0);
      const auto c = prune::nm_compress(prune::tensor_ref<const float>(w.data(), shape), nm_pattern{2, 4});
      REQUIRE(c.index_byte_count() == cwant.index_byte_count());
      CHECK(std::memcmp(c.indices(), cwant.indices(), c.index_byte_count()) == 0);
      for (std::size_t j = 0; j < c.value_count(); ++j) {
        const float a = c.values()[j];
        const auto b = static_cast<float>(cwant.values()[j]);
        CHECK((a == b || (std::isnan(a) && std::isnan(b))));
      }
      // Compressing into reused storage gives the same object.
      prune::nm_compressed<float> again = c;
      prune::nm_compress(prune::tensor_ref<const float>(w.data(), shape), nm_pattern{2, 4}, -1, again);
      CHECK(again == c);
    });
  }
}

TEST_CASE("the compressed layout is the documented one, byte for byte", "[prune]") {
  // 2:4: row [1, -5, 3, 2 | 0, 0, 7, -8 | 4, 4, 4, 4]: keeps (-5, 3) at 1, 2 -> nibble 0x9;
  // (7, -8) at 2, 3 -> 0xE; equal magnitudes keep the higher positions 2, 3 -> 0xE.
  const std::vector<float> w = {1, -5, 3, 2, 0, 0, 7, -8, 4, 4, 4, 4};
  const auto c = prune::nm_compress(prune::tensor_ref<const float>(w.data(), {1, 12}), nm_pattern{2, 4});
  CHECK(c.index_bits() == 2);
  CHECK(c.index_bytes_per_line() == 2);
  REQUIRE(c.value_count() == 6);
  CHECK(std::vector<float>(c.values(), c.values() + 6) == std::vector<float>{-5, 3, 7, -8, 4, 4});
  CHECK(std::vector<std::uint8_t>(c.indices(), c.indices() + 2) == std::vector<std::uint8_t>{0xE9, 0x0E});
  CHECK(c.bytes() == 6 * 4 + 2);
  // 3:8 along axis 0 of a [8, 2] matrix: 3-bit positions, a 9-bit string per column.
  std::vector<double> m(16);
  for (std::size_t i = 0; i < 8; ++i) {
    m[i * 2] = static_cast<double>(i);          // column 0 keeps rows 5, 6, 7
    m[i * 2 + 1] = i == 1 || i == 3 || i == 4 ? 9.0 : 1.0;  // column 1 keeps rows 1, 3, 4
  }
  const auto c2 = prune::nm_compress(prune::tensor_ref<const double>(m.data(), {8, 2}), nm_pattern{3, 8}, 0);
  CHECK(c2.index_bits() == 3);
  CHECK(c2.lines() == 2);
  CHECK(c2.index_bytes_per_line() == 2);
  // Column 0: 5 | 6 << 3 | 7 << 6 = 0x1F5 -> bytes F5 01; column 1: 1 | 3 << 3 | 4 << 6 = 0x119.
  CHECK(std::vector<std::uint8_t>(c2.indices(), c2.indices() + 4) ==
        std::vector<std::uint8_t>{0xF5, 0x01, 0x19, 0x01});
  CHECK(std::vector<double>(c2.values(), c2.values() + 6) == std::vector<double>{5, 6, 7, 9, 9, 9});
  CHECK(c2.position(1, 2) == 4);
  // The same object rebuilt from its parts, and rejected when a part is wrong.
  const prune::nm_compressed<double> back({8, 2}, 0, nm_pattern{3, 8}, {5, 6, 7, 9, 9, 9}, {0xF5, 0x01, 0x19, 0x01});
  CHECK(back == c2);
  const auto bad = [](std::vector<std::uint8_t> idx, std::size_t nvalues = 6) {
    return invalid_argument_message([&] {
      prune::nm_compressed<double>({8, 2}, 0, nm_pattern{3, 8}, std::vector<double>(nvalues), idx);
    });
  };
  CHECK(contains(bad({0xF5, 0x01, 0x19}), "needs 6 values and 4 index bytes, got 6 and 3"));
  CHECK(contains(bad({0xF5, 0x01, 0x19, 0x01}, 5), "got 5 and 4"));
  CHECK(contains(bad({0xF5, 0x01, 0x0B, 0x01}), "line 1 group 0 stores position 1 after 3 (positions must increase)"));
  CHECK(contains(bad({0xF5, 0x03, 0x19, 0x01}), "non-zero bits after its last position"));
  const prune::nm_compressed<lowprec::bf16> h({1, 4}, 1, nm_pattern{2, 4}, {lowprec::bf16(1.0f), lowprec::bf16(2.0f)}, {0x0D});
  CHECK(prune::decompress(h)[1] == lowprec::bf16(1.0f));
  CHECK(prune::decompress(h)[3] == lowprec::bf16(2.0f));
  CHECK(prune::nm_compressed<float>() == prune::nm_compressed<float>());
  CHECK(contains(invalid_argument_message([] {
                   prune::nm_compressed<float>({1, 6}, 1, nm_pattern{2, 3}, {1, 2, 3, 4}, {0x3B});
                 }),
                 "stores position 3 (not below M = 3)"));
}

TEMPLATE_TEST_CASE("matvec on the compressed form equals the scalar definition on every target "
                   "and the dense masked product",
                   "[prune]", float, lowprec::fp16, lowprec::bf16) {
  using T = TestType;
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (const nm_pattern p : {nm_pattern{2, 4}, nm_pattern{1, 4}, nm_pattern{4, 8}}) {
    for (const std::size_t rows : {1u, 3u, 4u, 5u, 9u, 33u}) {
      for (const std::size_t cols : {8u, 16u, 28u, 32u, 36u, 64u, 136u, 1032u}) {
        if (cols % p.m != 0) continue;
        std::vector<T> w(rows * cols);
        for (auto& x : w) x = T(d(rng));
        std::vector<float> x(cols + 1);
        for (auto& e : x) e = d(rng);
        const prune::tensor_ref<const T> v(w.data(), {rows, cols});
        const auto c = prune::nm_compress(v, p, 1);
        std::vector<float> want(rows);
        prune::detail::nm_matvec_rows_reference(c, x.data(), want.data());
        // Dense masked product in double: the float result is within a few ulps of it.
        std::vector<T> masked = w;
        prune::nm_mask(v, p, 1).apply(prune::tensor_ref<T>(masked.data(), {rows, cols}));
        for (std::size_t i = 0; i < rows; ++i) {
          double exact = 0, mag = 0;
          for (std::size_t k = 0; k < cols; ++k) {
            exact += static_cast<double>(static_cast<float>(masked[i * cols + k])) * x[k];
            mag += std::fabs(static_cast<double>(static_cast<float>(masked[i * cols + k])) * x[k]);
          }
          CHECK(std::fabs(want[i] - exact) <= 1e-6 * static_cast<double>(cols) * mag + 1e-30);
        }
        for_each_target([&] {
          INFO(p.n << ":" << p.m << " " << rows << "x" << cols);
          std::vector<float> y(rows + 1, -12345.0f);  // sentinel past the end
          prune::matvec(c, x.data(), y.data());
          CHECK(y.back() == -12345.0f);
          CHECK(std::memcmp(y.data(), want.data(), rows * sizeof(float)) == 0);
        });
      }
    }
  }
}

TEST_CASE("matvec is exact where the dense product is exact, along either axis", "[prune]") {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> small(-8, 8);
  const std::size_t rows = 24, cols = 40;
  std::vector<float> w(rows * cols), x(cols);
  for (auto& e : w) e = static_cast<float>(small(rng));
  for (auto& e : x) e = static_cast<float>(small(rng));
  const prune::tensor_ref<const float> v(w.data(), {rows, cols});
  for (const nm_pattern p : {nm_pattern{2, 4}, nm_pattern{3, 8}, nm_pattern{1, 2}}) {
    for (const int axis : {0, 1}) {
      INFO(p.n << ":" << p.m << " axis " << axis);
      std::vector<float> masked = w;
      prune::nm_mask(v, p, axis).apply(prune::tensor_ref<float>(masked.data(), {rows, cols}));
      const auto c = prune::nm_compress(v, p, axis);
      std::vector<float> y(rows);
      prune::matvec(c, x.data(), y.data());
      for (std::size_t i = 0; i < rows; ++i) {
        double exact = 0;
        for (std::size_t k = 0; k < cols; ++k) exact += static_cast<double>(masked[i * cols + k]) * x[k];
        CHECK(static_cast<double>(y[i]) == exact);
      }
      // Double values accumulate in double, in the same order.
      const std::vector<double> wd(w.begin(), w.end()), xd(x.begin(), x.end());
      const auto cd = prune::nm_compress(prune::tensor_ref<const double>(wd.data(), {rows, cols}), p, axis);
      std::vector<double> yd(rows);
      prune::matvec(cd, xd.data(), yd.data());
      for (std::size_t i = 0; i < rows; ++i) CHECK(yd[i] == static_cast<double>(y[i]));
    }
  }
}

TEST_CASE("N:M inputs are validated before anything is computed", "[prune]") {
  const std::vector<float> w(24, 1.0f);
  const prune::tensor_ref<const float> v(w.data(), {4, 6});
  const auto msg = [&](nm_pattern p, int axis) {
    return invalid_argument_message([&] { prune::nm_mask(v, p, axis); });
  };
  CHECK(contains(msg({2, 0}, 1), "lowprec::prune::nm_mask: N:M pattern 2:0 has M = 0"));
  CHECK(contains(msg({4, 4}, 1), "N:M pattern 4:4 needs N < M"));
  CHECK(contains(msg({5, 4}, 1), "N:M pattern 5:4 needs N < M"));
  CHECK(contains(msg({0, 2}, 1), "N:M pattern 0:2 has N = 0"));
  CHECK(contains(msg({2, 300}, 1), "has M = 300 (at most 256 is supported)"));
  CHECK(contains(msg({2, 4}, 2), "axis 2 is out of range for a tensor of rank 2"));
  CHECK(contains(msg({2, 4}, -3), "axis -3 is out of range"));
  CHECK(contains(msg({2, 4}, 1), "axis 1 has length 6, which is not a multiple of M = 4"));
  CHECK(msg({2, 4}, 0).empty());
  CHECK(contains(invalid_argument_message([&] { prune::nm_compress(v, nm_pattern{4, 4}); }),
                 "lowprec::prune::nm_compress: N:M pattern 4:4"));
  CHECK(contains(invalid_argument_message([&] { prune::nm_mask(v, nm_pattern{2, 4}, 0, prune::mask({6, 4})); }),
                 "mask shape [6, 4] does not match tensor shape [4, 6]"));
  // Compressing a mask that keeps more than N in a group.
  const prune::mask all({4, 6});
  CHECK(contains(invalid_argument_message([&] { prune::nm_compress(v, all, nm_pattern{2, 4}, 0); }),
                 "the mask keeps 4 elements in group 0 of line 0; pattern 2:4 stores at most 2"));
  // The same along the contiguous axis (the 2:4 fast path): group 1 of line 1 keeps 3.
  prune::mask three({3, 8}, false);
  three.data()[12] = three.data()[13] = three.data()[15] = 1;
  const prune::tensor_ref<const float> v38(w.data(), {3, 8});
  CHECK(contains(invalid_argument_message([&] { prune::nm_compress(v38, three, nm_pattern{2, 4}); }),
                 "the mask keeps 3 elements in group 1 of line 1; pattern 2:4 stores at most 2"));
  // A mask that keeps nothing compresses to zeros at positions 0 and 1.
  const auto none = prune::nm_compress(v38, prune::mask({3, 8}, false), nm_pattern{2, 4});
  CHECK(none.indices()[0] == 0x44);
  CHECK(prune::decompress(none) == std::vector<float>(24, 0.0f));
  // Decompressing into the wrong shape, matvec on a non-matrix.
  const auto c = prune::nm_compress(v, nm_pattern{2, 4}, 0);
  std::vector<float> out(24, 5.0f);
  CHECK(contains(invalid_argument_message([&] { prune::decompress(c, prune::tensor_ref<float>(out.data(), {6, 4})); }),
                 "output shape [6, 4] does not match the compressed shape [4, 6]"));
  CHECK(out == std::vector<float>(24, 5.0f));
  const auto c3 = prune::nm_compress(prune::tensor_ref<const float>(w.data(), {2, 3, 4}), nm_pattern{2, 4});
  float y[8] = {};
  CHECK(contains(invalid_argument_message([&] { prune::matvec(c3, w.data(), y); }),
                 "shape [2, 3, 4]; matvec needs a matrix (rank 2)"));
}
