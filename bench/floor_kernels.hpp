// Floors for the in-cache benchmarks: the least work a kernel of each shape can do with
// ordinary vector loads and stores, compiled for every Highway target and run on the best
// one like lowprec's kernels (bench/floor_kernels.cpp, its own translation unit because
// hwy/foreach_target.h is allowed once per unit). They are not conversions: they show how
// close to memcpy a loop that reads and writes these byte counts can get on this machine
// (memcpy itself may use `rep movsb`, which ordinary stores cannot match in cache).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lowprec_bench {

// Copies `bytes` bytes with two vector loads and stores per step: the same bytes as
// memcpy, moved by the instructions our kernels use.
void vector_copy(const unsigned char* src, unsigned char* dst, std::size_t bytes);

// The data movement of float -> bf16 without rounding: keeps the upper 16 bits of each
// float (truncation, wrong for rounding; a floor, not a conversion).
void f32_bf16_truncate(const float* src, std::uint16_t* dst, std::size_t n);

// The data movement of bf16 -> float without the NaN test: each code shifted into the
// upper half of a 32-bit lane (zero-extend, shift).
void bf16_f32_shift(const std::uint16_t* src, float* dst, std::size_t n);

}  // namespace lowprec_bench
