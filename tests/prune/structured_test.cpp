// Structured pruning against a reference that recomputes every channel norm directly:
// any axis of rank 2-4 tensors, n = 1, 2, inf and other p, prior masks, NaN and overflow-
// prone values, random channels, and the bad inputs.
#include "lowprec/prune/structured.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "prune/prune_reference.hpp"
#include "support/catch.hpp"

namespace prune = lowprec::prune;
using prune_ref::contains;
using prune_ref::invalid_argument_message;

namespace {

// Channel c along axis: elements whose row-major multi-index has index c on that axis.
std::size_t channel_of(const prune::shape_t& shape, std::size_t axis, std::size_t pos) {
  std::size_t inner = 1;
  for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  return (pos / inner) % shape[axis];
}

std::vector<double> reference_norms(const std::vector<double>& w, const prune::shape_t& shape,
                                    std::size_t axis, double p) {
  std::vector<std::vector<double>> members(shape[axis]);
  for (std::size_t i = 0; i < w.size(); ++i) members[channel_of(shape, axis, i)].push_back(w[i]);
  std::vector<double> out;
  for (const auto& m : members) {
    long double acc = 0;
    bool nan = false;
    long double big = 0;
    for (const double x : m) {
      nan = nan || std::isnan(x);
      big = std::max(big, static_cast<long double>(std::fabs(x)));
    }
    for (const double x : m) {
      if (p == prune::inf_norm) continue;
      acc += std::pow(static_cast<long double>(std::fabs(x)), static_cast<long double>(p));
    }
    double norm = p == prune::inf_norm ? static_cast<double>(big)
                                       : static_cast<double>(std::pow(acc, 1.0L / static_cast<long double>(p)));
    if (p == -prune::inf_norm) {  // torch.norm(p=-inf): min |x|
      norm = m.empty() ? 0.0 : std::numeric_limits<double>::infinity();
      for (const double x : m) norm = std::min(norm, std::fabs(x));
    }
    if (nan) norm = std::numeric_limits<double>::quiet_NaN();
    if (p == 0.0) {  // torch.norm(p=0): the count of x != 0, NaN included
      norm = 0;
      for (const double x : m) norm += x != 0.0 ? 1 : 0;
    }
    out.push_back(norm);
  }
  return out;
}

std::vector<std::uint8_t> reference_mask(const std::vector<double>& w, const prune::shape_t& shape,
                                         std::size_t axis, double p, prune::amount a,
                                         const std::vector<std::uint8_t>& prior) {
  const std::vector<double> norms = reference_norms(w, shape, axis, p);
  std::vector<std::uint8_t> live(shape[axis], prior.empty() ? 1 : 0);
  for (std::size_t i = 0; i < prior.size(); ++i) {
    if (prior[i] != 0) live[channel_of(shape, axis, i)] = 1;
  }
  std::size_t alive = 0;
  for (const auto l : live) alive += l;
  const std::vector<std::uint8_t> keep = prune_ref::prune_lowest(norms, a.resolve(alive, "ref"), live);
  std::vector<std::uint8_t> out(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(keep[channel_of(shape, axis, i)] != 0 && (prior.empty() || prior[i] != 0));
  }
  return out;
}

std::vector<std::uint8_t> flags(const prune::mask& m) {
  return std::vector<std::uint8_t>(m.data(), m.data() + m.size());
}

}  // namespace

TEST_CASE("ln_structured keeps the channels of largest norm along any axis", "[prune]") {
  const prune::shape_t shapes[] = {{6, 9}, {9, 6}, {4, 3, 5}, {3, 4, 2, 5}, {1, 7}, {300, 40}};
  std::uint32_t seed = 1;
  for (const auto& shape : shapes) {
    const std::size_t n = prune::element_count(shape);
    const std::vector<float> wf = prune_ref::messy_values(n, seed++, false);
    const std::vector<double> w(wf.begin(), wf.end());
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
      for (const double p : {1.0, 2.0, prune::inf_norm, 0.5, 3.0, 0.0, -prune::inf_norm}) {
        // Norms agree with the reference to a few ulps.
        const std::vector<double> got = prune::channel_norms(prune::tensor_ref<const double>(w.data(), shape), p,
                                                             static_cast<int>(axis));
        const std::vector<double> want = reference_norms(w, shape, axis, p);
        for (std::size_t c = 0; c < got.size(); ++c) CHECK(got[c] == Approx(want[c]).epsilon(1e-12));
        for (const prune::amount a : {prune::amount(0.5), prune::amount(0.0), prune::amount(1.0),
                                      prune::amount(std::size_t{1})}) {
          INFO("shape " << prune::shape_string(shape) << " axis " << axis << " p " << p);
          const prune::mask m = prune::ln_structured(prune::tensor_ref<const float>(wf.data(), shape), a, p,
                                                     static_cast<int>(axis));
          CHECK(flags(m) == reference_mask(w, shape, axis, p, a, {}));
          // Negative axes count from the end.
          CHECK(prune::ln_structured(prune::tensor_ref<const float>(wf.data(), shape), a, p,
                                     static_cast<int>(axis) - static_cast<int>(shape.size())) == m);
        }
        const prune::mask prior = prune::random_unstructured(shape, 0.6, seed);
        const prune::mask m = prune::ln_structured(prune::tensor_ref<const float>(wf.data(), shape), 0.5, p,
                                                   static_cast<int>(axis), prior);
        CHECK(flags(m) == reference_mask(w, shape, axis, p, 0.5, flags(prior)));
      }
    }
  }
}

TEST_CASE("channel norms survive NaN, inf and values that overflow when squared", "[prune]") {
  const double big = 1e300, nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  // Rows: overflow-prone when squared, NaN, inf, zeros.
  const std::vector<double> w = {big, big, 3, 4, nan, 1, 2, 0, inf, 0, 0, 0, 0, 0, 0, 0};
  const prune::tensor_ref<const double> v(w.data(), {4, 4});
  const std::vector<double> l2 = prune::channel_norms(v, 2.0, 0);
  CHECK(l2[0] == Approx(std::sqrt(2.0) * big));
  CHECK(std::isnan(l2[1]));
  CHECK(l2[2] == inf);
  CHECK(l2[3] == 0.0);
  const std::vector<double> l7 = prune::channel_norms(v, 7.0, 0);
  CHECK(l7[0] == Approx(std::pow(2.0, 1.0 / 7.0) * big));
  CHECK(prune::channel_norms(v, 1.0, 0)[0] == Approx(2.0 * big));
  // Ranking: zeros < row 0 < inf < NaN, so pruning two rows removes rows 3 and 0.
  const prune::mask m = prune::ln_structured(v, 2, 2.0, 0);
  CHECK(flags(m) == std::vector<std::uint8_t>{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0});
}

TEST_CASE("random_structured prunes exactly round(amount * channels), reproducibly", "[prune]") {
  for (const std::size_t channels : {1u, 2u, 7u, 64u, 5000u}) {
    const prune::shape_t shape{3, channels, 2};
    for (const double f : {0.0, 0.3, 0.5, 1.0}) {
      const prune::mask m = prune::random_structured(shape, f, 1, 11);
      const std::size_t k = prune::amount(f).resolve(channels, "t");
      CHECK(m.pruned() == k * 6);
      CHECK(prune::random_structured(shape, f, -2, 11) == m);
      // Whole channels: every element of a channel shares its fate.
      for (std::size_t i = 0; i < m.size(); ++i) CHECK(m.keeps(i) == m.keeps((i / 2) % channels * 2));
    }
  }
  const prune::mask prior = prune::random_structured(prune::shape_t{10, 8}, 0.5, 0, 1);
  const prune::mask next = prune::random_structured(prune::shape_t{10, 8}, 0.4, 0, 2, prior);
  CHECK((next & prior) == next);
  CHECK(next.kept() == 3 * 8);  // 5 live rows, round(0.4 * 5) = 2 more pruned
}

TEST_CASE("structured pruning rejects bad axes, orders, ranks and amounts", "[prune]") {
  const std::vector<float> buf(24, 1.0f);
  const prune::tensor_ref<const float> w(buf.data(), {4, 6});
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(w, 0.5, 2.0, 2); }),
                 "lowprec::prune::ln_structured: axis 2 is out of range for a tensor of rank 2 (valid: -2..1)"));
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(w, 0.5, 2.0, -3); }), "axis -3"));
  // n = 0 and -inf_norm are valid (torch.norm's counts and min); other n <= 0 and NaN are
  // not, quoted as the shortest decimal that reads back (not std::to_string's -0.000000).
  CHECK(invalid_argument_message([&] { prune::ln_structured(w, 0.5, 0.0, 0); }).empty());
  CHECK(invalid_argument_message([&] { prune::ln_structured(w, 0.5, -prune::inf_norm, 0); }).empty());
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(w, 0.5, -1.0, 0); }),
                 "lowprec::prune::ln_structured: norm order n = -1 is not valid"));
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(w, 0.5, -1e-9, 0); }),
                 "norm order n = -1e-09 is not valid (use 1, 2, any p > 0, inf_norm, -inf_norm or 0)"));
  CHECK(contains(invalid_argument_message([&] { prune::channel_norms(w, -2.5, 0); }),
                 "lowprec::prune::channel_norms: norm order n = -2.5 is not valid"));
  CHECK(contains(invalid_argument_message([&] {
                   prune::ln_structured(w, 0.5, std::numeric_limits<double>::quiet_NaN(), 0);
                 }),
                 "norm order n = nan is not valid"));
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(w, 5, 2.0, 0); }),
                 "amount 5 is more than the 4 channels"));
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(w, 1.5, 2.0, 0); }), "amount 1.5"));
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(buf, 0.5, 2.0, 0); }),
                 "a tensor of rank 1 has no channels"));
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(w, 0.5, 2.0, 0, prune::mask({6, 4})); }),
                 "mask shape [6, 4] does not match tensor shape [4, 6]"));
  CHECK(contains(invalid_argument_message([&] { prune::random_structured(prune::shape_t{4, 6}, 0.5, 5, 1); }),
                 "lowprec::prune::random_structured: axis 5"));
  CHECK(contains(invalid_argument_message([&] { prune::channel_norms(w, 2.0, 9); }), "channel_norms: axis 9"));
}

TEST_CASE("ln_structured with n = 0 counts non-zeros and with n = -inf takes min |w|", "[prune]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Rows (axis 0), hand-computed:        count of non-zeros   min |w|
  //   0: {0, 3, 0, -1}                    2                    0
  //   1: {2, -2, 2, 2}                    4                    2
  //   2: {0, 0, 5, 0}                     1                    0
  //   3: {-0.5, 4, 0.25, -7}              4                    0.25
  //   4: {nan, 0, 0, 0}                   1 (NaN != 0)         NaN
  //   5: {0, 1, 1, 0}                     2                    0
  const std::vector<double> w = {0,    3, 0,    -1, 2,   -2, 2, 2, 0, 0, 5, 0,
                                 -0.5, 4, 0.25, -7, nan, 0,  0, 0, 0, 1, 1, 0};
  const prune::tensor_ref<const double> v(w.data(), {6, 4});
  CHECK(prune::channel_norms(v, 0.0, 0) == std::vector<double>{2, 4, 1, 4, 1, 2});
  const std::vector<double> lo = prune::channel_norms(v, -prune::inf_norm, 0);
  CHECK(lo[0] == 0.0);
  CHECK(lo[1] == 2.0);
  CHECK(lo[2] == 0.0);
  CHECK(lo[3] == 0.25);
  CHECK(std::isnan(lo[4]));
  CHECK(lo[5] == 0.0);
  const auto rows = [](std::initializer_list<int> kept) {
    std::vector<std::uint8_t> out;
    for (const int k : kept) out.insert(out.end(), 4, static_cast<std::uint8_t>(k));
    return out;
  };
  // n = 0: counts 1, 1 tie (rows 2, 4: lower index first), then 2, 2, 2 (rows 0, 5).
  CHECK(flags(prune::ln_structured(v, 1, 0.0, 0)) == rows({1, 1, 0, 1, 1, 1}));
  CHECK(flags(prune::ln_structured(v, 2, 0.0, 0)) == rows({1, 1, 0, 1, 0, 1}));
  CHECK(flags(prune::ln_structured(v, 3, 0.0, 0)) == rows({0, 1, 0, 1, 0, 1}));
  CHECK(flags(prune::ln_structured(v, 4, 0.0, 0)) == rows({0, 1, 0, 1, 0, 0}));
  CHECK(flags(prune::ln_structured(v, 5, 0.0, 0)) == rows({0, 0, 0, 1, 0, 0}));  // 4, 4: row 1 first
  // n = -inf: 0, 0, 0 (rows 0, 2, 5 in index order), then 0.25, 2, NaN last.
  CHECK(flags(prune::ln_structured(v, 2, -prune::inf_norm, 0)) == rows({0, 1, 0, 1, 1, 1}));
  CHECK(flags(prune::ln_structured(v, 3, -prune::inf_norm, 0)) == rows({0, 1, 0, 1, 1, 0}));
  CHECK(flags(prune::ln_structured(v, 4, -prune::inf_norm, 0)) == rows({0, 1, 0, 0, 1, 0}));
  CHECK(flags(prune::ln_structured(v, 5, -prune::inf_norm, 0)) == rows({0, 0, 0, 0, 1, 0}));
  // Columns (axis 1): counts {3, 4, 4, 3} (column 0's NaN counted); min |w| {NaN, 0, 0, 0}.
  CHECK(prune::channel_norms(v, 0.0, 1) == std::vector<double>{3, 4, 4, 3});
  const std::vector<std::uint8_t> col0 = {0, 1, 1, 1};  // 3, 3 tie: column 0 first
  std::vector<std::uint8_t> want;
  for (int r = 0; r < 6; ++r) want.insert(want.end(), col0.begin(), col0.end());
  CHECK(flags(prune::ln_structured(v, 1, 0.0, 1)) == want);
  const std::vector<std::uint8_t> keep_col0 = {1, 0, 0, 1};  // NaN column last, then col 3
  want.clear();
  for (int r = 0; r < 6; ++r) want.insert(want.end(), keep_col0.begin(), keep_col0.end());
  CHECK(flags(prune::ln_structured(v, 0.5, -prune::inf_norm, 1)) == want);
  // fp16 weights and a prior: row 1 dead, so 5 candidates; round(0.4 * 5) = 2 by count.
  std::vector<lowprec::fp16> h;
  for (const double x : w) h.push_back(lowprec::fp16(static_cast<float>(x)));
  const prune::tensor_ref<const lowprec::fp16> hv(h.data(), {6, 4});
  const prune::mask prior = prune::ln_structured(v, 0, 0.0, 0) & prune::mask({6, 4}, rows({1, 0, 1, 1, 1, 1}));
  CHECK(flags(prune::ln_structured(hv, 0.4, 0.0, 0, prior)) == rows({1, 0, 0, 1, 0, 1}));
  // Empty channels have norm 0 for every n.
  const prune::tensor_ref<const double> empty(nullptr, {3, 0});
  CHECK(prune::channel_norms(empty, -prune::inf_norm, 0) == std::vector<double>{0, 0, 0});
  CHECK(prune::channel_norms(empty, 0.0, 0) == std::vector<double>{0, 0, 0});
}

TEST_CASE("ln_structured with importance_scores equals pruning the scores", "[prune]") {
  const prune::shape_t shape{12, 5, 3};
  const std::size_t n = prune::element_count(shape);
  const std::vector<float> w = prune_ref::messy_values(n, 51, true);
  const std::vector<double> s = [&] {
    const std::vector<float> f = prune_ref::messy_values(n, 52, false);
    return std::vector<double>(f.begin(), f.end());
  }();
  const prune::tensor_ref<const float> wv(w.data(), shape);
  const prune::tensor_ref<const double> sv(s.data(), shape);
  for (int axis = -3; axis < 3; ++axis) {
    for (const double p : {1.0, 2.0, prune::inf_norm, 0.0, -prune::inf_norm}) {
      INFO("axis " << axis << " p " << p);
      const prune::mask m = prune::ln_structured(wv, 0.5, p, axis, sv);
      CHECK(m == prune::ln_structured(sv, 0.5, p, axis));
      const std::size_t ax = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
      CHECK(flags(m) == reference_mask(s, shape, ax, p, 0.5, {}));
      const prune::mask prior = prune::random_unstructured(shape, 0.5, 9);
      CHECK(prune::ln_structured(wv, 0.5, p, axis, sv, prior) == prune::ln_structured(sv, 0.5, p, axis, prior));
    }
  }
  // A different shape is rejected first, whatever else is wrong; nothing changes.
  const std::vector<float> s_bad(n, 1.0f);
  const prune::tensor_ref<const float> sb(s_bad.data(), {12, 15});
  const prune::mask prior({12, 5, 3});
  const prune::mask prior0 = prior;
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(wv, 0.5, 2.0, 0, sb); }),
                 "lowprec::prune::ln_structured: importance_scores shape [12, 15] does not match weights shape [12, 5, 3]"));
  CHECK(contains(invalid_argument_message([&] { prune::ln_structured(wv, 9.5, -3.0, 7, sb, prior); }),
                 "importance_scores shape [12, 15] does not match weights shape [12, 5, 3]"));
  CHECK(prior == prior0);
}
