// One Adam(W) step over 16 Mi parameters (and 64 Ki, in cache) for each state format:
// fp32 parameters and gradients, moments in fp32 / bf16 / 8-bit / 4-bit, plus variants:
// fp32 states without the gradient check (on_nonfinite = propagate), bf16 states with
// stochastic rounding, AMSGrad, and mixed precision (bf16 parameters and gradients with
// fp32 masters).
//
// Counters: items_per_second = parameters updated per CPU second; state_B = bytes of
// optimizer state per parameter; traffic_B = bytes read + written per parameter by the
// step (parameters, gradients, moments, scales); BM_memcpy copies the same bytes. Built with the project's default flags
// (no -m/-march: the kernels pick the CPU's best Highway target at run time). Run e.g.
//   optim_bench --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
// PyTorch's single-threaded torch.optim.Adam on the same size is measured by the script
// in docs/optim.md.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "lowprec/optim/adam.hpp"

namespace {

namespace lo = lowprec::optim;

constexpr std::int64_t kSizes[] = {std::int64_t{64} << 10, std::int64_t{16} << 20};

std::vector<float> gaussian(std::size_t n, float scale, std::uint32_t seed) {
  std::vector<float> v(n);
  std::mt19937 g(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  for (float& x : v) x = dist(g);
  return v;
}

// Bytes per parameter moved by one step with fp32 parameters and gradients.
double traffic(lo::state_format f, bool amsgrad) {
  const double moments = amsgrad ? 3.0 : 2.0;
  switch (f) {
    case lo::state_format::fp32:
      return 8 + 4 + moments * 8;
    case lo::state_format::bf16:
      return 8 + 4 + moments * 4;
    case lo::state_format::q8:
      return 8 + 4 + moments * (2 + 8.0 / 256);
    case lo::state_format::q4:
      return 8 + 4 + moments * (1 + 8.0 / 128);
  }
  return 0;
}

template <class State>
void run(benchmark::State& st, const lo::storage_options& so, bool amsgrad) {
  const auto n = static_cast<std::size_t>(st.range(0));
  std::vector<float> p = gaussian(n, 1.0f, 1), g = gaussian(n, 1e-2f, 2);
  lo::adam_options o = lo::adamw_defaults();
  o.amsgrad = amsgrad;
  lo::adamw<State> opt(o, so);
  opt.add(p, g);
  opt.step();  // touch every page of the state
  for (auto _ : st) {
    opt.step();
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * st.range(0));
  st.counters["state_B"] = static_cast<double>(opt.state_bytes()) / static_cast<double>(n);
  st.counters["traffic_B"] = traffic(State::format, amsgrad);
}

// bf16 parameters and gradients, fp32 masters, fp32 states: the mixed-precision setup.
void BM_AdamW_mixed_bf16(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const std::vector<float> pf = gaussian(n, 1.0f, 1), gf = gaussian(n, 1e-2f, 2);
  std::vector<lowprec::bf16> p(n), g(n);
  lowprec::convert(pf.data(), p.data(), n);
  lowprec::convert(gf.data(), g.data(), n);
  lo::adam_options o = lo::adamw_defaults();
  o.master_weights = true;
  lo::adamw<lo::fp32_state> opt(o);
  opt.add(p, g);
  opt.step();
  for (auto _ : st) {
    opt.step();
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * st.range(0));
  st.counters["state_B"] = static_cast<double>(opt.bytes()) / static_cast<double>(n);
  st.counters["traffic_B"] = 4 + 2 + 8 + 16;  // bf16 p written, g read; master; m, v
}

// The yardstick: memcpy moving the same bytes per parameter as a step (traffic_B read +
// written, so traffic_B / 2 copied), reported as parameters per second, so that
// step rate / memcpy rate is the "x memcpy" column of docs/optim.md.
void BM_memcpy(benchmark::State& st, double traffic_bytes) {
  const auto n = static_cast<std::size_t>(st.range(0));
  const auto bytes = static_cast<std::size_t>(traffic_bytes / 2 * static_cast<double>(n));
  std::vector<unsigned char> src(bytes, 1), dst(bytes, 0);
  for (auto _ : st) {
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * st.range(0));
  st.counters["traffic_B"] = traffic_bytes;
}

lo::storage_options checked() { return {}; }
lo::storage_options unchecked() {
  lo::storage_options s;
  s.on_nonfinite = lo::nonfinite_gradients::propagate;
  return s;
}
lo::storage_options stochastic() {
  lo::storage_options s;
  s.state_rounding = lowprec::rounding::stochastic;
  return s;
}

void BM_AdamW_fp32(benchmark::State& st, lo::storage_options so, bool amsgrad) {
  run<lo::fp32_state>(st, so, amsgrad);
}
void BM_AdamW_bf16(benchmark::State& st, lo::storage_options so, bool amsgrad) {
  run<lo::bf16_state>(st, so, amsgrad);
}
void BM_AdamW_q8(benchmark::State& st, lo::storage_options so, bool amsgrad) {
  run<lo::q8_state>(st, so, amsgrad);
}
void BM_AdamW_q4(benchmark::State& st, lo::storage_options so, bool amsgrad) {
  run<lo::q4_state>(st, so, amsgrad);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (const std::int64_t n : kSizes) b->Arg(n);
  b->Unit(benchmark::kMillisecond);
}

}  // namespace

BENCHMARK_CAPTURE(BM_AdamW_fp32, states, checked(), false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_AdamW_fp32, unchecked, unchecked(), false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_AdamW_bf16, states, checked(), false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_AdamW_bf16, stochastic, stochastic(), false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_AdamW_q8, states, checked(), false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_AdamW_q4, states, checked(), false)->Apply(sizes);
BENCHMARK_CAPTURE(BM_AdamW_fp32, amsgrad, checked(), true)->Apply(sizes);
BENCHMARK_CAPTURE(BM_AdamW_q8, amsgrad, checked(), true)->Apply(sizes);
BENCHMARK(BM_AdamW_mixed_bf16)->Apply(sizes);
BENCHMARK_CAPTURE(BM_memcpy, fp32_traffic, traffic(lo::state_format::fp32, false))->Apply(sizes);
BENCHMARK_CAPTURE(BM_memcpy, bf16_traffic, traffic(lo::state_format::bf16, false))->Apply(sizes);
BENCHMARK_CAPTURE(BM_memcpy, q8_traffic, traffic(lo::state_format::q8, false))->Apply(sizes);
BENCHMARK_CAPTURE(BM_memcpy, q4_traffic, traffic(lo::state_format::q4, false))->Apply(sizes);

BENCHMARK_MAIN();
