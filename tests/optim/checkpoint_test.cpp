// Optimizer checkpoints (optim/checkpoint.hpp, basic_adam::save/load): bit-exact round
// trips for every state format, clear errors for mismatched, truncated, corrupted and
// wrong-version files, and a fuzz test: truncations and byte flips never crash and never
// half-load (on failure the optimizer and the parameters are exactly as before; on
// success the optimizer saves back exactly the bytes it loaded).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowprec/optim/adam.hpp"
#include "support/expect.hpp"
#include "support/catch.hpp"

namespace lo = lowprec::optim;
using lowprec_test::require_throws;

namespace {

std::vector<float> ramp(std::size_t n, float scale, float phase) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = scale * std::sin(0.37f * static_cast<float>(i) + phase);
  return v;
}

// A model with every kind of binding: fp32 tensors above and below the quantization
// threshold, bf16 parameters with masters (group 1, AMSGrad), fp16 parameters with fp16
// gradients and stochastic rounding (group 2).
struct model {
  std::vector<float> w = ramp(4100, 1.0f, 0.0f), b = ramp(33, 0.5f, 1.0f), gw, gb;
  std::vector<lowprec::bf16> h = std::vector<lowprec::bf16>(300, lowprec::bf16(0.75f));
  std::vector<float> gh;
  std::vector<lowprec::fp16> s = std::vector<lowprec::fp16>(130, lowprec::fp16(-0.25f));
  std::vector<lowprec::fp16> gs = std::vector<lowprec::fp16>(130);

  template <class Opt>
  void bind(Opt& opt) {
    gw.assign(w.size(), 0.0f);
    gb.assign(b.size(), 0.0f);
    gh.assign(h.size(), 0.0f);
    opt.add(w, gw);
    opt.add(b.data(), gb.data(), {3, 11});
    lo::adam_options o = Opt::default_options();
    o.master_weights = true;
    o.amsgrad = true;
    o.lr = 3e-3;
    const std::size_t g1 = opt.add_group(o);
    opt.add(h, gh, g1);
    lo::adam_options r = Opt::default_options();
    r.param_rounding = lowprec::rounding::stochastic;
    r.maximize = true;
    const std::size_t g2 = opt.add_group(r);
    opt.add(s, gs, g2);
  }
  // Written in place: the optimizer holds pointers to these buffers.
  void gradients(int k) {
    const auto fill = [](std::vector<float>& dst, const std::vector<float>& src) {
      std::copy(src.begin(), src.end(), dst.begin());
    };
    fill(gw, ramp(w.size(), 0.1f, static_cast<float>(k)));
    fill(gb, ramp(b.size(), 1.0f, 0.5f * static_cast<float>(k)));
    fill(gh, ramp(h.size(), 0.01f, 2.0f * static_cast<float>(k)));
    const std::vector<float> g = ramp(gs.size(), 0.3f, static_cast<float>(k) + 0.1f);
    for (std::size_t i = 0; i < gs.size(); ++i) gs[i] = lowprec::fp16(g[i]);
  }
  std::vector<std::uint8_t> bytes() const {
    std::vector<std::uint8_t> r;
    const auto put = [&](const void* p, std::size_t n) {
      const auto* c = static_cast<const std::uint8_t*>(p);
      r.insert(r.end(), c, c + n);
    };
    put(w.data(), w.size() * 4);
    put(b.data(), b.size() * 4);
    put(h.data(), h.size() * 2);
    put(s.data(), s.size() * 2);
    return r;
  }
};

template <class State>
void check_round_trip() {
  lo::storage_options so;
  so.seed = 99;
  so.state_rounding = lowprec::rounding::stochastic;
  model a;
  lo::adamw<State> opt_a(lo::adamw_defaults(), so);
  a.bind(opt_a);
  for (int k = 0; k < 7; ++k) {
    a.gradients(k);
    opt_a.step();
  }
  const std::vector<std::uint8_t> saved = opt_a.save();
  std::stringstream stream;
  opt_a.save(stream);
  CHECK(stream.str() == std::string(saved.begin(), saved.end()));

  // A fresh optimizer over a copy of the model (16-bit working copies come back from the
  // masters), loaded from the stream, then both continue.
  model b = a;
  b.h.assign(b.h.size(), lowprec::bf16(0.0f));
  lo::adamw<State> opt_b;
  b.bind(opt_b);
  opt_b.load(stream);
  CHECK(opt_b.save() == saved);
  CHECK(b.bytes() == a.bytes());
  CHECK(opt_b.storage().seed == 99);
  CHECK(opt_b.options(1).amsgrad);
  CHECK(opt_b.state(0, 0).step == 7);
  for (int k = 7; k < 12; ++k) {
    a.gradients(k);
    b.gradients(k);
    opt_a.step();
    opt_b.step();
  }
  CHECK(b.bytes() == a.bytes());
  CHECK(opt_b.save() == opt_a.save());
}

}  // namespace

TEST_CASE("a checkpoint round trip is bit-exact for every state format", "[optim]") {
  SECTION("fp32") { check_round_trip<lo::fp32_state>(); }
  SECTION("bf16") { check_round_trip<lo::bf16_state>(); }
  SECTION("q8") { check_round_trip<lo::q8_state>(); }
  SECTION("q4") { check_round_trip<lo::q4_state>(); }
}

TEST_CASE("a checkpoint for another optimizer or other shapes is rejected, nothing changes",
          "[optim]") {
  model a;
  lo::adamw<lo::q8_state> opt;
  a.bind(opt);
  a.gradients(0);
  opt.step();
  const std::vector<std::uint8_t> mine = opt.save();
  const std::vector<std::uint8_t> before = a.bytes();

  lo::adam<lo::q8_state> other_mode;
  model m2;
  m2.bind(other_mode);
  require_throws<std::invalid_argument>(
      [&] { other_mode.load(mine); },
      {"checkpoint is for adamw with q8 states; this optimizer is adam with q8"});
  lo::adamw<lo::q4_state> other_format;
  model m3;
  m3.bind(other_format);
  require_throws<std::invalid_argument>([&] { other_format.load(mine); },
                                        {"q8 states", "adamw with q4 states"});

  // Same optimizer type, a parameter of another shape.
  std::vector<float> w(4100), gw(4100), b(33), gb(33);
  lo::adamw<lo::q8_state> shaped;
  shaped.add(w, gw);
  shaped.add(b.data(), gb.data(), {11, 3});
  const std::vector<std::uint8_t> fresh = shaped.save();
  require_throws<std::invalid_argument>([&] { shaped.load(mine); },
                                        {"3 parameter groups; this optimizer has 1"});
  shaped.add_group(lo::adamw_defaults());
  shaped.add_group(lo::adamw_defaults());
  require_throws<std::invalid_argument>([&] { shaped.load(mine); },
                                        {"parameter 1 of group 0", "[3, 11]", "[11, 3]"});
  CHECK(shaped.save().size() != mine.size());

  // And the other way round: loading a smaller optimizer's file into ours.
  require_throws<std::invalid_argument>([&] { opt.load(fresh); }, {"groups"});
  CHECK(opt.save() == mine);
  CHECK(a.bytes() == before);
}

TEST_CASE("truncated, corrupted and wrong-version checkpoints throw checkpoint_error", "[optim]") {
  model a;
  lo::adam<lo::bf16_state> opt;
  a.bind(opt);
  a.gradients(1);
  opt.step();
  const std::vector<std::uint8_t> good = opt.save();
  static_assert(std::is_base_of_v<std::runtime_error, lo::checkpoint_error>, "a runtime_error");

  std::vector<std::uint8_t> bad = good;
  bad[0] = 'X';
  require_throws<lo::checkpoint_error>([&] { opt.load(bad); }, {"bad magic"});
  bad = good;
  bad[8] = 2;
  require_throws<lo::checkpoint_error>([&] { opt.load(bad); },
                                       {"unsupported format version 2", "version 1"});
  bad = good;
  bad.resize(good.size() - 10);
  require_throws<lo::checkpoint_error>([&] { opt.load(bad); }, {"payload length field says"});
  require_throws<lo::checkpoint_error>([&] { opt.load(bad.data(), 20); }, {"truncated: 20 bytes"});
  bad = good;
  bad[good.size() / 2] ^= 0x10;
  require_throws<lo::checkpoint_error>([&] { opt.load(bad); }, {"checksum mismatch"});
  std::stringstream half(
      std::string(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)));
  require_throws<lo::checkpoint_error>([&] { opt.load(half); }, {"payload length field says"});
  std::stringstream empty;
  require_throws<lo::checkpoint_error>([&] { opt.load(empty); }, {"truncated: 0 bytes"});
  CHECK(opt.save() == good);
  // CRC-32 check value (IEEE 802.3).
  const char* check = "123456789";
  CHECK(lo::detail::crc32(reinterpret_cast<const std::uint8_t*>(check), 9) == 0xCBF43926u);
}

namespace {

// Rewrites the framing so that a mutated payload passes the length and checksum checks
// and reaches the parser.
std::vector<std::uint8_t> reframe(std::vector<std::uint8_t> bytes) {
  const std::size_t payload = bytes.size() - 28;
  for (int k = 0; k < 8; ++k)
    bytes[16 + static_cast<std::size_t>(k)] =
        static_cast<std::uint8_t>(std::uint64_t{payload} >> (8 * k));
  const std::uint32_t crc = lo::detail::crc32(bytes.data(), bytes.size() - 4);
  for (int k = 0; k < 4; ++k)
    bytes[bytes.size() - 4 + static_cast<std::size_t>(k)] =
        static_cast<std::uint8_t>(crc >> (8 * k));
  return bytes;
}

}  // namespace

TEST_CASE("fuzzed checkpoints never crash and never half-load", "[optim]") {
  model a;
  lo::adamw<lo::q4_state> opt;
  a.bind(opt);
  for (int k = 0; k < 3; ++k) {
    a.gradients(k);
    opt.step();
  }
  const std::vector<std::uint8_t> good = opt.save();
  const std::vector<std::uint8_t> params = a.bytes();
  std::size_t rejected = 0, accepted = 0;
  // Returns after checking the all-or-nothing contract for one candidate file.
  const auto attempt = [&](const std::vector<std::uint8_t>& file) {
    try {
      opt.load(file);
    } catch (const lo::checkpoint_error&) {
      ++rejected;
      REQUIRE(opt.save() == good);
      REQUIRE(a.bytes() == params);
      return;
    } catch (const std::invalid_argument&) {
      ++rejected;
      REQUIRE(opt.save() == good);
      REQUIRE(a.bytes() == params);
      return;
    }
    ++accepted;
    REQUIRE(opt.save() == file);  // everything the file says, nothing else
    opt.load(good);
    REQUIRE(opt.save() == good);
  };
  // Every truncation, as is and re-framed (so the parser runs out of bytes).
  for (std::size_t len = 0; len < good.size(); ++len) {
    std::vector<std::uint8_t> t(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    attempt(t);
    if (len >= 28 && len % 7 == 0) {
      t.resize(len + 4);
      attempt(reframe(t));
    }
  }
  // Random byte flips: caught by the checksum, and re-framed to reach the parser.
  std::mt19937 gen(2024);
  std::uniform_int_distribution<std::size_t> where(0, good.size() - 1), header(24, 120);
  std::uniform_int_distribution<int> flip(1, 255), count(1, 4);
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::uint8_t> f = good;
    const int flips = count(gen);
    for (int k = 0; k < flips; ++k) {
      // Half the flips land in the first bytes of the payload, where the structure is.
      const std::size_t at = trial % 2 == 0 ? header(gen) : where(gen);
      f[at] = static_cast<std::uint8_t>(f[at] ^ flip(gen));
    }
    attempt(f);
    if (f.size() == good.size()) attempt(reframe(f));
  }
  UNSCOPED_INFO("fuzz: " << rejected << " rejected, " << accepted << " accepted");
  CHECK(rejected > 10000);
  CHECK(accepted > 0);  // flips inside moment data are valid checkpoints
  CHECK(opt.save() == good);
}
