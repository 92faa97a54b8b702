// Dynamic loss scaling for 16-bit gradients, with PyTorch's GradScaler defaults and
// update rule (torch/cuda/amp/grad_scaler.py, aten _amp_update_scale_):
//
//   multiply the loss by scale() before the backward pass; the optimizer's
//   step(scaler) unscales the gradients by 1/scale on the fly and
//     - if any unscaled gradient is inf or NaN: skips the step (nothing changes, the
//       step counts stay) and calls update(true):  scale *= backoff_factor (0.5),
//       growth tracker = 0;
//     - else: steps and calls update(false): tracker += 1; when it reaches
//       growth_interval (2000), scale *= growth_factor (2) if the result is finite,
//       and tracker = 0.
//   Defaults: init_scale 65536 = 2^16. The scale is a float, as GradScaler's tensor.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "lowprec/detail/format.hpp"

namespace lowprec::optim {

struct loss_scaler_options {
  float init_scale = 65536.0f;
  float growth_factor = 2.0f;
  float backoff_factor = 0.5f;
  int growth_interval = 2000;
};

class loss_scaler {
 public:
  explicit loss_scaler(const loss_scaler_options& o = {}) : o_(o), scale_(o.init_scale) {
    if (!(o.init_scale > 0.0f) || !std::isfinite(o.init_scale)) {
      throw std::invalid_argument(
          "lowprec::optim::loss_scaler: init_scale must be finite and > 0, got " +
          ::lowprec::detail::shortest_decimal(o.init_scale));
    }
    if (!(o.growth_factor > 1.0f) || !std::isfinite(o.growth_factor)) {
      throw std::invalid_argument(
          "lowprec::optim::loss_scaler: growth_factor must be finite and > 1, got " +
          ::lowprec::detail::shortest_decimal(o.growth_factor));
    }
    if (!(o.backoff_factor > 0.0f && o.backoff_factor < 1.0f)) {
      throw std::invalid_argument(
          "lowprec::optim::loss_scaler: backoff_factor must be in (0, 1), got " +
          ::lowprec::detail::shortest_decimal(o.backoff_factor));
    }
    if (o.growth_interval < 1) {
      throw std::invalid_argument(
          "lowprec::optim::loss_scaler: growth_interval must be >= 1, got " +
          std::to_string(o.growth_interval));
    }
  }

  float scale() const noexcept { return scale_; }
  // 1/scale as GradScaler computes it: in double, rounded to float.
  float inv_scale() const noexcept { return static_cast<float>(1.0 / static_cast<double>(scale_)); }
  int growth_tracker() const noexcept { return tracker_; }
  const loss_scaler_options& options() const noexcept { return o_; }

  // GradScaler.update() after a step whose gradients were (found_inf) or were not finite.
  void update(bool found_inf) noexcept {
    if (found_inf) {
      scale_ = scale_ * o_.backoff_factor;
      tracker_ = 0;
      return;
    }
    const int successful = tracker_ + 1;
    if (successful == o_.growth_interval) {
      const float grown = scale_ * o_.growth_factor;
      if (std::isfinite(grown)) scale_ = grown;
      tracker_ = 0;
    } else {
      tracker_ = successful;
    }
  }

  // Restores a saved (scale, growth_tracker), as GradScaler.load_state_dict.
  void set_state(float scale, int growth_tracker) {
    if (!(scale > 0.0f) || !std::isfinite(scale)) {
      throw std::invalid_argument(
          "lowprec::optim::loss_scaler::set_state: scale must be finite and > 0, got " +
          ::lowprec::detail::shortest_decimal(scale));
    }
    if (growth_tracker < 0 || growth_tracker >= o_.growth_interval) {
      throw std::invalid_argument(
          "lowprec::optim::loss_scaler::set_state: growth_tracker must be in [0, " +
          std::to_string(o_.growth_interval) + "), got " + std::to_string(growth_tracker));
    }
    scale_ = scale;
    tracker_ = growth_tracker;
  }

 private:
  loss_scaler_options o_;
  float scale_;
  int tracker_ = 0;
};

}  // namespace lowprec::optim
