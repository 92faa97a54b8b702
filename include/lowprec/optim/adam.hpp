// Adam and AdamW with PyTorch semantics over fp32, bf16, 8-bit or 4-bit moments.
//
//   lowprec::optim::adam<State>    torch.optim.Adam  (L2 decay added to the gradient)
//   lowprec::optim::adamw<State>   torch.optim.AdamW (decoupled decay, before the moments)
//   State: fp32_state (reference), bf16_state, q8_state, q4_state (optim/state.hpp)
//
// Semantics (optim/update.hpp has the per-element definition): eps after bias
// correction, AMSGrad over the uncorrected second moment, `maximize` negates the
// gradient first; every parameter tensor has its own step count (PyTorch's
// state["step"]), so a group added later starts from step 1. Arithmetic is float
// whatever the storage. Parameters are fp32, bf16 or fp16 and are updated in place:
//   fp32                      updated directly
//   16-bit, master_weights    an fp32 master copy lives in the optimizer; after each step
//                             the 16-bit working copy is the master rounded to nearest
//   16-bit, no masters        widened, updated, rounded back with param_rounding
//                             (nearest_even, or stochastic: reproducible, keyed by
//                             (seed, tensor, step, element))
// Gradients are fp32, bf16 or fp16 buffers bound once with add() and read at each step.
//
// Non-finite gradients. step(loss_scaler&) unscales on the fly; if any unscaled gradient
// is inf or NaN it changes nothing, backs the scale off and returns false (GradScaler).
// Plain step() checks first too and, by default, throws nonfinite_gradient without
// updating anything; storage_options::on_nonfinite = propagate skips the check and lets
// inf/NaN flow into parameters and moments as PyTorch does.
//
// Errors. Bad hyper-parameters, shapes or indices throw std::invalid_argument naming the
// argument and value; the optimizer is unchanged. Checkpoints: see save() and load().
// The optimizer holds pointers to the bound parameters and gradients: keep them alive
// and do not resize them. Not thread-safe; step() runs on the calling thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lowprec/bf16.hpp"
#include "lowprec/convert.hpp"
#include "lowprec/detail/format.hpp"
#include "lowprec/detail/simd.hpp"  // all of lowprec's kernels, simd/optim-inl.hpp's included
#include "lowprec/fp16.hpp"
#include "lowprec/optim/checkpoint.hpp"
#include "lowprec/optim/loss_scaler.hpp"
#include "lowprec/optim/state.hpp"
#include "lowprec/optim/update.hpp"
#include "lowprec/policy.hpp"

namespace lowprec::optim {

enum class weight_decay_mode : std::uint8_t { l2 = 0, decoupled = 1 };  // Adam, AdamW

// Hyper-parameters of one parameter group (PyTorch's defaults).
struct adam_options {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // adamw_defaults(): 1e-2
  bool amsgrad = false;
  bool maximize = false;
  bool master_weights = false;                       // 16-bit parameters: keep fp32 masters
  rounding param_rounding = rounding::nearest_even;  // 16-bit parameters without masters
};

inline adam_options adamw_defaults() {
  adam_options o;
  o.weight_decay = 1e-2;
  return o;
}

enum class nonfinite_gradients : std::uint8_t {
  raise = 0,      // step() throws nonfinite_gradient and updates nothing
  propagate = 1,  // no check: inf/NaN reach parameters and moments (PyTorch)
};

// Optimizer-wide storage choices (the state format itself is the template argument).
struct storage_options {
  rounding state_rounding = rounding::nearest_even;  // bf16 states: or stochastic
  std::size_t min_quantized_size = 4096;             // q8/q4: smaller tensors keep fp32 moments
  std::uint64_t seed = 0;                            // stochastic rounding streams
  nonfinite_gradients on_nonfinite = nonfinite_gradients::raise;
};

// step() found an inf or NaN gradient (on_nonfinite = raise): nothing was updated.
class nonfinite_gradient : public std::runtime_error {
 public:
  nonfinite_gradient(const std::string& what, std::size_t group, std::size_t index)
      : std::runtime_error(what), group_(group), index_(index) {}
  std::size_t group() const noexcept { return group_; }
  std::size_t index() const noexcept { return index_; }

 private:
  std::size_t group_, index_;
};

namespace detail {

LOWPREC_SIMD_EXPORT(OptimAdamRun);
LOWPREC_SIMD_EXPORT(OptimMaxMagnitude);

// Why options are invalid, or "" (messages name the argument and the value).
inline std::string invalid_reason(const adam_options& o) {
  const auto num = [](double x) { return ::lowprec::detail::shortest_decimal(x); };
  if (!(o.lr >= 0.0) || !std::isfinite(o.lr)) return "lr must be finite and >= 0, got " + num(o.lr);
  if (!(o.beta1 >= 0.0 && o.beta1 < 1.0)) return "beta1 must be in [0, 1), got " + num(o.beta1);
  if (!(o.beta2 >= 0.0 && o.beta2 < 1.0)) return "beta2 must be in [0, 1), got " + num(o.beta2);
  if (!(o.eps > 0.0) || !std::isfinite(o.eps))
    return "eps must be finite and > 0, got " + num(o.eps);
  if (!(o.weight_decay >= 0.0) || !std::isfinite(o.weight_decay)) {
    return "weight_decay must be finite and >= 0, got " + num(o.weight_decay);
  }
  if (o.param_rounding != rounding::nearest_even && o.param_rounding != rounding::stochastic) {
    return std::string("param_rounding must be nearest_even or stochastic, got ") +
           to_string(o.param_rounding);
  }
  return "";
}

inline std::string invalid_reason(const storage_options& s) {
  if (s.state_rounding != rounding::nearest_even && s.state_rounding != rounding::stochastic) {
    return std::string("state_rounding must be nearest_even or stochastic, got ") +
           to_string(s.state_rounding);
  }
  if (s.on_nonfinite != nonfinite_gradients::raise &&
      s.on_nonfinite != nonfinite_gradients::propagate) {
    return "on_nonfinite must be raise or propagate, got " +
           std::to_string(static_cast<int>(s.on_nonfinite));
  }
  return "";
}

// The stream of random bits of one buffer of one tensor at one step.
inline std::uint64_t mix64(std::uint64_t z) noexcept {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
inline std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t tensor, std::uint64_t step,
                                 std::uint64_t buffer) noexcept {
  std::uint64_t s = mix64(seed + 0x9E3779B97F4A7C15ull);
  s = mix64(s ^ tensor);
  s = mix64(s ^ step);
  return mix64(s ^ buffer);
}
enum : std::uint64_t { stream_param = 0, stream_m = 1, stream_v = 2, stream_vmax = 3 };

}  // namespace detail

template <class State, weight_decay_mode Mode>
class basic_adam {
  static_assert(
      std::is_same_v<State, fp32_state> || std::is_same_v<State, bf16_state> ||
          std::is_same_v<State, q8_state> || std::is_same_v<State, q4_state>,
      "lowprec::optim: the state type must be fp32_state, bf16_state, q8_state or q4_state");

 public:
  using state_type = State;
  static constexpr state_format format = State::format;
  static constexpr weight_decay_mode decay_mode = Mode;
  static constexpr const char* name = Mode == weight_decay_mode::l2 ? "adam" : "adamw";

  static adam_options default_options() {
    return Mode == weight_decay_mode::decoupled ? adamw_defaults() : adam_options{};
  }

  // Group 0 gets `defaults`; add_group() adds more.
  explicit basic_adam(const adam_options& defaults = default_options(),
                      const storage_options& storage = {})
      : storage_(storage), scratch_p_(kChunk), scratch_g_(kChunk) {
    check(defaults, "options");
    const std::string bad = detail::invalid_reason(storage);
    if (!bad.empty()) throw std::invalid_argument(prefix("storage") + bad);
    groups_.push_back(group{defaults, {}});
  }

  // ---- groups and hyper-parameters -------------------------------------------------------
  std::size_t add_group(const adam_options& o) {
    check(o, "add_group");
    groups_.push_back(group{o, {}});
    return groups_.size() - 1;
  }
  std::size_t group_count() const noexcept { return groups_.size(); }
  const adam_options& options(std::size_t g = 0) const {
    return groups_.at(check_group(g, "options")).options;
  }

  // Replaces a group's hyper-parameters (a learning-rate schedule, or turning AMSGrad
  // on: its vmax starts at 0). master_weights cannot change once the group has params.
  void set_options(std::size_t g, const adam_options& o) {
    check_group(g, "set_options");
    check(o, "set_options");
    group& gr = groups_[g];
    if (o.master_weights != gr.options.master_weights && !gr.params.empty()) {
      throw std::invalid_argument(prefix("set_options") + "master_weights cannot change from " +
                                  (gr.options.master_weights ? "true" : "false") + " to " +
                                  (o.master_weights ? "true" : "false") + " in group " +
                                  std::to_string(g) + ", which has parameters");
    }
    std::vector<moment_buffer> vmax(gr.params.size());  // allocate first, then commit
    if (o.amsgrad && !gr.options.amsgrad) {
      for (std::size_t i = 0; i < gr.params.size(); ++i) {
        vmax[i] = moment_buffer(gr.params[i].format, moment::vmax, gr.params[i].size());
      }
    }
    if (o.amsgrad != gr.options.amsgrad) {
      for (std::size_t i = 0; i < gr.params.size(); ++i) std::swap(gr.params[i].vmax, vmax[i]);
    }
    gr.options = o;
  }
  void set_lr(double lr) {
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      adam_options o = groups_[g].options;
      o.lr = lr;
      check(o, "set_lr");
    }
    for (group& gr : groups_) gr.options.lr = lr;
  }
  void set_lr(std::size_t g, double lr) {
    check_group(g, "set_lr");
    adam_options o = groups_[g].options;
    o.lr = lr;
    check(o, "set_lr");
    groups_[g].options.lr = lr;
  }
  const storage_options& storage() const noexcept { return storage_; }

  // ---- parameters ------------------------------------------------------------------------
  // Binds a parameter tensor and its gradient (same shape and storage order) to group g.
  void add(const tensor_ref& param, const tensor_ref& grad, std::size_t g = 0) {
    check_group(g, "add");
    if (param.shape != grad.shape) {
      throw std::invalid_argument(prefix("add") + "gradient shape " + shape_string(grad.shape) +
                                  " differs from parameter shape " + shape_string(param.shape));
    }
    if (normalized(param.shape, param.order) != normalized(grad.shape, grad.order)) {
      throw std::invalid_argument(prefix("add") + "gradient and parameter of shape " +
                                  shape_string(param.shape) +
                                  " are stored in different orders (row- vs column-major)");
    }
    const std::size_t n = param.size();
    if (n > 0 && (param.data == nullptr || grad.data == nullptr)) {
      throw std::invalid_argument(prefix("add") + "null data for a tensor of shape " +
                                  shape_string(param.shape));
    }
    for (std::size_t k = 0; k < groups_.size(); ++k) {
      for (std::size_t i = 0; i < groups_[k].params.size(); ++i) {
        if (n > 0 && groups_[k].params[i].param.data == param.data) {
          throw std::invalid_argument(prefix("add") + "this parameter is already bound (group " +
                                      std::to_string(k) + ", index " + std::to_string(i) + ")");
        }
      }
    }
    const adam_options& o = groups_[g].options;
    param_state ps;
    ps.param = param;
    ps.param.order = normalized(param.shape, param.order);
    ps.grad = grad;
    ps.grad.order = ps.param.order;
    ps.format = effective_format(n, storage_.min_quantized_size);
    ps.m = moment_buffer(ps.format, moment::m, n);
    ps.v = moment_buffer(ps.format, moment::v, n);
    if (o.amsgrad) ps.vmax = moment_buffer(ps.format, moment::vmax, n);
    if (o.master_weights && param.type != dtype::fp32) {
      ps.master.resize(n);
      widen(param, 0, n, ps.master.data());
    }
    groups_[g].params.push_back(std::move(ps));
  }

  // Raw buffers: n = product of shape elements each (P, G: float, bf16 or fp16).
  template <class P, class G>
  void add(P* param, const G* grad, shape_t shape, std::size_t g = 0) {
    add(view(param, shape), view(grad, shape), g);
  }
  // Containers: std::vector, std::array; Eigen matrices, maps, tensors (optim/eigen.hpp).
  template <
      class P, class G,
      std::enable_if_t<!std::is_pointer_v<P> && !std::is_same_v<std::remove_const_t<P>, tensor_ref>,
                       int> = 0>
  void add(P& param, const G& grad, std::size_t g = 0) {
    add(view_traits<std::remove_const_t<P>>::get(param), view_traits<G>::get(grad), g);
  }

  std::size_t param_count(std::size_t g) const {
    return groups_.at(check_group(g, "param_count")).params.size();
  }
  const param_state& state(std::size_t g, std::size_t i) const {
    check_group(g, "state");
    if (i >= groups_[g].params.size()) {
      throw std::invalid_argument(prefix("state") + "index " + std::to_string(i) +
                                  " out of range: group " + std::to_string(g) + " has " +
                                  std::to_string(groups_[g].params.size()) + " parameters");
    }
    return groups_[g].params[i];
  }

  // Bytes held for moments (with block scales) and for master weights.
  std::size_t state_bytes() const noexcept {
    return sum([](const param_state& p) { return p.state_bytes(); });
  }
  std::size_t master_bytes() const noexcept {
    return sum([](const param_state& p) { return p.master_bytes(); });
  }
  std::size_t bytes() const noexcept { return state_bytes() + master_bytes(); }

  // ---- stepping --------------------------------------------------------------------------
  // One update of every bound parameter. Throws nonfinite_gradient (nothing updated) if a
  // gradient holds inf or NaN and storage().on_nonfinite is raise.
  void step() {
    if (storage_.on_nonfinite == nonfinite_gradients::raise) {
      for (std::size_t g = 0; g < groups_.size(); ++g) {
        for (std::size_t i = 0; i < groups_[g].params.size(); ++i) {
          const param_state& ps = groups_[g].params[i];
          const float amax = max_magnitude(ps.grad);
          if (!std::isfinite(amax)) {
            throw nonfinite_gradient(
                prefix("step") + "the gradient of parameter " + std::to_string(i) + " in group " +
                    std::to_string(g) + " (shape " + shape_string(ps.param.shape) + ") holds " +
                    (amax != amax ? "NaN" : "inf") +
                    "; nothing was updated (step(loss_scaler&) skips such steps; "
                    "on_nonfinite = propagate lets them through as PyTorch does)",
                g, i);
          }
        }
      }
    }
    run(1.0f);
  }

  // A mixed-precision step: gradients are divided by scaler.scale(); if any result is
  // inf/NaN the step is skipped (returns false) and the scale backs off, else the step
  // runs (returns true) and the scaler counts a good step.
  bool step(loss_scaler& scaler) {
    const float inv = scaler.inv_scale();
    for (const group& gr : groups_) {
      for (const param_state& ps : gr.params) {
        const float amax = max_magnitude(ps.grad);
        if (!std::isfinite(amax * inv)) {
          scaler.update(true);
          return false;
        }
      }
    }
    run(inv);
    scaler.update(false);
    return true;
  }

  // ---- checkpoints -----------------------------------------------------------------------
  // The whole optimizer state in lowprec's checkpoint container (optim/checkpoint.hpp).
  // Payload, little-endian:
  //   u8 decay mode (0 adam, 1 adamw), u8 state format (update.hpp), u8 state_rounding,
  //   u8 on_nonfinite, u32 block, u64 min_quantized_size, u64 seed, u64 group count;
  //   per group: f64 lr, beta1, beta2, eps, weight_decay; u8 amsgrad, maximize,
  //     master_weights, param_rounding; u64 parameter count;
  //     per parameter: u8 param dtype, u8 grad dtype, u8 layout, u8 moment format,
  //       u32 rank, u64 dims[rank], u64 step, moments m, v, then u8 has-vmax [vmax],
  //       u8 has-master [f32 master[n]];
  //       a moment: u64 n, then f32[n] | u16 bf16 bits[n] | u8 codes[n or ceil(n/2)] and
  //       f32 absmax[ceil(n/block)].
  // Parameters and gradients themselves are not saved (as PyTorch's state_dict).
  std::vector<std::uint8_t> save() const {
    detail::byte_writer w;
    w.u8(static_cast<std::uint8_t>(Mode));
    w.u8(static_cast<std::uint8_t>(format));
    w.u8(static_cast<std::uint8_t>(storage_.state_rounding));
    w.u8(static_cast<std::uint8_t>(storage_.on_nonfinite));
    w.u32(static_cast<std::uint32_t>(State::block));
    w.u64(storage_.min_quantized_size);
    w.u64(storage_.seed);
    w.u64(groups_.size());
    for (const group& gr : groups_) {
      const adam_options& o = gr.options;
      w.f64(o.lr);
      w.f64(o.beta1);
      w.f64(o.beta2);
      w.f64(o.eps);
      w.f64(o.weight_decay);
      w.u8(o.amsgrad);
      w.u8(o.maximize);
      w.u8(o.master_weights);
      w.u8(static_cast<std::uint8_t>(o.param_rounding));
      w.u64(gr.params.size());
      for (const param_state& ps : gr.params) {
        w.u8(static_cast<std::uint8_t>(ps.param.type));
        w.u8(static_cast<std::uint8_t>(ps.grad.type));
        w.u8(static_cast<std::uint8_t>(ps.param.order));
        w.u8(static_cast<std::uint8_t>(ps.format));
        w.u32(static_cast<std::uint32_t>(ps.param.shape.size()));
        for (const std::size_t d : ps.param.shape) w.u64(d);
        w.u64(ps.step);
        write_moment(w, ps.m);
        write_moment(w, ps.v);
        w.u8(o.amsgrad);
        if (o.amsgrad) write_moment(w, ps.vmax);
        w.u8(!ps.master.empty());
        w.array(ps.master);
      }
    }
    return detail::frame_checkpoint(w.out());
  }
  void save(std::ostream& out) const {
    const std::vector<std::uint8_t> bytes = save();
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error(prefix("save") + "writing the checkpoint failed");
  }

  // Restores a saved state into this optimizer, which must have the same type, groups and
  // parameter shapes (bind the parameters first, as in PyTorch). Hyper-parameters,
  // storage options, step counts, moments and master weights come from the file; 16-bit
  // working copies are refreshed from the restored masters. The file is parsed fully
  // into temporaries before anything changes: a truncated, corrupted or unsupported file
  // throws checkpoint_error, a mismatched one std::invalid_argument, and either way the
  // optimizer is exactly as it was.
  void load(const std::uint8_t* data, std::size_t n) {
    const auto range = detail::unframe_checkpoint(data, n);
    detail::byte_reader r(data + range.first, range.second - range.first);
    const auto bad = [](const std::string& what) {
      return checkpoint_error("lowprec::optim checkpoint: " + what);
    };
    const std::uint8_t mode = r.u8("decay mode");
    const std::uint8_t fmt = r.u8("state format");
    if (mode > 1 || fmt > 3)
      throw bad("unknown decay mode " + std::to_string(mode) + " or state format " +
                std::to_string(fmt));
    if (mode != static_cast<std::uint8_t>(Mode) || fmt != static_cast<std::uint8_t>(format)) {
      throw std::invalid_argument(
          prefix("load") + "the checkpoint is for " + (mode == 0 ? "adam" : "adamw") + " with " +
          to_string(static_cast<state_format>(fmt)) + " states; this optimizer is " + name +
          " with " + to_string(format) + " states");
    }
    storage_options so;
    so.state_rounding = static_cast<rounding>(r.u8("state_rounding"));
    so.on_nonfinite = static_cast<nonfinite_gradients>(r.u8("on_nonfinite"));
    const std::uint32_t block = r.u32("block");
    so.min_quantized_size = static_cast<std::size_t>(r.u64("min_quantized_size"));
    so.seed = r.u64("seed");
    if (static_cast<int>(so.state_rounding) > 4 || !detail::invalid_reason(so).empty() ||
        block != State::block) {
      throw bad("invalid storage options (" + detail::invalid_reason(so) + ", block " +
                std::to_string(block) + ")");
    }
    const std::uint64_t group_count = r.u64("group count");
    if (group_count != groups_.size()) {
      throw std::invalid_argument(
          prefix("load") + "the checkpoint has " + std::to_string(group_count) +
          " parameter groups; this optimizer has " + std::to_string(groups_.size()));
    }
    std::vector<group> fresh(groups_.size());
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      adam_options& o = fresh[g].options;
      o.lr = r.f64("lr");
      o.beta1 = r.f64("beta1");
      o.beta2 = r.f64("beta2");
      o.eps = r.f64("eps");
      o.weight_decay = r.f64("weight_decay");
      const std::uint8_t ams = r.u8("amsgrad"), maxi = r.u8("maximize"),
                         mw = r.u8("master_weights"), pr = r.u8("param_rounding");
      if (ams > 1 || maxi > 1 || mw > 1 || pr > 4)
        throw bad("invalid flags in group " + std::to_string(g));
      o.amsgrad = ams != 0;
      o.maximize = maxi != 0;
      o.master_weights = mw != 0;
      o.param_rounding = static_cast<rounding>(pr);
      const std::string why = detail::invalid_reason(o);
      if (!why.empty()) throw bad("group " + std::to_string(g) + ": " + why);
      if (o.master_weights != groups_[g].options.master_weights && !groups_[g].params.empty()) {
        throw std::invalid_argument(
            prefix("load") + "group " + std::to_string(g) + " has master_weights " +
            (groups_[g].options.master_weights ? "on" : "off") + " but the checkpoint's has them " +
            (o.master_weights ? "on" : "off"));
      }
      const std::uint64_t count = r.u64("parameter count");
      const std::vector<param_state>& now = groups_[g].params;
      if (count != now.size()) {
        throw std::invalid_argument(prefix("load") + "group " + std::to_string(g) +
                                    " of the checkpoint has " + std::to_string(count) +
                                    " parameters; this optimizer's has " +
                                    std::to_string(now.size()));
      }
      fresh[g].params.reserve(now.size());
      for (std::size_t i = 0; i < now.size(); ++i) {
        fresh[g].params.push_back(read_param(r, now[i], o, so, g, i));
      }
    }
    if (r.remaining() != 0)
      throw bad(std::to_string(r.remaining()) + " unexpected bytes after the last group");
    // Commit: nothing below throws.
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      std::swap(groups_[g].options, fresh[g].options);
      std::swap(groups_[g].params, fresh[g].params);
    }
    storage_ = so;
    for (group& gr : groups_) {
      for (param_state& ps : gr.params) {
        if (!ps.master.empty())
          narrow(ps.master.data(), ps.param, 0, ps.size(), rounding::nearest_even, 0);
      }
    }
  }
  void load(const std::vector<std::uint8_t>& bytes) { load(bytes.data(), bytes.size()); }
  void load(std::istream& in) {
    const std::vector<std::uint8_t> bytes = detail::read_checkpoint_bytes(in);
    load(bytes.data(), bytes.size());
  }

 private:
  struct group {
    adam_options options;
    std::vector<param_state> params;
  };

  // Elements per kernel call: staged runs fit L1 with their scratch; direct fp32 runs
  // are long. Both are multiples of every block size and divide 2^32.
  static constexpr std::size_t kChunk = 2048;
  static constexpr std::size_t kDirectChunk = std::size_t{1} << 20;

  static std::string prefix(const char* fn) {
    return std::string("lowprec::optim::") + name + "::" + fn + ": ";
  }

  static void check(const adam_options& o, const char* fn) {
    const std::string why = detail::invalid_reason(o);
    if (!why.empty()) throw std::invalid_argument(prefix(fn) + why);
  }
  std::size_t check_group(std::size_t g, const char* fn) const {
    if (g >= groups_.size()) {
      throw std::invalid_argument(prefix(fn) + "group " + std::to_string(g) + " does not exist (" +
                                  std::to_string(groups_.size()) + " groups)");
    }
    return g;
  }
  static state_format effective_format(std::size_t n, std::size_t min_quantized) noexcept {
    const bool quantized = format == state_format::q8 || format == state_format::q4;
    return quantized && n < min_quantized ? state_format::fp32 : format;
  }
  template <class F>
  std::size_t sum(F f) const noexcept {
    std::size_t s = 0;
    for (const group& gr : groups_) {
      for (const param_state& ps : gr.params) s += f(ps);
    }
    return s;
  }

  // Largest |g| of a gradient as a float (inf or NaN if any element is).
  static float max_magnitude(const tensor_ref& t) noexcept {
    using namespace lowprec::detail;  // the dispatch tables
    using namespace lowprec::optim::detail;
    const std::size_t n = t.size();
    const std::uint32_t bits =
        LOWPREC_SIMD_CALL(OptimMaxMagnitude)(t.data, n, static_cast<int>(size_of(t.type)));
    switch (t.type) {
      case dtype::fp32:
        return float_of(bits);
      case dtype::bf16:
        return float_of(bits << 16);
      case dtype::fp16:
        return fp16::from_bits(static_cast<std::uint16_t>(bits));
    }
    return 0.0f;
  }

  // 16-bit tensor elements [off, off + len) <-> float.
  static void widen(const tensor_ref& t, std::size_t off, std::size_t len, float* out) noexcept {
    if (t.type == dtype::bf16) {
      convert(static_cast<const bf16*>(t.data) + off, out, len);
    } else if (t.type == dtype::fp16) {
      convert(static_cast<const fp16*>(t.data) + off, out, len);
    } else {
      std::copy(static_cast<const float*>(t.data) + off,
                static_cast<const float*>(t.data) + off + len, out);
    }
  }
  static void narrow(const float* in, const tensor_ref& t, std::size_t off, std::size_t len,
                     rounding mode, std::uint64_t seed) noexcept {
    convert_options co;
    co.round = mode;
    co.seed = seed;
    co.offset = off;
    if (t.type == dtype::bf16) {
      convert(in, static_cast<bf16*>(t.data) + off, len, co);
    } else if (t.type == dtype::fp16) {
      convert(in, static_cast<fp16*>(t.data) + off, len, co);
    }
  }

  void run(float inv_scale) noexcept {
    std::uint64_t uid = 0;
    for (group& gr : groups_) {
      for (param_state& ps : gr.params) run_param(uid++, ps, gr.options, inv_scale);
    }
  }

  void run_param(std::uint64_t uid, param_state& ps, const adam_options& o,
                 float inv_scale) noexcept {
    using namespace lowprec::detail;  // the dispatch tables
    using namespace lowprec::optim::detail;
    ps.step += 1;
    adam_args a;
    a.c = make_coeffs(o.lr, o.beta1, o.beta2, o.eps, o.weight_decay,
                      Mode == weight_decay_mode::decoupled, o.amsgrad, o.maximize, ps.step,
                      inv_scale);
    a.format = ps.format;
    a.block = block_of(ps.format);
    if (a.block != 0) {
      a.signed_map = moment_buffer::map_for(ps.format, moment::m);
      a.unsigned_map = moment_buffer::map_for(ps.format, moment::v);
    }
    a.stochastic =
        ps.format == state_format::bf16 && storage_.state_rounding == rounding::stochastic;
    if (a.stochastic) {
      a.seed_m = stream_seed(storage_.seed, uid, ps.step, stream_m);
      a.seed_v = stream_seed(storage_.seed, uid, ps.step, stream_v);
      a.seed_vmax = stream_seed(storage_.seed, uid, ps.step, stream_vmax);
    }
    const bool p32 = ps.param.type == dtype::fp32;
    const bool g32 = ps.grad.type == dtype::fp32;
    const bool master = !ps.master.empty();
    const rounding pround = master ? rounding::nearest_even : o.param_rounding;
    const std::uint64_t pseed =
        pround == rounding::stochastic ? stream_seed(storage_.seed, uid, ps.step, stream_param) : 0;
    const std::size_t n = ps.size();
    const std::size_t chunk = p32 && g32 ? kDirectChunk : kChunk;
    for (std::size_t off = 0; off < n; off += chunk) {
      const std::size_t len = std::min(chunk, n - off);
      float* p = p32      ? static_cast<float*>(ps.param.data) + off
                 : master ? ps.master.data() + off
                          : scratch_p_.data();
      if (!p32 && !master) widen(ps.param, off, len, p);
      const float* g = scratch_g_.data();
      if (g32) {
        g = static_cast<const float*>(ps.grad.data) + off;
      } else {
        widen(ps.grad, off, len, scratch_g_.data());
      }
      a.n = len;
      a.p = p;
      a.g = g;
      a.offset = off;
      a.m = ps.m.data_at(off);
      a.v = ps.v.data_at(off);
      a.absmax_m = ps.m.absmax_at(off);
      a.absmax_v = ps.v.absmax_at(off);
      if (o.amsgrad) {
        a.vmax = ps.vmax.data_at(off);
        a.absmax_vmax = ps.vmax.absmax_at(off);
      }
      LOWPREC_SIMD_CALL(OptimAdamRun)(a);
      if (!p32) narrow(p, ps.param, off, len, pround, pseed);
    }
  }

  static void write_moment(detail::byte_writer& w, const moment_buffer& b) {
    w.u64(b.size());
    w.array(b.f32());
    w.array(b.u16());
    w.array(b.codes());
    w.array(b.absmax());
  }

  // One moment of n elements in format f; sizes are checked before allocating.
  static moment_buffer read_moment(detail::byte_reader& r, state_format f, moment which,
                                   std::size_t n, const std::string& where) {
    const std::uint64_t count = r.u64("moment length");
    if (count != n) {
      throw checkpoint_error("lowprec::optim checkpoint: " + where + " holds " +
                             std::to_string(count) + " elements for a tensor of " +
                             std::to_string(n));
    }
    const std::size_t block = block_of(f);
    std::vector<float> f32, absmax;
    std::vector<std::uint16_t> u16;
    std::vector<std::uint8_t> codes;
    switch (f) {
      case state_format::fp32:
        f32 = r.array<float>(n, "fp32 moment");
        break;
      case state_format::bf16:
        u16 = r.array<std::uint16_t>(n, "bf16 moment");
        break;
      case state_format::q8:
      case state_format::q4:
        codes = r.array<std::uint8_t>(f == state_format::q8 ? n : (n + 1) / 2, "codes");
        absmax = r.array<float>((n + block - 1) / block, "block scales");
        break;
    }
    moment_buffer out(f, which, n, std::move(f32), std::move(u16), std::move(codes),
                      std::move(absmax));
    return out;
  }

  param_state read_param(detail::byte_reader& r, const param_state& now, const adam_options& o,
                         const storage_options& so, std::size_t g, std::size_t i) const {
    const std::string where = "parameter " + std::to_string(i) + " of group " + std::to_string(g);
    const std::uint8_t pt = r.u8("param dtype"), gt = r.u8("grad dtype"), lay = r.u8("layout"),
                       mf = r.u8("moment format");
    const std::uint32_t rank = r.u32("rank");
    if (pt > 2 || gt > 2 || lay > 1 || mf > 3 || rank > 64) {
      throw checkpoint_error("lowprec::optim checkpoint: invalid type, layout or rank for " +
                             where);
    }
    shape_t shape(rank);
    for (std::size_t& d : shape) d = static_cast<std::size_t>(r.u64("dimension"));
    if (shape != now.param.shape || static_cast<layout>(lay) != now.param.order ||
        static_cast<dtype>(pt) != now.param.type || static_cast<dtype>(gt) != now.grad.type) {
      throw std::invalid_argument(
          prefix("load") + where + " is " + to_string(static_cast<dtype>(pt)) + " " +
          shape_string(shape) + (lay ? " column-major" : "") + " with " +
          to_string(static_cast<dtype>(gt)) + " gradients in the checkpoint but " +
          to_string(now.param.type) + " " + shape_string(now.param.shape) +
          (now.param.order == layout::col_major ? " column-major" : "") + " with " +
          to_string(now.grad.type) + " gradients here");
    }
    const std::size_t n = now.size();
    const state_format f = static_cast<state_format>(mf);
    if (f != effective_format(n, so.min_quantized_size)) {
      throw checkpoint_error("lowprec::optim checkpoint: " + where + " has " + to_string(f) +
                             " moments, inconsistent with its size and the storage options");
    }
    param_state ps;
    ps.param = now.param;
    ps.grad = now.grad;
    ps.format = f;
    ps.step = r.u64("step");
    ps.m = read_moment(r, f, moment::m, n, where);
    ps.v = read_moment(r, f, moment::v, n, where);
    const std::uint8_t has_vmax = r.u8("has vmax");
    if (has_vmax != (o.amsgrad ? 1 : 0)) {
      throw checkpoint_error("lowprec::optim checkpoint: " + where +
                             (has_vmax ? " has" : " lacks") +
                             " an AMSGrad maximum, inconsistent with its group's amsgrad");
    }
    if (has_vmax) ps.vmax = read_moment(r, f, moment::vmax, n, where);
    const std::uint8_t has_master = r.u8("has master");
    const bool want_master = o.master_weights && now.param.type != dtype::fp32;
    if (has_master != (want_master ? 1 : 0)) {
      throw checkpoint_error("lowprec::optim checkpoint: " + where +
                             (has_master ? " has" : " lacks") +
                             " master weights, inconsistent with its group and type");
    }
    if (has_master) ps.master = r.array<float>(n, "master weights");
    return ps;
  }

  storage_options storage_;
  std::vector<group> groups_;
  std::vector<float> scratch_p_, scratch_g_;
};

template <class State = fp32_state>
using adam = basic_adam<State, weight_decay_mode::l2>;
template <class State = fp32_state>
using adamw = basic_adam<State, weight_decay_mode::decoupled>;

}  // namespace lowprec::optim
