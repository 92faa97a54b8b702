// prune::mask and prune::amount: composition, application, permanence, reporting, and the
// validation rules shared by every pruning function.
#include "lowprec/prune/mask.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "lowprec/prune/amount.hpp"
#include "lowprec/prune/magnitude.hpp"
#include "prune/prune_reference.hpp"
#include "support/catch.hpp"

namespace prune = lowprec::prune;
using prune_ref::contains;
using prune_ref::invalid_argument_message;

TEST_CASE("a mask counts, compares and composes", "[prune]") {
  const prune::mask a({2, 3}, {1, 0, 1, 1, 1, 0});
  const prune::mask b({2, 3}, {1, 1, 0, 1, 0, 0});
  CHECK(a.size() == 6);
  CHECK(a.kept() == 4);
  CHECK(a.pruned() == 2);
  CHECK(a.sparsity() == Approx(2.0 / 6.0));
  const prune::mask both = a & b;
  CHECK(both == prune::mask({2, 3}, {1, 0, 0, 1, 0, 0}));
  CHECK(both != a);
  prune::mask c = a;
  c &= b;
  CHECK(c == both);
  CHECK(prune::mask({4}).kept() == 4);
  CHECK(prune::mask({4}, false).kept() == 0);
  CHECK(prune::mask().size() == 0);
  CHECK(prune::mask().sparsity() == 0.0);
  // Any non-zero byte keeps.
  prune::mask d({3});
  d.data()[1] = 7;
  CHECK(d.kept() == 3);
  CHECK(d == prune::mask({3}));
}

TEST_CASE("mask shape mismatches throw and change nothing", "[prune]") {
  prune::mask a({2, 3}, {1, 0, 1, 1, 1, 0});
  const prune::mask before = a;
  const prune::mask wrong({3, 2});
  const std::string msg = invalid_argument_message([&] { a &= wrong; });
  CHECK(contains(msg, "lowprec::prune::mask::operator&=: mask shape [2, 3] does not match other mask shape [3, 2]"));
  CHECK(!contains(msg, "tensor"));  // both operands are masks
  CHECK(a == before);

  std::vector<float> w = {1, 2, 3, 4, 5};
  const std::vector<float> w0 = w;
  const std::string msg2 = invalid_argument_message([&] { a.apply(w); });
  CHECK(contains(msg2, "lowprec::prune::mask::apply"));
  CHECK(contains(msg2, "[2, 3]"));
  CHECK(contains(msg2, "[5]"));
  CHECK(w == w0);
  CHECK(contains(invalid_argument_message([] { prune::mask({2}, {1, 0, 1}); }), "3 flags"));
}

TEMPLATE_TEST_CASE("apply zeroes pruned weights in place, strided views too", "[prune]", float,
                   double, lowprec::fp16, lowprec::bf16) {
  using T = TestType;
  // A 2x3 view into a 3x4 buffer, column-major (strides 1, 3).
  std::vector<T> buf(12);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = T(static_cast<float>(i + 1));
  const prune::tensor_ref<T> v(buf.data(), {2, 3}, {1, 3});
  const prune::mask m({2, 3}, {1, 0, 1, 0, 1, 1});  // pruned: (0,1) and (1,0)
  m.apply(v);
  // (0,1) is at 0*1 + 1*3 = 3; (1,0) at 1.
  for (std::size_t i = 0; i < buf.size(); ++i) {
    const float want = (i == 3 || i == 1) ? 0.0f : static_cast<float>(i + 1);
    CHECK(static_cast<float>(buf[i]) == want);
  }
  CHECK(prune::count_zeros(v) == 2);
}

TEST_CASE("apply sets NaN and inf to +0, and re-applying after an update restores zeros",
          "[prune]") {
  std::vector<float> w = {std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::infinity(), 3.0f, -4.0f};
  const prune::mask m({4}, {0, 0, 1, 1});
  m.apply(w);
  CHECK(w[0] == 0.0f);
  CHECK(!std::signbit(w[0]));
  CHECK(w[1] == 0.0f);
  CHECK(!std::signbit(w[1]));
  // An optimizer step moves every weight; the mask puts the pruned ones back to zero.
  for (auto& x : w) x += 0.25f;
  m.apply(w);
  CHECK(w == std::vector<float>{0.0f, 0.0f, 3.25f, -3.75f});
}

TEST_CASE("make_permanent applies the mask and consumes it", "[prune]") {
  std::vector<double> w = {1, -2, 3, -4, 5, -6};
  prune::mask m = prune::l1_unstructured(w, 0.5);
  CHECK(prune::make_permanent(w, std::move(m)) == 3);
  CHECK(w == std::vector<double>{0, 0, 0, -4, 5, -6});
  CHECK(m.size() == 0);  // NOLINT(bugprone-use-after-move): consumed on purpose
  // Afterwards the zeros are ordinary weights: a fresh pruning removes them first.
  const prune::mask again = prune::l1_unstructured(w, 4);
  CHECK(again == prune::mask({6}, {0, 0, 0, 0, 1, 1}));
  // A shape mismatch throws and leaves both the weights and the mask alone.
  prune::mask wrong({5});
  CHECK(!invalid_argument_message([&] { prune::make_permanent(w, std::move(wrong)); }).empty());
  CHECK(wrong.size() == 5);  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("sparsity_report sums per tensor and overall", "[prune]") {
  std::vector<float> w = {0, 1, 0, 2};
  prune::sparsity_report r;
  r.add("fc1", prune::mask({2, 2}, {1, 0, 0, 0}))
      .add("fc2", prune::mask({4}, {1, 1, 1, 0}))
      .add_weights("bias", w);
  REQUIRE(r.entries().size() == 3);
  CHECK(r.entries()[0].pruned == 3);
  CHECK(r.entries()[1].sparsity() == Approx(0.25));
  CHECK(r.entries()[2].pruned == 2);
  CHECK(r.size() == 12);
  CHECK(r.pruned() == 6);
  CHECK(r.sparsity() == Approx(0.5));
  std::ostringstream s;
  s << r;
  CHECK(contains(s.str(), "fc1"));
  CHECK(contains(s.str(), "75.00%"));
  CHECK(contains(s.str(), "total"));
  CHECK(contains(s.str(), "50.00%"));
}

TEST_CASE("amount resolves like torch: fractions round half to even, integers count",
          "[prune]") {
  const char* who = "test";
  CHECK(prune::amount(0.5).resolve(5, who) == 2);   // 2.5 -> 2
  CHECK(prune::amount(0.5).resolve(7, who) == 4);   // 3.5 -> 4
  CHECK(prune::amount(0.25).resolve(10, who) == 2);
  CHECK(prune::amount(0.3f).resolve(10, who) == 3);
  CHECK(prune::amount(1.0).resolve(9, who) == 9);
  CHECK(prune::amount(0.0).resolve(9, who) == 0);
  CHECK(prune::amount(3).resolve(3, who) == 3);
  CHECK(prune::amount(std::size_t{0}).resolve(0, who) == 0);
  CHECK(prune::amount::fraction(0.5).is_fraction());
  CHECK(!prune::amount::count(5).is_fraction());
  CHECK(prune::amount::count(5).resolve(6, who) == 5);
  // Exact halves across many sizes against an independent rounding.
  for (std::size_t n = 1; n < 300; ++n) {
    for (std::size_t twice = 0; twice <= 2 * n; ++twice) {
      const double f = (static_cast<double>(twice) / 2.0) / static_cast<double>(n);
      INFO("amount " << f << " of " << n);
      CHECK(prune::amount(f).resolve(n, who) ==
            prune_ref::python_round(f * static_cast<double>(n)));
    }
  }
}

TEST_CASE("bad amounts are rejected with the argument and its value", "[prune]") {
  const auto msg = [](prune::amount a, std::size_t n) {
    return invalid_argument_message([&] { a.resolve(n, "lowprec::prune::f", "channels"); });
  };
  CHECK(contains(msg(1.5, 10), "lowprec::prune::f: amount 1.5 is not a fraction in [0, 1]"));
  CHECK(contains(msg(-0.1, 10), "amount -0.1 is not a fraction"));
  CHECK(contains(msg(1.0000001, 10), "amount 1.0000001"));
  CHECK(contains(msg(std::numeric_limits<double>::quiet_NaN(), 10), "amount nan"));
  CHECK(contains(msg(-3, 10), "amount -3 is a negative count"));
  CHECK(contains(msg(11, 10), "amount 11 is more than the 10 channels that can be pruned"));
  CHECK(msg(10, 10).empty());
  // Through a pruning function: nothing is computed, the message names the function.
  const std::vector<float> w(8, 1.0f);
  CHECK(contains(invalid_argument_message([&] { prune::l1_unstructured(w, 9); }),
                 "lowprec::prune::l1_unstructured: amount 9 is more than the 8 elements"));
  // With a prior mask the limit is the survivors.
  const prune::mask prior({8}, {1, 1, 0, 0, 1, 1, 0, 1});
  CHECK(contains(invalid_argument_message([&] { prune::l1_unstructured(w, 6, prior); }),
                 "amount 6 is more than the 5 elements"));
  CHECK(prune::l1_unstructured(w, 5, prior).kept() == 0);
}

TEST_CASE("large buffers (huge-page storage) copy, move and free like small ones", "[prune]") {
  // 32 MiB and up take the 2 MiB-aligned, MADV_HUGEPAGE allocation on Linux (view.hpp);
  // run under ASan this also checks that each block goes back to its matching delete.
  using prune::detail::buffer;
  const std::size_t n = (std::size_t{32} << 20) + 3;
  buffer<std::uint8_t> a(n);
  std::memset(a.data(), 5, n);
  a[n - 1] = 9;
#if defined(__linux__)
  CHECK(reinterpret_cast<std::uintptr_t>(a.data()) % (std::size_t{2} << 20) == 0);
#endif
  buffer<std::uint8_t> b = a;  // copy
  CHECK(b.size() == n);
  CHECK(b[0] == 5);
  CHECK(b[n - 1] == 9);
  buffer<std::uint8_t> c(std::move(b));  // move: b empty
  CHECK(b.size() == 0);
  CHECK(b.data() == nullptr);
  CHECK(c[n - 1] == 9);
  buffer<std::uint8_t> small(10);
  small = std::move(c);  // frees the small block, takes the large one
  CHECK(small.size() == n);
  c = small;  // copy-assign into an empty buffer
  CHECK(c[12345] == 5);
  c = buffer<std::uint8_t>(7);  // large freed, small taken
  CHECK(c.size() == 7);
  const auto& self = small;
  small = self;  // self-assignment keeps the contents
  CHECK(small[n - 1] == 9);
  buffer<float> f(std::size_t{9} << 20);  // 36 MiB of float
  f[0] = 1.5f;
  CHECK(f[0] == 1.5f);
  // A mask that large behaves as any other.
  prune::mask m(prune::shape_t{n}, true);
  m.data()[n - 2] = 0;
  CHECK(m.pruned() == 1);
  const prune::mask m2 = m;
  CHECK(m2 == m);
}
