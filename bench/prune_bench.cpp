// lowprec::prune (issue 7): magnitude pruning and 2:4 sparsity on 16 Mi floats, and the
// 2:4-compressed matrix x vector product at 4096 x 4096 against dense float products.
// Run:  prune_bench --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
// Counter elem/s = dense weights handled per second of CPU time (16 Mi per iteration for
// pruning, 4096 x 4096 for products). PyTorch's l1_unstructured on the same 16 Mi floats is
// measured by the Python snippet in docs/prune.md (torch.set_num_threads(1)).
//
// The *_fresh rows allocate their output every iteration, as a first compression does; on
// this machine (a VM) first-touch page faults cost about as much as the compression itself,
// so the *_into rows, which reuse the output's storage (re-pruning during training), show
// the kernel.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "lowprec/eigen.hpp"
#include "lowprec/linalg.hpp"
#include "lowprec/prune/eigen.hpp"
#include "lowprec/prune/magnitude.hpp"
#include "lowprec/prune/nm.hpp"
#include "lowprec/prune/structured.hpp"

namespace {

namespace prune = lowprec::prune;

constexpr std::size_t kDim = 4096;
constexpr std::size_t kCount = kDim * kDim;  // 16 Mi

const std::vector<float>& weights() {
  static const std::vector<float> w = [] {
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(kCount);
    for (auto& x : v) x = d(rng);
    return v;
  }();
  return w;
}

prune::tensor_ref<const float> matrix_view() { return {weights().data(), {kDim, kDim}}; }

void set_rate(benchmark::State& state) {
  state.counters["elem/s"] =
      benchmark::Counter(static_cast<double>(kCount), benchmark::Counter::kIsIterationInvariantRate);
}

// ---- Unstructured ---------------------------------------------------------------------------

void BM_l1_unstructured_50pct(benchmark::State& state) {
  const auto& w = weights();
  for (auto _ : state) {
    prune::mask m = prune::l1_unstructured(w, 0.5);
    benchmark::DoNotOptimize(m.data());
  }
  set_rate(state);
}

// The obvious alternative: copy |w|, std::nth_element for the threshold, then a mask pass
// (ties not handled; for scale only).
void BM_nth_element_50pct(benchmark::State& state) {
  const auto& w = weights();
  std::vector<float> keys(kCount);
  std::vector<std::uint8_t> keep(kCount);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kCount; ++i) keys[i] = std::fabs(w[i]);
    std::nth_element(keys.begin(), keys.begin() + kCount / 2, keys.end());
    const float t = keys[kCount / 2];
    for (std::size_t i = 0; i < kCount; ++i) keep[i] = std::fabs(w[i]) >= t;
    benchmark::DoNotOptimize(keep.data());
  }
  set_rate(state);
}

void BM_l1_unstructured_50pct_bf16(benchmark::State& state) {
  std::vector<lowprec::bf16> w;
  w.reserve(kCount);
  for (const float x : weights()) w.push_back(lowprec::bf16(x));
  for (auto _ : state) {
    prune::mask m = prune::l1_unstructured(w, 0.5);
    benchmark::DoNotOptimize(m.data());
  }
  set_rate(state);
}

void BM_l1_unstructured_50pct_of_prior(benchmark::State& state) {  // composition path
  const auto& w = weights();
  const prune::mask prior = prune::random_unstructured(w, 0.5, 1);
  for (auto _ : state) {
    prune::mask m = prune::l1_unstructured(w, 0.5, prior);
    benchmark::DoNotOptimize(m.data());
  }
  set_rate(state);
}

// Heavily tied data: every weight equal (one magnitude, the tie rule decides alone), and
// re-pruning to 70% weights of which half are already exactly zero (an earlier 50% mask
// made permanent, no prior mask passed): the selection must not slow down on ties.
void BM_l1_unstructured_50pct_all_equal(benchmark::State& state) {
  const std::vector<float> w(kCount, 0.75f);
  for (auto _ : state) {
    prune::mask m = prune::l1_unstructured(w, 0.5);
    benchmark::DoNotOptimize(m.data());
  }
  set_rate(state);
}

// 70%: the boundary falls among the non-zero half; 30%: inside the zeros (8 Mi tied keys).
void BM_l1_unstructured_half_zero(benchmark::State& state, double fraction) {
  std::vector<float> w = weights();
  prune::make_permanent(w, prune::l1_unstructured(w, 0.5));
  for (auto _ : state) {
    prune::mask m = prune::l1_unstructured(w, fraction);
    benchmark::DoNotOptimize(m.data());
  }
  set_rate(state);
}

void BM_random_unstructured_50pct(benchmark::State& state) {
  for (auto _ : state) {
    prune::mask m = prune::random_unstructured({kCount}, 0.5, 7);
    benchmark::DoNotOptimize(m.data());
  }
  set_rate(state);
}

void BM_mask_apply(benchmark::State& state) {
  std::vector<float> w = weights();
  const prune::mask m = prune::l1_unstructured(w, 0.5);
  for (auto _ : state) {
    m.apply(w);
    benchmark::DoNotOptimize(w.data());
  }
  set_rate(state);
}

void BM_ln_structured_rows_l2_50pct(benchmark::State& state) {
  const auto v = matrix_view();
  for (auto _ : state) {
    prune::mask m = prune::ln_structured(v, 0.5, 2.0, 0);
    benchmark::DoNotOptimize(m.data());
  }
  set_rate(state);
}

// ---- 2:4 -------------------------------------------------------------------------------------

void BM_nm24_mask(benchmark::State& state) {
  const auto v = matrix_view();
  for (auto _ : state) {
    prune::mask m = prune::nm_mask(v, {2, 4});
    benchmark::DoNotOptimize(m.data());
  }
  set_rate(state);
}

void BM_nm24_compress_fresh(benchmark::State& state) {  // select + compress, new storage
  const auto v = matrix_view();
  for (auto _ : state) {
    auto c = prune::nm_compress(v, {2, 4});
    benchmark::DoNotOptimize(c.values());
  }
  set_rate(state);
}

void BM_nm24_compress_into(benchmark::State& state) {  // select + compress, reused storage
  const auto v = matrix_view();
  prune::nm_compressed<float> c = prune::nm_compress(v, {2, 4});
  for (auto _ : state) {
    prune::nm_compress(v, {2, 4}, -1, c);
    benchmark::DoNotOptimize(c.values());
  }
  set_rate(state);
}

void BM_nm24_mask_then_compress_fresh(benchmark::State& state) {  // two steps, both new
  const auto v = matrix_view();
  for (auto _ : state) {
    prune::mask m = prune::nm_mask(v, {2, 4});
    auto c = prune::nm_compress(v, m, {2, 4});
    benchmark::DoNotOptimize(c.values());
  }
  set_rate(state);
}

void BM_nm24_compress_fresh_bf16(benchmark::State& state) {
  std::vector<lowprec::bf16> w;
  w.reserve(kCount);
  for (const float x : weights()) w.push_back(lowprec::bf16(x));
  const prune::tensor_ref<const lowprec::bf16> v(w.data(), {kDim, kDim});
  for (auto _ : state) {
    auto c = prune::nm_compress(v, {2, 4});
    benchmark::DoNotOptimize(c.values());
  }
  set_rate(state);
}

// ---- Products at 4096 x 4096 ----------------------------------------------------------------

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

const RowMatrixXf& dense() {
  static const RowMatrixXf a = Eigen::Map<const RowMatrixXf>(weights().data(), kDim, kDim);
  return a;
}

Eigen::VectorXf input() {
  std::mt19937 rng(2);
  std::normal_distribution<float> d(0.0f, 1.0f);
  Eigen::VectorXf x(static_cast<Eigen::Index>(kDim));
  for (Eigen::Index i = 0; i < x.size(); ++i) x[i] = d(rng);
  return x;
}

void BM_matvec_dense_eigen_f32(benchmark::State& state) {  // Eigen A * x, row-major
  const RowMatrixXf& a = dense();
  const Eigen::VectorXf x = input();
  Eigen::VectorXf y(x.size());
  for (auto _ : state) {
    y.noalias() = a * x;
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state);
}

void BM_matvec_dense_eigen_f32_colmajor(benchmark::State& state) {
  const Eigen::MatrixXf a = dense();
  const Eigen::VectorXf x = input();
  Eigen::VectorXf y(x.size());
  for (auto _ : state) {
    y.noalias() = a * x;
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state);
}

void BM_matvec_dense_lowprec_f32(benchmark::State& state) {  // lowprec::matvec (SIMD hub)
  const RowMatrixXf& a = dense();
  const Eigen::VectorXf x = input();
  Eigen::VectorXf y(x.size());
  for (auto _ : state) {
    lowprec::matvec(a.data(), kDim, kDim, lowprec::layout::row_major, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state);
  state.SetLabel(lowprec::simd_target());
}

void BM_matvec_dense_lowprec_bf16(benchmark::State& state) {
  const Eigen::Matrix<lowprec::bf16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a =
      dense().cast<lowprec::bf16>();
  const Eigen::VectorXf x = input();
  Eigen::VectorXf y(x.size());
  for (auto _ : state) {
    lowprec::matvec(a.data(), kDim, kDim, lowprec::layout::row_major, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state);
}

void BM_matvec_nm24_f32(benchmark::State& state) {
  const auto c = prune::nm_compress(dense(), {2, 4});
  const Eigen::VectorXf x = input();
  Eigen::VectorXf y(x.size());
  for (auto _ : state) {
    prune::matvec(c, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state);
  state.SetLabel(lowprec::simd_target());
}

void BM_matvec_nm24_bf16(benchmark::State& state) {
  const Eigen::Matrix<lowprec::bf16, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a =
      dense().cast<lowprec::bf16>();
  const auto c = prune::nm_compress(a, {2, 4});
  const Eigen::VectorXf x = input();
  Eigen::VectorXf y(x.size());
  for (auto _ : state) {
    prune::matvec(c, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state);
}

}  // namespace

BENCHMARK(BM_l1_unstructured_50pct)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nth_element_50pct)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_l1_unstructured_50pct_bf16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_l1_unstructured_50pct_of_prior)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_l1_unstructured_50pct_all_equal)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_l1_unstructured_half_zero, 70pct, 0.7)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_l1_unstructured_half_zero, 30pct, 0.3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_random_unstructured_50pct)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mask_apply)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ln_structured_rows_l2_50pct)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nm24_mask)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nm24_compress_fresh)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nm24_compress_into)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nm24_mask_then_compress_fresh)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nm24_compress_fresh_bf16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matvec_dense_eigen_f32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matvec_dense_eigen_f32_colmajor)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matvec_dense_lowprec_f32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matvec_dense_lowprec_bf16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matvec_nm24_f32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matvec_nm24_bf16)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
