// Unstructured pruning against a full-sort reference: every selection path (small inputs,
// radix select on contiguous and strided data, prior masks, 16/32/64-bit keys, global
// pruning of mixed types), ties, NaN and signed zeros; random pruning's exact counts.
#include "lowprec/prune/magnitude.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "prune/prune_reference.hpp"
#include "support/catch.hpp"

namespace prune = lowprec::prune;
using prune_ref::contains;
using prune_ref::invalid_argument_message;

namespace {

std::vector<std::uint8_t> flags(const prune::mask& m) {
  return std::vector<std::uint8_t>(m.data(), m.data() + m.size());
}

template <class T>
std::vector<T> converted(const std::vector<float>& v) {
  std::vector<T> out;
  for (const float x : v) out.push_back(prune_ref::from_double<T>(x));
  return out;
}

template <class T>
std::vector<double> as_double(const std::vector<T>& v) {
  std::vector<double> out;
  for (const T& x : v) out.push_back(static_cast<double>(static_cast<float>(x)));
  return out;
}
template <>
std::vector<double> as_double<double>(const std::vector<double>& v) {
  return v;
}

const std::size_t kSizes[] = {0, 1, 2, 7, 100, 2048, 2049, 5000, 70001};

}  // namespace

TEMPLATE_TEST_CASE("l1_unstructured prunes the k smallest (|w|, index) on every path", "[prune]",
                   float, double, lowprec::fp16, lowprec::bf16) {
  using T = TestType;
  for (const std::size_t n : kSizes) {
    const std::vector<T> w = converted<T>(prune_ref::messy_values(n, static_cast<std::uint32_t>(n) + 1, true));
    const std::vector<double> wd = as_double(w);
    for (const double f : {0.0, 0.013, 0.5, 0.9, 1.0}) {
      const std::size_t k = prune::amount(f).resolve(n, "test");
      INFO("n " << n << " fraction " << f);
      const prune::mask m = prune::l1_unstructured(w, f);
      CHECK(m.shape() == prune::shape_t{n});
      CHECK(m.pruned() == k);
      CHECK(flags(m) == prune_ref::prune_lowest(wd, k));
      // The same through the generic (chunked) engine, forced off the fast paths.
      std::vector<std::uint8_t> out(n);
      const prune::detail::magnitude_source<typename prune::detail::native_key<T>::type, T> src(
          prune::cview(w), nullptr);
      prune::detail::select_prune(src, n, k, out.data(), 0);
      CHECK(out == flags(m));
      prune::detail::select_prune(src, n, k, out.data(), n);  // the nth_element path
      CHECK(out == flags(m));
    }
  }
}

TEST_CASE("ties prune the lower index first; NaN is pruned last; -0 equals +0", "[prune]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> w = {1, -1, 0.0f, nan, -0.0f, 1, 2, -nan};
  CHECK(flags(prune::l1_unstructured(w, 1)) == std::vector<std::uint8_t>{1, 1, 0, 1, 1, 1, 1, 1});
  CHECK(flags(prune::l1_unstructured(w, 2)) == std::vector<std::uint8_t>{1, 1, 0, 1, 0, 1, 1, 1});
  CHECK(flags(prune::l1_unstructured(w, 4)) == std::vector<std::uint8_t>{0, 0, 0, 1, 0, 1, 1, 1});
  CHECK(flags(prune::l1_unstructured(w, 6)) == std::vector<std::uint8_t>{0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(flags(prune::l1_unstructured(w, 7)) == std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 0, 1});
  // Large inputs take the radix path with the same rule.
  std::vector<float> big(10000, 3.0f);
  big[17] = nan;
  const prune::mask m = prune::l1_unstructured(big, 9998);
  for (std::size_t i = 0; i < big.size(); ++i) CHECK(m.keeps(i) == (i == 17 || i == 9999));
}

TEMPLATE_TEST_CASE("a prior mask restricts the candidates and counts only survivors", "[prune]",
                   float, double, lowprec::bf16) {
  using T = TestType;
  for (const std::size_t n : kSizes) {
    const std::vector<T> w = converted<T>(prune_ref::messy_values(n, 7, true));
    const prune::mask prior = prune::random_unstructured(w, 0.3, 99);
    const std::vector<std::uint8_t> elig = flags(prior);
    const std::size_t survivors = prior.kept();
    for (const double f : {0.0, 0.4, 1.0}) {
      INFO("n " << n << " fraction " << f);
      const std::size_t k = prune::amount(f).resolve(survivors, "test");
      const prune::mask m = prune::l1_unstructured(w, f, prior);
      CHECK(flags(m) == prune_ref::prune_lowest(as_double(w), k, elig));
      CHECK((m & prior) == m);
      CHECK(m.pruned() == n - survivors + k);
    }
  }
}

TEST_CASE("strided and multi-dimensional views rank by logical (row-major) index", "[prune]") {
  const std::size_t rows = 37, cols = 129;
  const std::vector<float> rm = prune_ref::messy_values(rows * cols, 5, true);
  std::vector<float> cm(rows * cols);  // the same matrix, column-major
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) cm[j * rows + i] = rm[i * cols + j];
  }
  const prune::tensor_ref<const float> a(rm.data(), {rows, cols});
  const prune::tensor_ref<const float> b(cm.data(), {rows, cols}, {1, static_cast<std::ptrdiff_t>(rows)});
  std::vector<double> wd(rm.begin(), rm.end());
  for (const double f : {0.1, 0.5, 0.77}) {
    const std::size_t k = prune::amount(f).resolve(rows * cols, "test");
    const prune::mask ma = prune::l1_unstructured(a, f);
    CHECK(flags(ma) == prune_ref::prune_lowest(wd, k));
    CHECK(prune::l1_unstructured(b, f) == ma);
    CHECK(prune::l1_unstructured(prune::tensor_ref<const float>(rm.data(), {rows * cols}), f).data()[5] ==
          ma.data()[5]);
  }
  // Rank 0 and empty shapes.
  float one = 2.0f;
  CHECK(prune::l1_unstructured(prune::tensor_ref<float>(&one, {}), 1).kept() == 0);
  CHECK(prune::l1_unstructured(prune::tensor_ref<float>(nullptr, {3, 0}), 0.5).size() == 0);
}

TEST_CASE("importance scores rank instead of the weights", "[prune]") {
  const std::vector<float> w = {5, 6, 7, 8};
  const std::vector<double> scores = {0.4, -0.1, 0.3, 0.2};
  const prune::mask m = prune::l1_unstructured(scores, 2);
  CHECK(flags(m) == std::vector<std::uint8_t>{1, 0, 1, 0});
  // The same through importance_scores: the weights' own magnitudes play no part.
  CHECK(prune::l1_unstructured(w, 2, scores) == m);
  CHECK(flags(prune::l1_unstructured(w, 2)) == std::vector<std::uint8_t>{0, 0, 1, 1});
}

TEST_CASE("l1_unstructured with importance_scores equals pruning the scores", "[prune]") {
  for (const std::size_t n : kSizes) {
    const std::vector<float> w = prune_ref::messy_values(n, 31, true);
    const std::vector<lowprec::bf16> scores = converted<lowprec::bf16>(prune_ref::messy_values(n, 32, true));
    const prune::mask prior = prune::random_unstructured(w, 0.25, 4);
    for (const double f : {0.0, 0.3, 0.5, 1.0}) {
      INFO("n " << n << " fraction " << f);
      const prune::mask m = prune::l1_unstructured(w, f, scores);
      CHECK(m == prune::l1_unstructured(scores, f));
      CHECK(flags(m) == prune_ref::prune_lowest(as_double(scores), prune::amount(f).resolve(n, "t")));
      CHECK(prune::l1_unstructured(w, f, scores, prior) == prune::l1_unstructured(scores, f, prior));
    }
  }
  // Storage order does not matter: column-major scores of a row-major matrix.
  const std::size_t rows = 40, cols = 70;
  const std::vector<float> w = prune_ref::messy_values(rows * cols, 33, false);
  const std::vector<double> s = as_double(prune_ref::messy_values(rows * cols, 34, false));
  std::vector<double> s_cm(rows * cols);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) s_cm[j * rows + i] = s[i * cols + j];
  }
  const prune::tensor_ref<const float> wv(w.data(), {rows, cols});
  const prune::tensor_ref<const double> sv(s_cm.data(), {rows, cols}, {1, static_cast<std::ptrdiff_t>(rows)});
  CHECK(flags(prune::l1_unstructured(wv, 0.6, sv)) ==
        prune_ref::prune_lowest(s, prune::amount(0.6).resolve(rows * cols, "t")));
}

TEST_CASE("importance_scores of another shape are rejected before anything is done", "[prune]") {
  std::vector<float> w = {1, 2, 3, 4, 5, 6};
  const std::vector<float> w0 = w;
  const std::vector<double> scores(5, 1.0);
  const prune::tensor_ref<float> w23(w.data(), {2, 3});
  const std::vector<double> s6(6, 1.0);
  const prune::tensor_ref<const double> s32(s6.data(), {3, 2});
  CHECK(contains(invalid_argument_message([&] { prune::l1_unstructured(w, 0.5, scores); }),
                 "lowprec::prune::l1_unstructured: importance_scores shape [5] does not match weights shape [6]"));
  CHECK(contains(invalid_argument_message([&] { prune::l1_unstructured(w23, 0.5, s32); }),
                 "importance_scores shape [3, 2] does not match weights shape [2, 3]"));
  // The shape check comes first: a bad amount or prior is not what is reported.
  prune::mask prior({6});
  prior.data()[2] = 0;
  const prune::mask prior0 = prior;
  CHECK(contains(invalid_argument_message([&] { prune::l1_unstructured(w, 7.5, scores, prior); }),
                 "importance_scores shape [5] does not match weights shape [6]"));
  CHECK(w == w0);
  CHECK(prior == prior0);
  // Global: the count and every shape.
  const std::vector<float> a(10, 1.0f), b(20, 2.0f);
  const std::vector<double> sa(10, 1.0), sb(21, 1.0);
  CHECK(contains(invalid_argument_message([&] { prune::global_unstructured({a, b}, 0.5, {sa}); }),
                 "lowprec::prune::global_unstructured: 1 importance_scores for 2 tensors"));
  CHECK(contains(invalid_argument_message([&] { prune::global_unstructured({a, b}, 0.5, {sa, sb}); }),
                 "importance_scores (tensor 1) shape [21] does not match weights shape [20]"));
  CHECK(contains(invalid_argument_message([&] {
                   prune::global_unstructured({a, b}, 0.5, {sa, sb}, {prune::mask({10}), prune::mask({20})});
                 }),
                 "importance_scores (tensor 1) shape [21]"));
}

TEST_CASE("global_unstructured with importance_scores equals pruning the scores", "[prune]") {
  const std::vector<float> a = prune_ref::messy_values(3000, 41, true);
  const std::vector<lowprec::bf16> b = converted<lowprec::bf16>(prune_ref::messy_values(1500, 42, false));
  const std::vector<double> sa = as_double(prune_ref::messy_values(3000, 43, true));
  const std::vector<float> sb = prune_ref::messy_values(1500, 44, false);
  std::vector<double> all(sa);
  all.insert(all.end(), sb.begin(), sb.end());
  for (const double f : {0.0, 0.35, 1.0}) {
    const std::vector<prune::mask> ms = prune::global_unstructured({a, b}, f, {sa, sb});
    const std::vector<prune::mask> direct = prune::global_unstructured({sa, sb}, f);
    REQUIRE(ms.size() == 2);
    CHECK(ms[0] == direct[0]);
    CHECK(ms[1] == direct[1]);
    std::vector<std::uint8_t> got = flags(ms[0]);
    const auto fb = flags(ms[1]);
    got.insert(got.end(), fb.begin(), fb.end());
    CHECK(got == prune_ref::prune_lowest(all, prune::amount(f).resolve(all.size(), "t")));
  }
  const std::vector<prune::mask> priors = {prune::random_unstructured(a, 0.5, 1),
                                           prune::random_unstructured(b, 0.2, 2)};
  const std::vector<prune::mask> mp = prune::global_unstructured({a, b}, 0.5, {sa, sb}, priors);
  const std::vector<prune::mask> dp = prune::global_unstructured({sa, sb}, 0.5, priors);
  CHECK(mp[0] == dp[0]);
  CHECK(mp[1] == dp[1]);
}

TEST_CASE("random_unstructured removes exactly the requested count, reproducibly", "[prune]") {
  for (const std::size_t n : kSizes) {
    for (const double f : {0.0, 0.1, 0.5, 0.999, 1.0}) {
      const std::size_t k = prune::amount(f).resolve(n, "test");
      const prune::mask a = prune::random_unstructured({n}, f, 42);
      INFO("n " << n << " fraction " << f);
      CHECK(a.pruned() == k);
      CHECK(prune::random_unstructured({n}, f, 42) == a);
      std::vector<std::uint8_t> out(n);  // the generic engine on the same keys
      prune::detail::select_prune(prune::detail::random_source(n, 42, nullptr), n, k, out.data(), 0);
      CHECK(out == flags(a));
      if (n > 100 && k > 10 && k + 10 < n) CHECK(prune::random_unstructured({n}, f, 43) != a);
    }
  }
  const prune::detail::random_keys_low fast(42);
  for (const std::size_t i : {std::size_t{0}, std::size_t{1}, std::size_t{12345}, std::size_t{0xFFFFFFFFu}}) {
    CHECK(fast(i) == prune::detail::random_key(42, i));
  }
  // Shape, not storage, decides: a 2-d shape of the same size prunes the same indices.
  const prune::mask flat = prune::random_unstructured({6000}, 0.3, 7);
  const prune::mask grid = prune::random_unstructured({60, 100}, 0.3, 7);
  CHECK(std::vector<std::uint8_t>(flat.data(), flat.data() + 6000) ==
        std::vector<std::uint8_t>(grid.data(), grid.data() + 6000));
  // Composition: only survivors are candidates.
  const prune::mask prior = prune::random_unstructured({5000}, 0.5, 1);
  const prune::mask next = prune::random_unstructured({5000}, 0.5, 2, prior);
  CHECK((next & prior) == next);
  CHECK(next.kept() == 1250);
  // Roughly uniform: each half of the indices loses about half.
  const prune::mask half = prune::random_unstructured({100000}, 0.5, 3);
  std::size_t first = 0;
  for (std::size_t i = 0; i < 50000; ++i) first += half.keeps(i) ? 0 : 1;
  CHECK(first > 24000);
  CHECK(first < 26000);
}

TEST_CASE("global_unstructured uses one threshold across tensors of mixed types", "[prune]") {
  const std::vector<float> a = prune_ref::messy_values(3000, 11, true);
  const std::vector<float> b0 = prune_ref::messy_values(1500, 12, false);
  const std::vector<float> c0 = prune_ref::messy_values(700, 13, true);
  const std::vector<lowprec::bf16> b = converted<lowprec::bf16>(b0);
  const std::vector<lowprec::fp16> c = converted<lowprec::fp16>(c0);
  std::vector<double> all;
  for (const float x : a) all.push_back(x);
  for (const auto& x : b) all.push_back(static_cast<float>(x));
  for (const auto& x : c) all.push_back(static_cast<float>(x));
  for (const double f : {0.0, 0.25, 0.6, 1.0}) {
    const std::size_t k = prune::amount(f).resolve(all.size(), "test");
    const std::vector<std::uint8_t> want = prune_ref::prune_lowest(all, k);
    const std::vector<prune::mask> ms = prune::global_unstructured({a, b, c}, f);
    REQUIRE(ms.size() == 3);
    std::vector<std::uint8_t> got;
    for (const auto& m : ms) {
      const auto fl = flags(m);
      got.insert(got.end(), fl.begin(), fl.end());
    }
    CHECK(got == want);
    // With a double tensor the keys are 64-bit: same answer.
    const std::vector<double> ad(a.begin(), a.end());
    const std::vector<prune::mask> md = prune::global_unstructured({ad, b, c}, f);
    CHECK(md[0] == ms[0]);
    CHECK(md[1] == ms[1]);
    CHECK(md[2] == ms[2]);
  }
  // Priors: candidates are the survivors of all tensors.
  const std::vector<prune::mask> priors = {prune::random_unstructured(a, 0.5, 1),
                                           prune::random_unstructured(b, 0.1, 2),
                                           prune::random_unstructured(c, 0.9, 3)};
  std::vector<std::uint8_t> elig;
  for (const auto& m : priors) {
    const auto fl = flags(m);
    elig.insert(elig.end(), fl.begin(), fl.end());
  }
  std::size_t survivors = 0;
  for (const auto e : elig) survivors += e;
  const std::vector<prune::mask> ms = prune::global_unstructured({a, b, c}, 0.5, priors);
  std::vector<std::uint8_t> got;
  for (const auto& m : ms) {
    const auto fl = flags(m);
    got.insert(got.end(), fl.begin(), fl.end());
  }
  CHECK(got == prune_ref::prune_lowest(all, prune::amount(0.5).resolve(survivors, "t"), elig));
  // Errors: prior count and shapes.
  CHECK(contains(invalid_argument_message([&] { prune::global_unstructured({a, b}, 0.5, priors); }),
                 "3 prior masks for 2 tensors"));
  CHECK(contains(invalid_argument_message([&] {
                   prune::global_unstructured({a, b, c}, 0.5, {priors[0], priors[0], priors[2]});
                 }),
                 "(tensor 1): mask shape [3000] does not match tensor shape [1500]"));
  CHECK(contains(invalid_argument_message([&] { prune::global_unstructured({a, b}, 5000); }),
                 "amount 5000 is more than the 4500 elements"));
}

TEST_CASE("prior masks of the wrong shape are rejected", "[prune]") {
  const std::vector<float> w(10, 1.0f);
  const std::string msg =
      invalid_argument_message([&] { prune::l1_unstructured(w, 0.5, prune::mask({2, 5})); });
  CHECK(contains(msg, "lowprec::prune::l1_unstructured: mask shape [2, 5] does not match tensor shape [10]"));
  CHECK(contains(invalid_argument_message([&] { prune::random_unstructured({4}, 0.5, 1, prune::mask({5})); }),
                 "random_unstructured"));
}

// ---- Heavy ties (select.hpp: boundary bins settled in place) -----------------------------

namespace {

// l1_unstructured on w, and the generic engine with the boundary bin forced onto each
// ranking (copied-out candidates, in place) and, for contiguous data, the fused path with
// each: all must equal the full-sort reference.
template <class T>
void check_every_ranking(const std::vector<T>& w, double fraction) {
  using K = typename prune::detail::native_key<T>::type;
  const std::size_t n = w.size();
  const std::size_t k = prune::amount(fraction).resolve(n, "test");
  INFO("n " << n << " fraction " << fraction);
  const std::vector<std::uint8_t> want = prune_ref::prune_lowest(as_double(w), k);
  CHECK(flags(prune::l1_unstructured(w, fraction)) == want);
  const prune::detail::magnitude_source<K, T> src(prune::cview(w), nullptr);
  std::vector<std::uint8_t> out(n, 7);
  prune::detail::select_prune(src, n, k, out.data(), 0, n);  // all copied out
  CHECK(out == want);
  std::fill(out.begin(), out.end(), std::uint8_t{7});
  prune::detail::select_prune(src, n, k, out.data(), 0, 0);  // all in place
  CHECK(out == want);
  const T* p = w.data();
  const auto key_at = [p](std::size_t i) { return prune::detail::native_key<T>::of(p[i]); };
  std::fill(out.begin(), out.end(), std::uint8_t{7});
  prune::detail::select_prune_indexed<K>(n, k, key_at, out.data(), n);
  CHECK(out == want);
  std::fill(out.begin(), out.end(), std::uint8_t{7});
  prune::detail::select_prune_indexed<K>(n, k, key_at, out.data(), 0);
  CHECK(out == want);
}

const double kTieFractions[] = {0.0, 1e-4, 0.3, 0.5, 0.7, 0.9999, 1.0};

}  // namespace

TEMPLATE_TEST_CASE("all-equal weights prune the lowest indices first, on every path", "[prune]",
                   float, double, lowprec::fp16, lowprec::bf16) {
  using T = TestType;
  for (const std::size_t n : {std::size_t{3000}, std::size_t{70001}}) {
    for (const float value : {0.75f, -0.0f}) {
      std::vector<T> w(n, prune_ref::from_double<T>(value));
      if (value == 0.75f) {
        for (std::size_t i = 0; i < n; i += 3) w[i] = prune_ref::from_double<T>(-0.75);  // |w| ties
      }
      for (const double f : kTieFractions) {
        check_every_ranking(w, f);
        // Expected mask written out: exactly the first k indices are pruned.
        const std::size_t k = prune::amount(f).resolve(n, "test");
        const prune::mask m = prune::l1_unstructured(w, f);
        std::size_t first_kept = 0;
        while (first_kept < n && !m.keeps(first_kept)) ++first_kept;
        CHECK(first_kept == k);
        CHECK(m.kept() == n - k);
      }
    }
  }
}

TEMPLATE_TEST_CASE("weights half exactly zero (re-pruning a permanent mask) prune correctly", "[prune]",
                   float, double, lowprec::bf16) {
  using T = TestType;
  const std::size_t n = 100003;
  std::vector<T> w = converted<T>(prune_ref::messy_values(n, 21, false));
  prune::make_permanent(w, prune::random_unstructured(w, 0.5, 5));  // random positions
  for (const double f : kTieFractions) check_every_ranking(w, f);
  std::vector<T> v = converted<T>(prune_ref::messy_values(n, 22, true));
  prune::make_permanent(v, prune::l1_unstructured(v, 0.5));  // the low half, as iterative pruning
  for (const double f : kTieFractions) check_every_ranking(v, f);
  // With the earlier mask as prior instead: the zeros are not candidates at all.
  const prune::mask prior = prune::l1_unstructured(w, 0.5);
  const std::size_t k = prune::amount(0.4).resolve(prior.kept(), "test");
  CHECK(flags(prune::l1_unstructured(w, 0.4, prior)) == prune_ref::prune_lowest(as_double(w), k, flags(prior)));
}

TEST_CASE("many distinct keys tied in one boundary bin are ranked in place digit by digit", "[prune]") {
  // Keys that share their top 16 bits (floats in [1, 1 + 2^-7)) with a few distinct values,
  // each repeated many times, interleaved: the in-place ranking needs a second digit. The
  // double ones differ only in the lowest digit, or only in bits 32-47.
  const std::size_t n = 60000;
  std::vector<float> f(n);
  std::vector<double> d0(n), d2(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int j = static_cast<int>((i * 7919) % 5);
    f[i] = (i % 2 == 0 ? 1.0f : -1.0f) + static_cast<float>(j) * 0x1p-20f * (i % 2 == 0 ? 1.0f : -1.0f);
    d0[i] = 1.0 + static_cast<double>(j) * 0x1p-52;
    d2[i] = 1.0 + static_cast<double>(j) * 0x1p-20;
  }
  f[123] = std::numeric_limits<float>::quiet_NaN();
  f[4567] = 0.0f;
  for (const double fr : kTieFractions) {
    check_every_ranking(f, fr);
    check_every_ranking(d0, fr);
    check_every_ranking(d2, fr);
  }
  // A hand-checked case: 5 values x 12000 each; pruning 13000 removes every index holding
  // the lowest value (j = 0) and then the 1000 lowest indices holding j = 1.
  const prune::mask m = prune::l1_unstructured(d0, 13000);
  std::size_t j1_pruned = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto j = (i * 7919) % 5;
    if (j == 0) CHECK(!m.keeps(i));
    if (j >= 2) CHECK(m.keeps(i));
    if (j == 1 && !m.keeps(i)) {
      CHECK(j1_pruned == i / 5);  // the 1000 pruned ones are the first in index order
      ++j1_pruned;
    }
  }
  CHECK(j1_pruned == 1000);
  // Global pruning and structured norms with mass ties take the generic engine.
  const std::vector<float> a(5000, 2.0f), b(7000, 2.0f);
  const std::vector<prune::mask> g = prune::global_unstructured({a, b}, 6000);
  CHECK(g[0].kept() == 0);
  CHECK(g[1].kept() == 6000);
  CHECK(!g[1].keeps(999));
  CHECK(g[1].keeps(1000));
}
