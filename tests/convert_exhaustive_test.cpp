// The long test of lowprec::convert: every one of the 2^32 float inputs through the bulk
// path, with the default policy, to each format (and int8), on every compiled target the
// CPU supports, compared bit for bit with the scalar conversion. This is also the proof
// that the hardware fast path (x86 F16C for float -> fp16) equals the scalar definition.
//
// The inputs go in blocks; two threads compute the scalar results for their half of a
// block once, then every target converts the same half and compares (the target is a
// process-wide setting, so all threads switch together between blocks).
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "lowprec/convert.hpp"
#include "support/catch.hpp"

namespace {

using lowprec::bf16;
using lowprec::fp16;
using lowprec::fp8_e4m3fn;
using lowprec::fp8_e5m2;

constexpr std::uint64_t kBlock = std::uint64_t{1} << 23;  // inputs per thread and round
constexpr int kThreads = 2;

// One thread's share: inputs, the scalar results, and the bulk results.
struct share {
  std::vector<float> in = std::vector<float>(kBlock);
  std::vector<fp16> ref_fp16 = std::vector<fp16>(kBlock);
  std::vector<bf16> ref_bf16 = std::vector<bf16>(kBlock);
  std::vector<fp8_e4m3fn> ref_e4m3 = std::vector<fp8_e4m3fn>(kBlock);
  std::vector<fp8_e5m2> ref_e5m2 = std::vector<fp8_e5m2>(kBlock);
  std::vector<std::int8_t> ref_int8 = std::vector<std::int8_t>(kBlock);
  std::vector<unsigned char> out = std::vector<unsigned char>(kBlock * 2);

  void prepare(std::uint64_t first) {
    for (std::uint64_t i = 0; i < kBlock; ++i) {
      const auto u = static_cast<std::uint32_t>(first + i);
      std::memcpy(&in[i], &u, 4);
      ref_fp16[i] = fp16(in[i]);
      ref_bf16[i] = bf16(in[i]);
      ref_e4m3[i] = fp8_e4m3fn(in[i]);
      ref_e5m2[i] = fp8_e5m2(in[i]);
      ref_int8[i] = lowprec::round_to_int8(in[i]);
    }
  }

  // Returns the number of mismatching elements of this share for every format.
  template <class T>
  std::uint64_t check_one(const std::vector<T>& ref, std::uint32_t* first_input) {
    auto* o = reinterpret_cast<T*>(out.data());
    lowprec::convert(in.data(), o, kBlock);
    if (std::memcmp(o, ref.data(), kBlock * sizeof(T)) == 0) return 0;
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < kBlock; ++i) {
      if (std::memcmp(&o[i], &ref[i], sizeof(T)) != 0) {
        if (n++ == 0) std::memcpy(first_input, &in[i], 4);
      }
    }
    return n;
  }

  std::uint64_t bad[5] = {};
  std::uint32_t first_bad[5] = {};
  void check() {
    bad[0] += check_one(ref_fp16, &first_bad[0]);
    bad[1] += check_one(ref_bf16, &first_bad[1]);
    bad[2] += check_one(ref_e4m3, &first_bad[2]);
    bad[3] += check_one(ref_e5m2, &first_bad[3]);
    bad[4] += check_one(ref_int8, &first_bad[4]);
  }
};

const char* const kFormatNames[5] = {"fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2", "int8"};

}  // namespace

TEST_CASE("all 2^32 floats convert in bulk exactly as the scalar definition on every target",
          "[exhaustive]") {
  const std::vector<std::int64_t> targets = hwy::SupportedAndGeneratedTargets();
  std::vector<share> shares(kThreads);
  // Mismatches per target and format.
  std::vector<std::vector<std::uint64_t>> bad(targets.size(), std::vector<std::uint64_t>(5));
  std::vector<std::vector<std::uint32_t>> first_bad(targets.size(), std::vector<std::uint32_t>(5));

  for (std::uint64_t base = 0; base < (std::uint64_t{1} << 32); base += kThreads * kBlock) {
    {
      std::vector<std::thread> pool;
      for (int t = 0; t < kThreads; ++t) {
        pool.emplace_back([&shares, t, base] { shares[static_cast<std::size_t>(t)].prepare(base + static_cast<std::uint64_t>(t) * kBlock); });
      }
      for (auto& th : pool) th.join();
    }
    for (std::size_t k = 0; k < targets.size(); ++k) {
      hwy::SetSupportedTargetsForTest(targets[k]);
      std::vector<std::thread> pool;
      for (int t = 0; t < kThreads; ++t) {
        pool.emplace_back([&shares, t] {
          share& s = shares[static_cast<std::size_t>(t)];
          for (auto& b : s.bad) b = 0;
          s.check();
        });
      }
      for (auto& th : pool) th.join();
      for (const share& s : shares) {
        for (std::size_t f = 0; f < 5; ++f) {
          if (s.bad[f] != 0 && bad[k][f] == 0) first_bad[k][f] = s.first_bad[f];
          bad[k][f] += s.bad[f];
        }
      }
    }
  }
  hwy::SetSupportedTargetsForTest(0);

  for (std::size_t k = 0; k < targets.size(); ++k) {
    for (std::size_t f = 0; f < 5; ++f) {
      INFO("target " << hwy::TargetName(targets[k]) << ", float -> " << kFormatNames[f]
                     << ": first mismatching input bits 0x" << std::hex << first_bad[k][f]);
      CHECK(bad[k][f] == 0);
    }
  }
  // Which targets were swept, for the log.
  std::string names;
  for (std::int64_t t : targets) names += std::string(hwy::TargetName(t)) + " ";
  WARN("swept all 2^32 floats on: " << names);
}
