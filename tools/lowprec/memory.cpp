// `lowprec memory`: the training-memory table of lowprec/memory.hpp, per component and
// per device, beside the seeds' fp32 baseline (fp32 weights and gradients, fp32 Adam,
// one device: 24 bytes per parameter with the activation estimate).
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "lowprec/memory.hpp"

namespace lowprec_cli {
namespace {

namespace m = lowprec::memory;

struct memory_options {
  std::string params = "1e9", weights = "fp32", grads, optimizer = "adam", master = "none";
  std::string zero = "0", devices = "1", activations = "8";
};

m::training_config make_config(const memory_options& o) {
  m::training_config c;
  c.parameters = parse_count(o.params, "--params");
  if (c.parameters > 1e16) throw tool_error("--params: '" + o.params + "' is above 1e16");
  const auto precision = [](const std::string& s, const char* opt) {
    try {
      return m::parse_precision(s);
    } catch (const std::invalid_argument&) {
      throw tool_error(std::string(opt) + ": unknown precision '" + s +
                       "' (expected fp32, fp16, bf16, fp8, int8, int4 or nf4)");
    }
  };
  c.weights = precision(o.weights, "--weights");
  c.gradients = o.grads.empty() ? c.weights : precision(o.grads, "--grads");
  try {
    c.optim = m::parse_optimizer(o.optimizer);
  } catch (const std::invalid_argument&) {
    throw tool_error("--optimizer: unknown optimizer '" + o.optimizer +
                     "' (expected sgd, sgd_momentum, adam, adam_bf16, adam8bit or adam4bit)");
  }
  if (o.master == "fp32") {
    c.master_weights = true;
  } else if (o.master != "none") {
    throw tool_error("--master: '" + o.master + "' is not fp32 or none");
  }
  c.zero_stage = static_cast<int>(parse_integer(o.zero, "--zero", 0, 3));
  c.devices = static_cast<int>(parse_integer(o.devices, "--devices", 1, 1000000));
  c.activation_bytes_per_parameter = parse_count(o.activations, "--activations");
  return c;
}

void run_memory(const memory_options& o) {
  const m::training_config c = make_config(o);
  const m::footprint f = m::estimate(c);
  m::training_config base;  // the seeds' baseline, same model and activation estimate
  base.parameters = c.parameters;
  base.activation_bytes_per_parameter = c.activation_bytes_per_parameter;
  const m::footprint b = m::estimate(base);

  std::printf("%.4g parameters; weights %s, gradients %s, optimizer %s, master weights %s; "
              "ZeRO stage %d over %d device%s\n",
              c.parameters, m::to_string(c.weights), m::to_string(c.gradients),
              m::to_string(c.optim), c.master_weights ? "fp32" : "none", c.zero_stage, c.devices,
              c.devices == 1 ? "" : "s");
  std::printf("bytes: GB = 10^9; activations are an estimate (--activations, bytes per "
              "parameter)\n\n");
  const std::string all = c.devices == 1 ? "1 device" : "all " + std::to_string(c.devices) + " devices";
  std::printf("  %-18s %12s %14s %16s   %s\n", "component", "bytes/param", "per device",
              all.c_str(), "fp32 baseline, 1 device");
  const double n = c.parameters > 0 ? c.parameters : 1.0;
  const auto line = [&](const char* name, double v, double base_v) {
    std::printf("  %-18s %12.3f %14s %16s   %s\n", name, v / n, human_bytes(v).c_str(),
                human_bytes(v * c.devices).c_str(), human_bytes(base_v).c_str());
  };
  line("weights", f.weights, b.weights);
  line("gradients", f.gradients, b.gradients);
  line("optimizer states", f.optimizer_states, b.optimizer_states);
  line("master weights", f.master_weights, b.master_weights);
  line("activations (est.)", f.activations, b.activations);
  line("total", f.total(), b.total());
  std::printf("\nto hold the weights (inference, one device): %s in %s; %s in fp32\n",
              human_bytes(m::bytes_to_hold(c.parameters, c.weights)).c_str(),
              m::to_string(c.weights),
              human_bytes(m::bytes_to_hold(c.parameters, m::precision::fp32)).c_str());
  if (b.total() > 0) {
    std::printf("training takes %.2fx the fp32 baseline per device\n", f.total() / b.total());
  }
}

}  // namespace

void add_memory_command(CLI::App& app) {
  auto o = std::make_shared<memory_options>();
  CLI::App* cmd = app.add_subcommand(
      "memory", "Training memory per component and per device (ZeRO 0-3), beside fp32");
  cmd->add_option("--params", o->params, "Parameters: 7e9, 7B, 350M (default 1e9)");
  cmd->add_option("--weights", o->weights, "fp32 (default), fp16, bf16, fp8, int8, int4, nf4");
  cmd->add_option("--grads", o->grads, "Gradient precision (default: as --weights)");
  cmd->add_option("--optimizer", o->optimizer,
                  "sgd, sgd_momentum, adam (default, fp32 states), adam_bf16, adam8bit, adam4bit");
  cmd->add_option("--master", o->master, "fp32 master weights beside low-precision ones, or none");
  cmd->add_option("--zero", o->zero, "ZeRO stage 0 (default), 1, 2 or 3");
  cmd->add_option("--devices", o->devices, "Data-parallel devices (default 1)");
  cmd->add_option("--activations", o->activations,
                  "Activation bytes per parameter, an estimate (default 8)");
  cmd->callback([o]() { run_memory(*o); });
}

}  // namespace lowprec_cli
