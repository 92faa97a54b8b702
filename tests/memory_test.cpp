// Training-memory arithmetic against the seeds' table and the ZeRO paper's own example.
#include "lowprec/memory.hpp"

#include <string>

#include "support/catch.hpp"

namespace m = lowprec::memory;

TEST_CASE("1B parameters: 4 GB to hold at fp32, about 24 GB to train with Adam", "[optim]") {
  CHECK(m::bytes_to_hold(1e9, m::precision::fp32) == 4e9);
  CHECK(m::bytes_to_hold(1e9, m::precision::bf16) == 2e9);
  CHECK(m::bytes_to_hold(1e9, m::precision::fp16) == 2e9);
  CHECK(m::bytes_to_hold(1e9, m::precision::int8) == 1e9);
  CHECK(m::bytes_to_hold(1e9, m::precision::fp8) == 1e9);
  // 4-bit with one fp32 absmax per 64 weights: 4.5 bits per parameter.
  CHECK(m::bytes_to_hold(1e9, m::precision::nf4) == 0.5625e9);

  const m::footprint f = m::estimate(m::training_config{});  // fp32 everything, Adam
  CHECK(f.weights == 4e9);
  CHECK(f.gradients == 4e9);
  CHECK(f.optimizer_states == 8e9);
  CHECK(f.master_weights == 0);
  CHECK(f.activations == 8e9);
  CHECK(f.total() == 24e9);
  CHECK(f.total() / m::bytes_to_hold(1e9, m::precision::fp32) == 6.0);
}

TEST_CASE("ZeRO reproduces the paper's 7.5B-parameter, 64-device example", "[optim]") {
  // Rajbhandari et al. 2019, Figure 1: mixed precision Adam, K = 12 (fp32 masters, m, v).
  m::training_config c;
  c.parameters = 7.5e9;
  c.weights = m::precision::fp16;
  c.gradients = m::precision::fp16;
  c.optim = m::optimizer::adam;
  c.master_weights = true;
  c.activation_bytes_per_parameter = 0;
  c.devices = 64;
  const double want[] = {120e9, 31.40625e9, 16.640625e9, 1.875e9};  // 120, 31.4, 16.6, 1.9 GB
  for (int stage = 0; stage <= 3; ++stage) {
    c.zero_stage = stage;
    INFO("stage " << stage);
    CHECK(m::estimate(c).total() == Approx(want[stage]).epsilon(1e-12));
  }
}

TEST_CASE("compact optimizer states and a hand-computed ZeRO-2 case", "[optim]") {
  CHECK(m::state_bytes_per_parameter(m::optimizer::adam_bf16) == 4.0);
  CHECK(m::state_bytes_per_parameter(m::optimizer::adam8bit) == 2.03125);
  CHECK(m::state_bytes_per_parameter(m::optimizer::adam4bit) == 1.0625);
  // 7B, bf16 weights and grads, 8-bit Adam, fp32 masters, ZeRO-2 over 8 devices.
  m::training_config c;
  c.parameters = 7e9;
  c.weights = m::parse_precision("bf16");
  c.gradients = m::parse_precision("bf16");
  c.optim = m::parse_optimizer("adam8bit");
  c.master_weights = true;
  c.zero_stage = 2;
  c.devices = 8;
  const m::footprint f = m::estimate(c);
  CHECK(f.weights == 14e9);                  // not sharded below stage 3
  CHECK(f.gradients == 1.75e9);              // 14 GB / 8
  CHECK(f.optimizer_states == Approx(7e9 * 2.03125 / 8));
  CHECK(f.master_weights == 3.5e9);          // 28 GB / 8
  CHECK(f.activations == 56e9);
}

TEST_CASE("bad configurations name the argument and value", "[optim]") {
  m::training_config c;
  c.zero_stage = 4;
  CHECK_THROWS_WITH(m::estimate(c), "lowprec::memory: zero_stage must be 0, 1, 2 or 3, got 4");
  c.zero_stage = 1;
  c.devices = 0;
  CHECK_THROWS_WITH(m::estimate(c), "lowprec::memory: devices must be >= 1, got 0");
  c.devices = 1;
  c.parameters = -1;
  CHECK_THROWS_AS(m::estimate(c), std::invalid_argument);
  CHECK_THROWS_WITH(m::parse_precision("fp12"),
                    "lowprec::memory: unknown precision 'fp12' (expected fp32, fp16, bf16, fp8, "
                    "int8, int4 or nf4)");
  CHECK_THROWS_AS(m::parse_optimizer("adamw9"), std::invalid_argument);
  CHECK(std::string(m::to_string(m::parse_optimizer("adam4bit"))) == "adam4bit");
}
