// Pruning an Eigen weight matrix three ways with lowprec::prune, and what each costs:
//   1. unstructured: 50% of the weights by magnitude, re-applied after a (fake) update;
//   2. structured, composed on top: 25% of the remaining rows (output neurons) by L2 norm;
//   3. 2:4 semi-structured: compressed storage and a product computed on it.
// Prints a sparsity report and the error of each pruned layer's output against the dense
// layer; exits non-zero if the compressed product disagrees with the dense masked one.
#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>

#include "lowprec/prune/eigen.hpp"
#include "lowprec/prune/magnitude.hpp"
#include "lowprec/prune/nm.hpp"
#include "lowprec/prune/structured.hpp"

namespace prune = lowprec::prune;

namespace {

// Relative error of a layer's output: ||y - y_ref|| / ||y_ref||.
double relative_error(const Eigen::VectorXf& y, const Eigen::VectorXf& ref) {
  return static_cast<double>((y - ref).norm() / ref.norm());
}

}  // namespace

int main() {
  // A linear layer [out = 256, in = 512], PyTorch's [out, in] convention, and one input.
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Eigen::MatrixXf w(256, 512);
  for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = normal(rng) * 0.05f;
  Eigen::VectorXf x(512);
  for (Eigen::Index i = 0; i < x.size(); ++i) x[i] = normal(rng);
  const Eigen::VectorXf y_dense = w * x;

  // 1. Unstructured: the mask is computed from the weights, then applied in place.
  Eigen::MatrixXf w1 = w;
  const prune::mask m1 = prune::l1_unstructured(w1, 0.5);
  m1.apply(w1);
  std::printf("unstructured 50%%      output error %.4f\n", relative_error(w1 * x, y_dense));
  Eigen::MatrixXf trained = w1;
  trained.array() += 0.001f;  // an optimizer step touches every weight ...
  m1.apply(trained);          // ... and re-applying the mask zeroes the pruned ones again
  const bool reapplied = prune::count_zeros(trained) == m1.pruned();

  // 2. Structured on top: rank the original weights' rows by L2 norm, among the rows that
  //    still have survivors (PyTorch's PruningContainer semantics), prune a quarter.
  const prune::mask m2 = prune::ln_structured(w, 0.25, 2.0, 0, m1);
  Eigen::MatrixXf w2 = w;
  m2.apply(w2);
  std::printf("+ 25%% of rows (L2)    output error %.4f\n", relative_error(w2 * x, y_dense));

  // 3. 2:4 along the input dimension: half the weights, stored compressed.
  const auto c = prune::nm_compress(w, {2, 4});  // columns are groups of 4 per row
  const Eigen::VectorXf y24 = prune::matvec(c, x);
  Eigen::MatrixXf w3 = w;
  prune::nm_mask(w, {2, 4}).apply(w3);
  const Eigen::VectorXf y24_dense = w3 * x;
  std::printf("2:4                   output error %.4f, %zu bytes instead of %zu (%.1f%%)\n",
              relative_error(y24, y_dense), c.bytes(), static_cast<std::size_t>(w.size()) * sizeof(float),
              100.0 * static_cast<double>(c.bytes()) / static_cast<double>(w.size() * 4));

  prune::sparsity_report report;
  report.add("unstructured", m1).add("+rows", m2).add_weights("2:4 (dense copy)", w3);
  std::cout << '\n' << report;

  // The product on the compressed form must be the dense masked product (up to rounding).
  const double gap = relative_error(y24, y24_dense);
  if (!(gap < 1e-5) || !reapplied || m1.sparsity() != 0.5 ||
      prune::count_zeros(w3) != static_cast<std::size_t>(w.size() / 2)) {
    std::printf("FAILED: compressed vs dense masked product differ by %.3g\n", gap);
    return 1;
  }
  std::printf("\ncompressed product matches the dense masked product (relative gap %.1e)\n", gap);
  return 0;
}
