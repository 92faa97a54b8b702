// lowprec::optim::adam / adamw with fp32 states against PyTorch 1.13 (golden trajectories
// in tests/data/optim/adam.txt), parameter groups, and bad input.
#include "lowprec/optim/adam.hpp"

#include <Eigen/Core>
#include <unsupported/Eigen/CXX11/Tensor>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "lowprec/optim/eigen.hpp"
#include "support/expect.hpp"
#include "optim/golden_reader.hpp"
#include "support/catch.hpp"

namespace lo = lowprec::optim;
using lowprec_test::golden_adam;
using lowprec_test::golden_case;

namespace {

const golden_adam& golden() {
  static const golden_adam g =
      lowprec_test::read_golden_adam(std::string(LOWPREC_OPTIM_DATA_DIR) + "/adam.txt");
  return g;
}

lo::adam_options options_of(const lowprec_test::golden_group& g) {
  lo::adam_options o;
  o.lr = g.lr;
  o.beta1 = g.beta1;
  o.beta2 = g.beta2;
  o.eps = g.eps;
  o.weight_decay = g.weight_decay;
  o.amsgrad = g.amsgrad;
  o.maximize = g.maximize;
  return o;
}

// Largest |a - b| / |b| over a tensor (b: PyTorch's).
double max_rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    worst = std::max(worst, d == 0 ? 0.0 : d / std::fabs(static_cast<double>(b[i])));
  }
  return worst;
}

// Largest |a - b| relative to the largest |b| of the tensor (for moments, which cross 0).
double max_scaled_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double scale = 0, worst = 0;
  for (const float x : b) scale = std::max(scale, std::fabs(static_cast<double>(x)));
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
  return scale == 0 ? worst : worst / scale;
}

struct errors {
  double param = 0, moment = 0;
  std::size_t checked = 0;
};

template <lo::weight_decay_mode Mode>
errors replay(const golden_case& c) {
  const golden_adam& g = golden();
  const std::size_t T = g.shapes.size();
  std::vector<std::vector<float>> params = g.inits, grads(T);
  for (std::size_t t = 0; t < T; ++t) grads[t].assign(params[t].size(), 0.0f);
  lo::basic_adam<lo::fp32_state, Mode> opt(options_of(c.groups[0]));
  std::vector<std::pair<std::size_t, std::size_t>> where(
      T, {SIZE_MAX, 0});  // tensor -> (group, index)
  errors e;
  const int steps = static_cast<int>(g.grads.size());
  for (int k = 1; k <= steps; ++k) {
    for (std::size_t gi = 0; gi < c.groups.size(); ++gi) {
      if (c.groups[gi].first_step != k) continue;
      const std::size_t group = gi == 0 ? 0 : opt.add_group(options_of(c.groups[gi]));
      for (const int t : c.groups[gi].tensors) {
        const auto ut = static_cast<std::size_t>(t);
        where[ut] = {group, opt.param_count(group)};
        opt.add(params[ut].data(), grads[ut].data(), g.shapes[ut], group);
      }
    }
    for (std::size_t t = 0; t < T; ++t) grads[t] = g.grads[static_cast<std::size_t>(k - 1)][t];
    opt.step();
    for (std::size_t t = 0; t < T; ++t) {
      const auto it = c.params.find({k, static_cast<int>(t)});
      if (it == c.params.end()) continue;
      INFO(c.name << " step " << k << " tensor " << t);
      e.param = std::max(e.param, max_rel_error(params[t], it->second));
      ++e.checked;
    }
  }
  for (const auto& [t, st] : c.states) {
    const auto [group, index] = where[static_cast<std::size_t>(t)];
    const lo::param_state& ps = opt.state(group, index);
    CHECK(ps.step == st.step);
    e.moment = std::max(e.moment, max_scaled_error(ps.m.to_float(), st.exp_avg));
    e.moment = std::max(e.moment, max_scaled_error(ps.v.to_float(), st.exp_avg_sq));
    if (!st.max_exp_avg_sq.empty()) {
      e.moment = std::max(e.moment, max_scaled_error(ps.vmax.to_float(), st.max_exp_avg_sq));
    }
  }
  return e;
}

}  // namespace

TEST_CASE("fp32-state trajectories equal torch.optim.Adam/AdamW within 1e-6 relative", "[optim]") {
  const golden_adam& g = golden();
  REQUIRE(g.grads.size() >= 200);
  REQUIRE(g.cases.size() >= 7);
  for (const golden_case& c : g.cases) {
    INFO("case " << c.name);
    const errors e = c.kind == "adam" ? replay<lo::weight_decay_mode::l2>(c)
                                      : replay<lo::weight_decay_mode::decoupled>(c);
    UNSCOPED_INFO(c.name << ": max relative parameter error " << e.param << ", moments "
                         << e.moment);
    CHECK(e.checked > 100);
    CHECK(e.param <= 1e-6);
    CHECK(e.moment <= 1e-6);
  }
}

// ---- parameter groups and hyper-parameters --------------------------------------------------

namespace {

std::vector<float> ramp(std::size_t n, float scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = scale * (static_cast<float>(i % 17) - 8.0f) / 8.0f + 0.25f;
  return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE("groups keep their own hyper-parameters, step counts and learning-rate changes",
          "[optim]") {
  std::vector<float> a = ramp(10, 1.0f), b = ramp(6, 2.0f), ga = ramp(10, 0.3f),
                     gb = ramp(6, -0.7f);
  lo::adam<> opt;
  opt.add(a, ga);
  opt.step();
  lo::adam_options o;
  o.lr = 5e-2;
  o.amsgrad = true;
  const std::size_t g1 = opt.add_group(o);
  opt.add(b.data(), gb.data(), {2, 3}, g1);
  opt.step();
  opt.step();
  CHECK(opt.group_count() == 2);
  CHECK(opt.state(0, 0).step == 3);
  CHECK(opt.state(1, 0).step == 2);
  CHECK(opt.options(1).lr == 5e-2);
  CHECK(opt.state(1, 0).vmax.size() == 6);
  CHECK(opt.state(0, 0).vmax.size() == 0);

  // A schedule: set_lr(g, lr) equals an optimizer built with that lr from the start.
  std::vector<float> x = ramp(9, 1.0f), y = x, gx = ramp(9, 0.5f), gy = gx;
  lo::adamw<> s1, s2;
  s1.add(x, gx);
  lo::adam_options half = lo::adamw_defaults();
  half.lr = 5e-4;
  s2.set_options(0, half);
  s2.add(y, gy);
  s1.set_lr(0, 5e-4);
  for (int k = 0; k < 5; ++k) {
    s1.step();
    s2.step();
  }
  CHECK(same_bits(x, y));
  s1.set_lr(1e-2);
  CHECK(s1.options(0).lr == 1e-2);

  // Turning AMSGrad on later starts its maximum at 0; off drops it.
  lo::adam_options ams = opt.options(0);
  ams.amsgrad = true;
  opt.set_options(0, ams);
  CHECK(opt.state(0, 0).vmax.size() == 10);
  ams.amsgrad = false;
  opt.set_options(0, ams);
  CHECK(opt.state(0, 0).vmax.size() == 0);
  opt.step();
}

TEST_CASE("AdamW defaults are PyTorch's", "[optim]") {
  const lo::adam_options a = lo::adam<>::default_options(), w = lo::adamw<>::default_options();
  CHECK(a.lr == 1e-3);
  CHECK(a.beta1 == 0.9);
  CHECK(a.beta2 == 0.999);
  CHECK(a.eps == 1e-8);
  CHECK(a.weight_decay == 0.0);
  CHECK(w.weight_decay == 1e-2);
  CHECK(!a.amsgrad);
  CHECK(!a.maximize);
}

// ---- bad input ------------------------------------------------------------------------------

TEST_CASE("bad hyper-parameters throw invalid_argument naming the argument and change nothing",
          "[optim]") {
  using lowprec_test::require_throws;
  const struct {
    const char* name;
    void (*set)(lo::adam_options&);
    std::string fragment;
  } bad[] = {
      {"lr < 0", [](lo::adam_options& o) { o.lr = -0.5; }, "lr must be finite and >= 0, got -0.5"},
      {"lr NaN", [](lo::adam_options& o) { o.lr = std::numeric_limits<double>::quiet_NaN(); },
       "lr must be finite and >= 0, got nan"},
      {"beta1 = 1", [](lo::adam_options& o) { o.beta1 = 1.0; }, "beta1 must be in [0, 1), got 1"},
      {"beta1 < 0", [](lo::adam_options& o) { o.beta1 = -0.1; },
       "beta1 must be in [0, 1), got -0.1"},
      {"beta2 > 1", [](lo::adam_options& o) { o.beta2 = 1.5; }, "beta2 must be in [0, 1), got 1.5"},
      {"eps = 0", [](lo::adam_options& o) { o.eps = 0.0; }, "eps must be finite and > 0, got 0"},
      {"eps < 0", [](lo::adam_options& o) { o.eps = -1e-8; },
       "eps must be finite and > 0, got -1e-08"},
      {"weight_decay < 0", [](lo::adam_options& o) { o.weight_decay = -1.0; },
       "weight_decay must be finite and >= 0, got -1"},
      {"param_rounding",
       [](lo::adam_options& o) { o.param_rounding = lowprec::rounding::toward_zero; },
       "param_rounding must be nearest_even or stochastic, got toward_zero"},
  };
  std::vector<float> p = ramp(8, 1.0f), g = ramp(8, 0.1f);
  lo::adamw<> opt;
  opt.add(p, g);
  for (const auto& b : bad) {
    INFO(b.name);
    lo::adam_options o = lo::adamw_defaults();
    b.set(o);
    require_throws<std::invalid_argument>([&] { lo::adamw<> x(o); },
                                          {"lowprec::optim::adamw", b.fragment});
    require_throws<std::invalid_argument>([&] { opt.add_group(o); }, {b.fragment});
    require_throws<std::invalid_argument>([&] { opt.set_options(0, o); }, {b.fragment});
    CHECK(opt.group_count() == 1);
    CHECK(opt.options(0).lr == 1e-3);
    CHECK(opt.options(0).weight_decay == 1e-2);
  }
  require_throws<std::invalid_argument>([&] { opt.set_lr(-1.0); }, {"lr", "-1"});
  require_throws<std::invalid_argument>([&] { opt.set_lr(3, 1.0); },
                                        {"group 3 does not exist (1 groups)"});
  CHECK(opt.options(0).lr == 1e-3);
  lo::storage_options s;
  s.state_rounding = lowprec::rounding::toward_negative;
  require_throws<std::invalid_argument>([&] { lo::adam<lo::bf16_state> x({}, s); },
                                        {"state_rounding", "toward_negative"});
}

TEST_CASE("bad bindings throw invalid_argument and add nothing", "[optim]") {
  using lowprec_test::require_throws;
  std::vector<float> p(12, 1.0f), g(12, 0.5f), g2(12, 0.5f);
  lo::adam<> opt;
  require_throws<std::invalid_argument>(
      [&] {
        opt.add(p.data(), g.data(), {3, 4}, 1);
      },
      {"group 1 does not exist"});
  require_throws<std::invalid_argument>(
      [&] {
        opt.add(lo::view(p.data(), {3, 4}), lo::view(g.data(), {4, 3}));
      },
      {"gradient shape [4, 3] differs from parameter shape [3, 4]"});
  require_throws<std::invalid_argument>(
      [&] {
        opt.add(lo::view(p.data(), {3, 4}), lo::view(g.data(), {3, 4}, lo::layout::col_major));
      },
      {"different orders"});
  require_throws<std::invalid_argument>(
      [&] { opt.add(lo::view(static_cast<float*>(nullptr), {3}), lo::view(g.data(), {3})); },
      {"null data"});
  CHECK(opt.param_count(0) == 0);
  opt.add(p, g);
  require_throws<std::invalid_argument>([&] { opt.add(p, g2); },
                                        {"already bound (group 0, index 0)"});
  require_throws<std::invalid_argument>([&] { (void)opt.state(0, 1); }, {"index 1 out of range"});
  CHECK(opt.param_count(0) == 1);
  lo::adam_options mw;
  mw.master_weights = true;
  require_throws<std::invalid_argument>([&] { opt.set_options(0, mw); },
                                        {"master_weights cannot change"});
}

TEST_CASE("a NaN or inf gradient without a scaler throws and updates nothing, or propagates",
          "[optim]") {
  for (const float badv :
       {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    std::vector<float> a = ramp(300, 1.0f), b = ramp(5000, 1.0f), ga = ramp(300, 0.1f),
                       gb = ramp(5000, 0.2f);
    lo::adam<lo::q8_state> opt;
    opt.add(a, ga);
    const std::size_t g1 = opt.add_group(lo::adam_options{});
    opt.add(b, gb, g1);
    opt.step();
    const std::vector<std::uint8_t> before = opt.save();
    const std::vector<float> a0 = a, b0 = b;
    gb[4321] = badv;
    bool thrown = false;
    try {
      opt.step();
    } catch (const lo::nonfinite_gradient& e) {
      thrown = true;
      CHECK(e.group() == 1);
      CHECK(e.index() == 0);
      CHECK(std::string(e.what()).find(badv != badv ? "holds NaN" : "holds inf") !=
            std::string::npos);
      CHECK(std::string(e.what()).find("parameter 0 in group 1 (shape [5000])") !=
            std::string::npos);
    }
    CHECK(thrown);
    CHECK(same_bits(a, a0));
    CHECK(same_bits(b, b0));
    CHECK(opt.save() == before);
    static_assert(std::is_base_of_v<std::runtime_error, lo::nonfinite_gradient>, "a runtime_error");
  }
  // propagate: PyTorch's behaviour, the bad element and its moments become NaN.
  std::vector<float> p = ramp(16, 1.0f), g = ramp(16, 0.1f);
  lo::storage_options s;
  s.on_nonfinite = lo::nonfinite_gradients::propagate;
  lo::adam<> opt({}, s);
  opt.add(p, g);
  g[3] = std::numeric_limits<float>::infinity();
  opt.step();
  CHECK(std::isnan(p[3]));
  CHECK(std::isfinite(p[4]));
  CHECK(std::isnan(opt.state(0, 0).m.value(3)) == false);  // m = 0.1 * inf = inf
  CHECK(std::isinf(opt.state(0, 0).m.value(3)));
}

// ---- loss scaling and mixed precision -------------------------------------------------------

TEST_CASE("the loss scaler follows GradScaler's transitions", "[optim]") {
  lo::loss_scaler s;
  CHECK(s.scale() == 65536.0f);
  CHECK(s.inv_scale() == 1.0f / 65536.0f);
  for (int k = 1; k < 2000; ++k) s.update(false);
  CHECK(s.scale() == 65536.0f);
  CHECK(s.growth_tracker() == 1999);
  s.update(false);
  CHECK(s.scale() == 131072.0f);
  CHECK(s.growth_tracker() == 0);
  s.update(false);
  s.update(true);
  CHECK(s.scale() == 65536.0f);
  CHECK(s.growth_tracker() == 0);
  s.update(true);
  CHECK(s.scale() == 32768.0f);
  // Growth that would overflow keeps the scale (and resets the tracker).
  lo::loss_scaler_options big;
  big.init_scale = 3e38f;
  big.growth_interval = 1;
  lo::loss_scaler b(big);
  b.update(false);
  CHECK(b.scale() == 3e38f);
  CHECK(b.growth_tracker() == 0);
  using lowprec_test::require_throws;
  lo::loss_scaler_options o;
  o.growth_factor = 1.0f;
  require_throws<std::invalid_argument>([&] { lo::loss_scaler x(o); }, {"growth_factor", "> 1"});
  o = {};
  o.backoff_factor = 1.0f;
  require_throws<std::invalid_argument>([&] { lo::loss_scaler x(o); }, {"backoff_factor"});
  o = {};
  o.growth_interval = 0;
  require_throws<std::invalid_argument>([&] { lo::loss_scaler x(o); }, {"growth_interval"});
  o = {};
  o.init_scale = -1.0f;
  require_throws<std::invalid_argument>([&] { lo::loss_scaler x(o); }, {"init_scale"});
  require_throws<std::invalid_argument>([&] { s.set_state(2.0f, 5000); }, {"growth_tracker"});
  s.set_state(1024.0f, 7);
  CHECK(s.scale() == 1024.0f);
  CHECK(s.growth_tracker() == 7);
}

TEST_CASE("step(scaler) unscales exactly, and skips a step with inf/NaN gradients", "[optim]") {
  std::vector<float> p = ramp(600, 1.0f), q = p, g = ramp(600, 1e-3f), gs(600);
  lo::adamw<lo::bf16_state> plain, scaled;
  plain.add(p, g);
  scaled.add(q, gs);
  lo::loss_scaler scaler;
  for (int k = 0; k < 5; ++k) {
    for (std::size_t i = 0; i < g.size(); ++i)
      gs[i] = g[i] * scaler.scale();  // exact: a power of 2
    plain.step();
    CHECK(scaled.step(scaler));
  }
  CHECK(same_bits(p, q));
  CHECK(scaler.growth_tracker() == 5);
  const std::vector<std::uint8_t> before = scaled.save();
  const std::vector<float> q0 = q;
  gs[17] = std::numeric_limits<float>::infinity();
  CHECK_FALSE(scaled.step(scaler));
  CHECK(scaler.scale() == 32768.0f);
  CHECK(scaler.growth_tracker() == 0);
  CHECK(same_bits(q, q0));
  CHECK(scaled.save() == before);
  CHECK(scaled.state(0, 0).step == 5);
  // A finite gradient that overflows once unscaled (scale < 1) is skipped too.
  lo::loss_scaler_options tiny;
  tiny.init_scale = 0.5f;
  lo::loss_scaler small(tiny);
  gs[17] = 2e38f;
  CHECK_FALSE(scaled.step(small));
  CHECK(same_bits(q, q0));
}

TEST_CASE("bf16 and fp16 parameters with fp32 master weights follow the fp32 trajectory",
          "[optim]") {
  const std::size_t n = 700;
  std::vector<float> ref(n), g = ramp(n, 3e-2f);
  std::vector<lowprec::bf16> pb(n);
  std::vector<lowprec::fp16> ph(n);
  for (std::size_t i = 0; i < n; ++i) {
    pb[i] = lowprec::bf16(ramp(n, 1.0f)[i]);
    ph[i] = lowprec::fp16(static_cast<float>(pb[i]));
    ref[i] = pb[i];  // masters start from the 16-bit values
  }
  std::vector<lowprec::bf16> gb(n);
  std::vector<lowprec::fp16> gh(n);
  for (std::size_t i = 0; i < n; ++i) {
    gb[i] = lowprec::bf16(g[i]);
    gh[i] = lowprec::fp16(static_cast<float>(gb[i]));
    g[i] = gb[i];  // the same gradient values everywhere
  }
  lo::adam_options o = lo::adamw_defaults();
  o.master_weights = true;
  lo::adamw<> f32(o), mixb(o), mixh(o);
  f32.add(ref, g);
  mixb.add(pb, gb);
  mixh.add(ph, gh);
  CHECK(mixb.master_bytes() == 4 * n);
  CHECK(f32.master_bytes() == 0);
  for (int k = 0; k < 20; ++k) {
    f32.step();
    mixb.step();
    mixh.step();
    REQUIRE(same_bits(mixb.state(0, 0).master, ref));
    REQUIRE(same_bits(mixh.state(0, 0).master, ref));
    for (std::size_t i = 0; i < n; ++i) {
      REQUIRE(pb[i].bits() == lowprec::bf16(ref[i]).bits());  // working copy = RNE(master)
      REQUIRE(ph[i].bits() == lowprec::fp16(ref[i]).bits());
    }
  }
}

TEST_CASE("fp16 gradients with loss scaling keep updates that would underflow in fp16", "[optim]") {
  // True gradients of 5e-9..2.5e-8 are below half of fp16's smallest subnormal (6e-8): unscaled
  // they flush to zero, scaled by 65536 they survive, and the step matches fp32 gradients.
  const std::size_t n = 64;
  std::vector<float> ref(n, 0.5f), g(n);
  std::vector<lowprec::fp16> p16(n, lowprec::fp16(0.5f)), p16u(n, lowprec::fp16(0.5f)), gh(n),
      ghu(n);
  lo::adam_options o;
  o.master_weights = true;
  lo::adam<> f32(o), mixed(o), unscaled(o);
  f32.add(ref, g);
  mixed.add(p16, gh);
  unscaled.add(p16u, ghu);
  lo::loss_scaler scaler;
  for (int k = 0; k < 10; ++k) {
    for (std::size_t i = 0; i < n; ++i) {
      const float truth = 5e-9f * static_cast<float>(1 + i % 5);
      gh[i] = lowprec::fp16(truth * scaler.scale());
      ghu[i] = lowprec::fp16(truth);
      g[i] = static_cast<float>(gh[i]) / scaler.scale();
    }
    f32.step();
    REQUIRE(mixed.step(scaler));
    unscaled.step();
  }
  CHECK(same_bits(mixed.state(0, 0).master, ref));
  CHECK(ref[0] < 0.5f);
  for (const float x : unscaled.state(0, 0).master) CHECK(x == 0.5f);  // all gradients were 0
}

TEST_CASE("bf16 parameters without masters: nearest loses tiny updates, stochastic keeps them",
          "[optim]") {
  const std::size_t n = 4096;
  std::vector<lowprec::bf16> pn(n, lowprec::bf16(1.0f)), ps1(n, lowprec::bf16(1.0f)),
      ps2(n, lowprec::bf16(1.0f)), ps3(n, lowprec::bf16(1.0f));
  std::vector<float> g(n, 1.0f);
  lo::adam_options o;
  o.lr = 2e-4;  // below half an ulp of 1 in bf16 (2^-8)
  lo::adam_options so = o;
  so.param_rounding = lowprec::rounding::stochastic;
  lo::storage_options seed7, seed8;
  seed7.seed = 7;
  seed8.seed = 8;
  lo::adam<> nearest(o), sr1(so, seed7), sr2(so, seed7), sr3(so, seed8);
  nearest.add(pn, g);
  sr1.add(ps1, g);
  sr2.add(ps2, g);
  sr3.add(ps3, g);
  const int steps = 50;
  for (int k = 0; k < steps; ++k) {
    nearest.step();
    sr1.step();
    sr2.step();
    sr3.step();
  }
  double mean = 0;
  bool differs = false;
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(pn[i].bits() == lowprec::bf16(1.0f).bits());
    REQUIRE(ps1[i].bits() == ps2[i].bits());  // reproducible
    differs = differs || ps1[i].bits() != ps3[i].bits();
    mean += static_cast<float>(ps1[i]);
  }
  mean /= static_cast<double>(n);
  CHECK(differs);
  // Adam with a constant gradient moves each step by ~lr: 50 * 2e-4 = 0.01.
  CHECK(mean == Approx(1.0 - steps * 2e-4).margin(1.5e-3));
}

// ---- Eigen objects ---------------------------------------------------------------------------

TEST_CASE("Eigen matrices, maps, blocks and tensors are updated in place like raw buffers",
          "[optim]") {
  using lowprec_test::require_throws;
  Eigen::MatrixXf W = Eigen::MatrixXf::Random(6, 5), dW = Eigen::MatrixXf::Random(6, 5);
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> R = W, dR = dW;
  Eigen::VectorXf v = Eigen::VectorXf::Random(7), dv = Eigen::VectorXf::Random(7);
  Eigen::Tensor<float, 3> T(2, 3, 4), dT(2, 3, 4);
  T.setRandom();
  dT.setRandom();
  Eigen::Matrix<lowprec::bf16, Eigen::Dynamic, Eigen::Dynamic> B(3, 3), dB(3, 3);
  for (Eigen::Index i = 0; i < B.size(); ++i) {
    B.data()[i] = lowprec::bf16(0.1f * static_cast<float>(i));
    dB.data()[i] = lowprec::bf16(0.5f - 0.1f * static_cast<float>(i));
  }
  // The same numbers as raw buffers, in storage order.
  std::vector<float> w(W.data(), W.data() + W.size()), dw(dW.data(), dW.data() + dW.size());
  std::vector<float> t(T.data(), T.data() + T.size()), dt(dT.data(), dT.data() + dT.size());

  lo::adam_options o = lo::adamw_defaults();
  o.master_weights = true;
  lo::adamw<lo::bf16_state> opt(o), raw(o);
  opt.add(W, dW);
  opt.add(R, dR);
  opt.add(v, dv);
  Eigen::TensorMap<Eigen::Tensor<float, 3>> tm(T.data(), 2, 3, 4);
  opt.add(tm, dT);
  opt.add(B, dB);
  raw.add(w.data(), dw.data(), {30});
  raw.add(t.data(), dt.data(), {24});
  std::vector<float> mbuf = w, dmbuf = dw;  // a Map over a buffer, beside the raw one
  Eigen::Map<Eigen::MatrixXf> map(mbuf.data(), 6, 5), dmap(dmbuf.data(), 6, 5);
  raw.add(map, dmap);
  CHECK(opt.state(0, 0).param.shape == lo::shape_t{6, 5});
  CHECK(opt.state(0, 0).param.order == lo::layout::col_major);
  CHECK(opt.state(0, 1).param.order == lo::layout::row_major);
  CHECK(opt.state(0, 2).param.shape == lo::shape_t{7});
  CHECK(opt.state(0, 3).param.shape == lo::shape_t{2, 3, 4});
  for (int k = 0; k < 3; ++k) {
    opt.step();
    raw.step();
  }
  CHECK(std::memcmp(W.data(), w.data(), w.size() * 4) == 0);
  CHECK(mbuf == w);
  CHECK(std::memcmp(T.data(), t.data(), t.size() * 4) == 0);
  for (Eigen::Index i = 0; i < W.rows(); ++i) {
    for (Eigen::Index j = 0; j < W.cols(); ++j)
      CHECK(R(i, j) == W(i, j));  // storage order is irrelevant
  }
  CHECK(static_cast<float>(B(0, 1)) != 0.3f);
  CHECK(opt.state(0, 4).master.size() == 9);

  lo::adam<> bad;
  Eigen::MatrixXf M = Eigen::MatrixXf::Zero(4, 4), dM = M;
  require_throws<std::invalid_argument>([&] { bad.add(W, dR); }, {"different orders"});
  auto blk = M.block(0, 0, 2, 2);
  auto dblk = dM.block(0, 0, 2, 2);
  require_throws<std::invalid_argument>([&] { bad.add(blk, dblk); },
                                        {"not contiguous", "outer stride 4"});
  auto col = M.col(1);  // contiguous
  auto dcol = dM.col(1);
  bad.add(col, dcol);
  CHECK(bad.state(0, 0).param.shape == lo::shape_t{4});
}
