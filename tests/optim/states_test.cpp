// The Highway kernels behind Adam's step (simd/optim-inl.hpp) against the scalar
// definition (optim/update.hpp, adam_run_reference), bit for bit: every compiled target
// the CPU supports x state format x AMSGrad x decay mode x lengths around the vector
// width and the block sizes, on data with zeros, subnormals and wide magnitudes; and with
// inf/NaN gradients (on_nonfinite = propagate), where NaN must meet NaN.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "lowprec/memory.hpp"
#include "lowprec/optim/adam.hpp"
#include "lowprec/optim/eigen.hpp"
#include "support/catch.hpp"
#include "support/targets.hpp"

namespace lo = lowprec::optim;
namespace lod = lowprec::optim::detail;

namespace {

using lowprec_test::for_each_target;

struct run_data {
  std::vector<float> p, g;
  lo::moment_buffer m, v, x;
};

// Random moments of n elements in format f (v, vmax non-negative).
lo::moment_buffer random_moment(lo::state_format f, lo::moment which, std::size_t n,
                                std::mt19937& gen) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> byte(0, 255);
  const bool positive = which != lo::moment::m;
  const auto value = [&] {
    const float x = nd(gen) * (positive ? 1e-3f : 1e-2f);
    return positive ? std::fabs(x) * std::fabs(x) : x;
  };
  std::vector<float> f32, absmax;
  std::vector<std::uint16_t> u16;
  std::vector<std::uint8_t> codes;
  switch (f) {
    case lo::state_format::fp32:
      for (std::size_t i = 0; i < n; ++i) f32.push_back(value());
      break;
    case lo::state_format::bf16:
      for (std::size_t i = 0; i < n; ++i) u16.push_back(lowprec::bf16(value()).bits());
      break;
    case lo::state_format::q8:
    case lo::state_format::q4: {
      const std::size_t block = lo::block_of(f);
      const std::size_t bytes = f == lo::state_format::q8 ? n : (n + 1) / 2;
      for (std::size_t i = 0; i < bytes; ++i) {
        int b = byte(gen);
        if (f == lo::state_format::q4 && n % 2 == 1 && i + 1 == bytes) b &= 0x0F;
        codes.push_back(static_cast<std::uint8_t>(b));
      }
      for (std::size_t b = 0; b < (n + block - 1) / block; ++b)
        absmax.push_back(std::fabs(value()) * 10.0f);
      if (!absmax.empty()) absmax[0] = 0.0f;  // an all-zero block
      break;
    }
  }
  return lo::moment_buffer(f, which, n, f32, u16, codes, absmax);
}

run_data make_run(lo::state_format f, std::size_t n, bool ams, std::uint32_t seed, bool nonfinite) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_real_distribution<float> e(-20.0f, 4.0f);
  run_data r;
  for (std::size_t i = 0; i < n; ++i) {
    r.p.push_back(nd(gen));
    float g = nd(gen) * std::exp2(e(gen));
    switch (i % 11) {
      case 3:
        g = 0.0f;
        break;
      case 5:
        g = -0.0f;
        break;
      case 7:
        g = 1e-40f;
        break;  // subnormal
      default:
        break;
    }
    r.g.push_back(g);
  }
  if (nonfinite && n > 0) {
    r.g[n / 2] = std::numeric_limits<float>::infinity();
    r.g[n - 1] = std::numeric_limits<float>::quiet_NaN();
  }
  r.m = random_moment(f, lo::moment::m, n, gen);
  r.v = random_moment(f, lo::moment::v, n, gen);
  if (ams) r.x = random_moment(f, lo::moment::vmax, n, gen);
  return r;
}

lod::adam_args args_for(run_data& r, lo::state_format f, const lod::adam_coeffs& c, bool stochastic,
                        std::uint64_t offset) {
  lod::adam_args a;
  a.c = c;
  a.n = r.p.size();
  a.p = r.p.data();
  a.g = r.g.data();
  a.format = f;
  a.m = r.m.data_at(0);
  a.v = r.v.data_at(0);
  a.absmax_m = r.m.absmax_at(0);
  a.absmax_v = r.v.absmax_at(0);
  if (c.amsgrad) {
    a.vmax = r.x.data_at(0);
    a.absmax_vmax = r.x.absmax_at(0);
  }
  a.block = lo::block_of(f);
  if (a.block != 0) {
    a.signed_map = lo::moment_buffer::map_for(f, lo::moment::m);
    a.unsigned_map = lo::moment_buffer::map_for(f, lo::moment::v);
  }
  a.stochastic = stochastic;
  a.seed_m = 11;
  a.seed_v = 12;
  a.seed_vmax = 13;
  a.offset = offset;
  return a;
}

std::uint32_t bits(float x) {
  std::uint32_t u = 0;
  std::memcpy(&u, &x, 4);
  return u;
}

bool same_or_both_nan(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (bits(a[i]) != bits(b[i])) return false;
  }
  return true;
}

struct variant {
  lo::state_format format;
  bool stochastic;
};

}  // namespace

TEST_CASE("SIMD Adam steps equal the scalar definition on every target", "[optim]") {
  const variant variants[] = {{lo::state_format::fp32, false},
                              {lo::state_format::bf16, false},
                              {lo::state_format::bf16, true},
                              {lo::state_format::q8, false},
                              {lo::state_format::q4, false}};
  const std::size_t lengths[] = {0,  1,   3,   7,   8,   9,   15,  16,  17,  31,
                                 33, 127, 128, 129, 255, 256, 257, 300, 513, 1031};
  const std::uint64_t offset = (std::uint64_t{5} << 32) + 4096;  // a high random key
  for_each_target([&](const char*) {
    std::uint32_t seed = 1;
    for (const variant& var : variants) {
      for (const int mode : {0, 1, 2}) {  // no decay, L2 (Adam), decoupled (AdamW)
        for (const bool ams : {false, true}) {
          for (const bool nonfinite : {false, true}) {
            for (const std::size_t n : lengths) {
              INFO("format " << lo::to_string(var.format) << (var.stochastic ? " stochastic" : "")
                             << ", decay " << mode << ", amsgrad " << ams << ", nonfinite "
                             << nonfinite << ", n " << n);
              const lod::adam_coeffs c = lod::make_coeffs(
                  3e-3, 0.9, 0.99, 1e-8, mode == 0 ? 0.0 : 0.05, mode == 2, ams, seed % 2 == 0,
                  1 + seed % 50, seed % 3 == 0 ? 1.0f / 1024 : 1.0f);
              run_data want = make_run(var.format, n, ams, ++seed, nonfinite);
              run_data got = want;
              lod::adam_run_reference(args_for(want, var.format, c, var.stochastic, offset));
              {
                using namespace lowprec::detail;
                using namespace lowprec::optim::detail;
                LOWPREC_SIMD_CALL(OptimAdamRun)
                (args_for(got, var.format, c, var.stochastic, offset));
              }
              if (!nonfinite) {
                for (std::size_t i = 0; i < n; ++i) {
                  INFO("element " << i);
                  REQUIRE(bits(got.p[i]) == bits(want.p[i]));
                }
                REQUIRE(got.m == want.m);
                REQUIRE(got.v == want.v);
                REQUIRE(got.x == want.x);
              } else {
                REQUIRE(same_or_both_nan(got.p, want.p));
                REQUIRE(same_or_both_nan(got.m.to_float(), want.m.to_float()));
                REQUIRE(same_or_both_nan(got.v.to_float(), want.v.to_float()));
                REQUIRE(same_or_both_nan(got.x.to_float(), want.x.to_float()));
              }
            }
          }
        }
      }
    }
  });
}

TEST_CASE("the gradient scan finds the largest magnitude on every target", "[optim]") {
  for_each_target([&](const char*) {
    for (const std::size_t n : std::vector<std::size_t>{0, 1, 5, 8, 17, 64, 1000}) {
      std::mt19937 gen(static_cast<std::uint32_t>(n));
      std::normal_distribution<float> nd(0.0f, 1.0f);
      std::vector<float> f(n);
      std::vector<lowprec::bf16> b(n);
      std::vector<lowprec::fp16> h(n);
      std::uint32_t wf = 0, wb = 0, wh = 0;
      for (std::size_t i = 0; i < n; ++i) {
        f[i] = nd(gen);
        b[i] = lowprec::bf16(f[i]);
        h[i] = lowprec::fp16(f[i]);
        wf = std::max(wf, bits(f[i]) & 0x7FFFFFFFu);
        wb = std::max<std::uint32_t>(wb, b[i].bits() & 0x7FFFu);
        wh = std::max<std::uint32_t>(wh, h[i].bits() & 0x7FFFu);
      }
      using namespace lowprec::detail;
      using namespace lowprec::optim::detail;
      CHECK(LOWPREC_SIMD_CALL(OptimMaxMagnitude)(f.data(), n, 4) == wf);
      CHECK(LOWPREC_SIMD_CALL(OptimMaxMagnitude)(b.data(), n, 2) == wb);
      CHECK(LOWPREC_SIMD_CALL(OptimMaxMagnitude)(h.data(), n, 2) == wh);
      if (n > 2) {
        f[n - 2] = -std::numeric_limits<float>::quiet_NaN();
        CHECK(LOWPREC_SIMD_CALL(OptimMaxMagnitude)(f.data(), n, 4) == 0x7FC00000u);
      }
    }
  });
}

// ---- state sizes -------------------------------------------------------------------------

TEST_CASE("each state reports its bytes, as lowprec::memory counts them", "[optim]") {
  namespace mem = lowprec::memory;
  const std::size_t n = 8192;  // a multiple of both blocks
  std::vector<float> p(n, 1.0f), g(n, 0.1f), small(100, 1.0f), gsmall(100, 0.1f);
  lo::adam<lo::fp32_state> f32;
  lo::adam<lo::bf16_state> b16;
  lo::adam<lo::q8_state> q8;
  lo::adam<lo::q4_state> q4;
  f32.add(p, g);
  b16.add(p, g);
  q8.add(p, g);
  q4.add(p, g);
  const auto per = [&](mem::optimizer o) {
    return static_cast<std::size_t>(mem::state_bytes_per_parameter(o) * n);
  };
  CHECK(f32.state_bytes() == per(mem::optimizer::adam));
  CHECK(b16.state_bytes() == per(mem::optimizer::adam_bf16));
  CHECK(q8.state_bytes() == per(mem::optimizer::adam8bit));
  CHECK(q4.state_bytes() == per(mem::optimizer::adam4bit));
  CHECK(q8.state(0, 0).m.bytes() == n + 4 * n / 256);
  CHECK(q4.state(0, 0).v.bytes() == n / 2 + 4 * n / 128);
  // Below min_quantized_size (4096) a q8/q4 tensor keeps fp32 moments.
  q8.add(small, gsmall);
  CHECK(q8.state(0, 1).format == lo::state_format::fp32);
  CHECK(q8.state(0, 1).state_bytes() == 8 * 100);
  CHECK(q8.state(0, 0).format == lo::state_format::q8);
  lo::storage_options all;
  all.min_quantized_size = 0;
  lo::adam<lo::q4_state> q4all({}, all);
  q4all.add(small, gsmall);
  CHECK(q4all.state(0, 0).format == lo::state_format::q4);
  CHECK(q4all.state(0, 0).m.bytes() == 50 + 4);
}

// ---- accuracy against fp32 states ------------------------------------------------------------

namespace {

// The largest error a map makes on x / absmax in [-1, 1] (signed) or [0, 1], in units of
// absmax: half the largest gap, or the distance from an end of the range to the map.
double map_error_bound(const lod::map_ref& map) {
  std::vector<float> v(map.values, map.values + map.size);
  double worst = 0;
  for (std::size_t k = 0; k + 1 < v.size(); ++k)
    worst = std::max(worst, (static_cast<double>(v[k + 1]) - v[k]) / 2);
  worst = std::max(worst, 1.0 - v.back());
  if (map.is_signed) {
    worst = std::max(worst, 1.0 + v.front());
  } else {
    worst = std::max(worst, static_cast<double>(v.front()));
  }
  return worst;
}

}  // namespace

TEST_CASE("one stored step is within the format's bound of the fp32 moments", "[optim]") {
  // From zero state, after one step m = (1-b1) g and v = (1-b2) g^2 in fp32; the stored
  // moments may differ by at most: bf16 half an ulp (2^-8 relative; stochastic: one ulp,
  // 2^-7), q8/q4 the map's largest encoding error times the block's absmax.
  const std::size_t n = 5000;
  std::mt19937 gen(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> g(n);
  for (float& x : g)
    x = nd(gen) * std::exp2(static_cast<float>(static_cast<int>(gen() % 16)) - 8.0f);
  const auto run = [&](auto opt) {
    std::vector<float> p(n, 1.0f), gg = g;
    opt.add(p, gg);
    opt.step();
    return std::make_pair(opt.state(0, 0).m.to_float(), opt.state(0, 0).v.to_float());
  };
  const auto ref = run(lo::adam<lo::fp32_state>());
  lo::storage_options sr;
  sr.state_rounding = lowprec::rounding::stochastic;
  const auto check_rel = [&](const std::vector<float>& got, const std::vector<float>& want,
                             double rel) {
    for (std::size_t i = 0; i < n; ++i) {
      INFO("element " << i);
      REQUIRE(std::fabs(static_cast<double>(got[i]) - want[i]) <= rel * std::fabs(want[i]));
    }
  };
  const auto b = run(lo::adam<lo::bf16_state>());
  check_rel(b.first, ref.first, std::ldexp(1.0, -8));
  check_rel(b.second, ref.second, std::ldexp(1.0, -8));
  const auto s = run(lo::adam<lo::bf16_state>({}, sr));
  check_rel(s.first, ref.first, std::ldexp(1.0, -7));
  check_rel(s.second, ref.second, std::ldexp(1.0, -7));

  const auto check_blocks = [&](const std::vector<float>& got, const std::vector<float>& want,
                                std::size_t block, const lod::map_ref& map) {
    const double bound = map_error_bound(map);
    for (std::size_t start = 0; start < n; start += block) {
      double amax = 0, worst = 0;
      for (std::size_t i = start; i < std::min(n, start + block); ++i) {
        amax = std::max(amax, std::fabs(static_cast<double>(want[i])));
        worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
      }
      INFO("block at " << start << ": error " << worst << ", absmax " << amax << ", bound "
                       << bound);
      REQUIRE(worst <= (bound + 1e-6) * amax);
    }
  };
  const auto q8 = run(lo::adam<lo::q8_state>());
  check_blocks(q8.first, ref.first, 256,
               lo::moment_buffer::map_for(lo::state_format::q8, lo::moment::m));
  check_blocks(q8.second, ref.second, 256,
               lo::moment_buffer::map_for(lo::state_format::q8, lo::moment::v));
  const auto q4 = run(lo::adam<lo::q4_state>());
  check_blocks(q4.first, ref.first, 128,
               lo::moment_buffer::map_for(lo::state_format::q4, lo::moment::m));
  check_blocks(q4.second, ref.second, 128,
               lo::moment_buffer::map_for(lo::state_format::q4, lo::moment::v));
  CHECK(map_error_bound(lo::moment_buffer::map_for(lo::state_format::q8, lo::moment::m)) < 0.0071);
  CHECK(map_error_bound(lo::moment_buffer::map_for(lo::state_format::q8, lo::moment::v)) < 0.0036);
}

namespace {

// Linear regression: 64 outputs from 72 inputs over 256 samples, y = W* x + b* + noise.
// W (64 x 72 = 4608 elements) is above the quantization threshold, b (64) below it.
struct regression {
  Eigen::MatrixXf X, Y;
  regression() {
    std::mt19937 gen(12);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    X.resize(256, 72);
    Eigen::MatrixXf W(64, 72);
    Eigen::VectorXf b(64);
    for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = nd(gen);
    for (Eigen::Index i = 0; i < W.size(); ++i) W.data()[i] = nd(gen) / 4.0f;
    for (Eigen::Index i = 0; i < b.size(); ++i) b[i] = nd(gen);
    Y = (X * W.transpose()).rowwise() + b.transpose();
    for (Eigen::Index i = 0; i < Y.size(); ++i) Y.data()[i] += 0.3f * nd(gen);
  }
  // Loss 0.5 mean((X W^T + b - Y)^2) and its gradients.
  float loss_and_grad(const Eigen::MatrixXf& W, const Eigen::VectorXf& b, Eigen::MatrixXf& dW,
                      Eigen::VectorXf& db) const {
    const Eigen::MatrixXf R = ((X * W.transpose()).rowwise() + b.transpose()) - Y;
    const float scale = 1.0f / static_cast<float>(R.size());
    dW = scale * (R.transpose() * X);
    db = scale * R.colwise().sum().transpose();
    return 0.5f * R.squaredNorm() * scale;
  }
};

struct trajectory {
  float final_loss = 0;
  std::vector<Eigen::MatrixXf> W;  // after each step
};

template <class State>
trajectory train(const regression& r, const lo::storage_options& s = {}) {
  Eigen::MatrixXf W = Eigen::MatrixXf::Zero(64, 72), dW(64, 72);
  Eigen::VectorXf b = Eigen::VectorXf::Zero(64), db(64);
  lo::adam_options o = lo::adamw_defaults();
  o.lr = 1e-2;
  lo::adamw<State> opt(o, s);
  opt.add(W, dW);
  opt.add(b, db);
  trajectory t;
  const int steps = 400;
  for (int k = 0; k < steps; ++k) {  // linear decay of the learning rate to 0
    opt.set_lr(2e-2 * (1.0 - static_cast<double>(k) / steps));
    r.loss_and_grad(W, b, dW, db);
    opt.step();
    t.W.push_back(W);
  }
  t.final_loss = r.loss_and_grad(W, b, dW, db);
  return t;
}

// max over steps of |W_k - W_k(fp32)| / |W_T(fp32) - W_0| (W_0 = 0, T the last step).
double deviation(const trajectory& a, const trajectory& ref) {
  double worst = 0;
  for (std::size_t k = 0; k < a.W.size(); ++k) {
    worst = std::max(worst, static_cast<double>((a.W[k] - ref.W[k]).norm() / ref.W.back().norm()));
  }
  return worst;
}

}  // namespace

TEST_CASE("bf16, 8-bit and 4-bit states train a regression to within 1% of fp32's loss",
          "[optim]") {
  const regression r;
  const trajectory f32 = train<lo::fp32_state>(r);
  lo::storage_options sr;
  sr.state_rounding = lowprec::rounding::stochastic;
  const struct {
    const char* name;
    trajectory t;
    double max_deviation;  // documented in docs/optim.md
  } runs[] = {
      {"bf16", train<lo::bf16_state>(r), 0.01},
      {"bf16 stochastic", train<lo::bf16_state>(r, sr), 0.01},
      {"q8", train<lo::q8_state>(r), 0.06},
      {"q4", train<lo::q4_state>(r), 0.6},
  };
  UNSCOPED_INFO("fp32 final loss " << f32.final_loss);
  for (const auto& run : runs) {
    const double dev = deviation(run.t, f32);
    const double final_dev = (run.t.W.back() - f32.W.back()).norm() / f32.W.back().norm();
    UNSCOPED_INFO(
        run.name << ": final loss " << run.t.final_loss << " (" << run.t.final_loss / f32.final_loss
                 << " x fp32), max trajectory deviation " << dev << ", final " << final_dev);
    CHECK(std::fabs(run.t.final_loss - f32.final_loss) <= 0.01 * f32.final_loss);
    CHECK(dev <= run.max_deviation);
  }
  // Converged: the in-sample optimum is about 0.5 * 0.3^2 * (1 - 73/256) = 0.032.
  CHECK(f32.final_loss < 0.033f);
}
