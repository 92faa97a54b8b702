// Training-memory arithmetic: how many bytes a model takes to hold and to train, for any
// choice of precisions and optimizer state, per device under ZeRO stages 0-3.
//
// Per parameter (bytes; "the seeds' table", REFERENCE.md section 5):
//   component        fp32 baseline   what lowprec changes
//   weights          4               2 (fp16/bf16), 1 (fp8/int8), 0.5 + scales (int4/nf4)
//   gradients        4               2 at 16 bits
//   optimizer state  8 (Adam m, v)   4 (bf16 states), 2 + scales (8-bit), 1 + scales (4-bit)
//   master weights   0               4 when weights are 16-bit and fp32 masters are kept
//   activations      ~8              an estimate, scaled by the caller if known
//   total            24              -> 1B parameters: 4 GB to hold, ~24 GB to train
//
// ZeRO (Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion
// Parameter Models", 2019) shards across N data-parallel devices: stage 1 the optimizer
// states (Adam's moments and the fp32 master weights, the paper's K = 12 bytes), stage 2
// also the gradients, stage 3 also the weights. Activations are never sharded here.
// Sizes are in bytes; GB means 10^9 bytes, as in the paper and the seeds' figures.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "lowprec/detail/format.hpp"

namespace lowprec::memory {

// Storage of a tensor of weights or gradients.
enum class precision { fp32, fp16, bf16, fp8, int8, int4, nf4 };

// The optimizer and how it stores its state.
enum class optimizer {
  sgd,            // no state
  sgd_momentum,   // one fp32 buffer
  adam,           // fp32 m and v (PyTorch)
  adam_bf16,      // bf16 m and v
  adam8bit,       // 8-bit blockwise m and v, fp32 absmax per 256 (bitsandbytes)
  adam4bit,       // 4-bit blockwise m and v, fp32 absmax per 128 (torchao)
};

// Bytes per element including block scales: int4/nf4 carry one fp32 absmax per block of
// `block` elements (64 by default, as bitsandbytes' NF4 without double quantization).
inline double bytes_per_element(precision p, std::size_t block = 64) {
  if (block == 0) throw std::invalid_argument("lowprec::memory: block must be > 0, got 0");
  switch (p) {
    case precision::fp32: return 4.0;
    case precision::fp16:
    case precision::bf16: return 2.0;
    case precision::fp8:
    case precision::int8: return 1.0;
    case precision::int4:
    case precision::nf4: return 0.5 + 4.0 / static_cast<double>(block);
  }
  return 4.0;
}

// Optimizer-state bytes per parameter.
inline double state_bytes_per_parameter(optimizer o) {
  switch (o) {
    case optimizer::sgd: return 0.0;
    case optimizer::sgd_momentum: return 4.0;
    case optimizer::adam: return 8.0;
    case optimizer::adam_bf16: return 4.0;
    case optimizer::adam8bit: return 2.0 + 2.0 * 4.0 / 256.0;
    case optimizer::adam4bit: return 1.0 + 2.0 * 4.0 / 128.0;
  }
  return 8.0;
}

struct training_config {
  double parameters = 1e9;
  precision weights = precision::fp32;
  precision gradients = precision::fp32;
  optimizer optim = optimizer::adam;
  bool master_weights = false;               // keep fp32 master weights beside 16-bit ones
  double activation_bytes_per_parameter = 8;  // the seeds' estimate; depends on batch/model
  int zero_stage = 0;                         // 0 (plain data parallel) .. 3
  int devices = 1;
};

// Bytes per device, by component.
struct footprint {
  double weights = 0, gradients = 0, optimizer_states = 0, master_weights = 0,
         activations = 0;
  double total() const noexcept {
    return weights + gradients + optimizer_states + master_weights + activations;
  }
};

inline void validate(const training_config& c) {
  if (!(c.parameters >= 0) || c.parameters > 1e16) {
    throw std::invalid_argument("lowprec::memory: parameters must be in [0, 1e16], got " +
                                ::lowprec::detail::shortest_decimal(c.parameters));
  }
  if (c.zero_stage < 0 || c.zero_stage > 3) {
    throw std::invalid_argument("lowprec::memory: zero_stage must be 0, 1, 2 or 3, got " +
                                std::to_string(c.zero_stage));
  }
  if (c.devices < 1) {
    throw std::invalid_argument("lowprec::memory: devices must be >= 1, got " +
                                std::to_string(c.devices));
  }
  if (!(c.activation_bytes_per_parameter >= 0)) {
    throw std::invalid_argument(
        "lowprec::memory: activation_bytes_per_parameter must be >= 0, got " +
        ::lowprec::detail::shortest_decimal(c.activation_bytes_per_parameter));
  }
}

// The training footprint on one device.
inline footprint estimate(const training_config& c) {
  validate(c);
  const double n = c.parameters;
  const double shard = static_cast<double>(c.devices);
  footprint f;
  f.weights = n * bytes_per_element(c.weights);
  f.gradients = n * bytes_per_element(c.gradients);
  f.optimizer_states = n * state_bytes_per_parameter(c.optim);
  f.master_weights = c.master_weights ? n * 4.0 : 0.0;
  f.activations = n * c.activation_bytes_per_parameter;
  if (c.zero_stage >= 1) {
    f.optimizer_states /= shard;
    f.master_weights /= shard;
  }
  if (c.zero_stage >= 2) f.gradients /= shard;
  if (c.zero_stage >= 3) f.weights /= shard;
  return f;
}

// Bytes to hold `parameters` weights in a precision (inference).
inline double bytes_to_hold(double parameters, precision p) {
  if (!(parameters >= 0)) {
    throw std::invalid_argument("lowprec::memory: parameters must be >= 0, got " +
                                ::lowprec::detail::shortest_decimal(parameters));
  }
  return parameters * bytes_per_element(p);
}

// Names as the command line spells them ("bf16", "adam8bit"), and back.
inline const char* to_string(precision p) noexcept {
  switch (p) {
    case precision::fp32: return "fp32";
    case precision::fp16: return "fp16";
    case precision::bf16: return "bf16";
    case precision::fp8: return "fp8";
    case precision::int8: return "int8";
    case precision::int4: return "int4";
    case precision::nf4: return "nf4";
  }
  return "fp32";
}
inline const char* to_string(optimizer o) noexcept {
  switch (o) {
    case optimizer::sgd: return "sgd";
    case optimizer::sgd_momentum: return "sgd_momentum";
    case optimizer::adam: return "adam";
    case optimizer::adam_bf16: return "adam_bf16";
    case optimizer::adam8bit: return "adam8bit";
    case optimizer::adam4bit: return "adam4bit";
  }
  return "adam";
}
inline precision parse_precision(const std::string& s) {
  for (const precision p : {precision::fp32, precision::fp16, precision::bf16, precision::fp8,
                            precision::int8, precision::int4, precision::nf4}) {
    if (s == to_string(p)) return p;
  }
  throw std::invalid_argument("lowprec::memory: unknown precision '" + s +
                              "' (expected fp32, fp16, bf16, fp8, int8, int4 or nf4)");
}
inline optimizer parse_optimizer(const std::string& s) {
  for (const optimizer o : {optimizer::sgd, optimizer::sgd_momentum, optimizer::adam,
                            optimizer::adam_bf16, optimizer::adam8bit, optimizer::adam4bit}) {
    if (s == to_string(o)) return o;
  }
  throw std::invalid_argument("lowprec::memory: unknown optimizer '" + s +
                              "' (expected sgd, sgd_momentum, adam, adam_bf16, adam8bit or "
                              "adam4bit)");
}

}  // namespace lowprec::memory
