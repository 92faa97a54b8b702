#!/usr/bin/env bash
# README's test command (and CI's: .ci/run runs exactly this). Installs what is missing,
# then:
#   1. g++ Release with -Werror: build everything (benchmarks too), run every test
#      (exhaustive included);
#   2. clang with AddressSanitizer + UndefinedBehaviorSanitizer: every test except the
#      exhaustive sweep and the packaging checks (which exercise cmake, not our code);
#   3. on a CPU with AVX-512, the same sanitizers over the kernels compiled for Highway's
#      AVX3 target (the one our machines dispatch to), through the tests that run every
#      target.
# Each stage prints ctest's summary; the script fails if any stage does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh test
jobs="${LOWPREC_JOBS:-2}"
start=$SECONDS

echo "== 1/3 g++ Release, -Werror, all tests"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
      -DLOWPREC_WERROR=ON >/dev/null
cmake --build build/release -j"$jobs"
(cd build/release && ctest -j"$jobs" --output-on-failure --timeout 3600)

echo "== 2/3 clang, ASan + UBSan"
# Stage 1 holds every Highway target bit-identical to the scalar path. Here the kernels
# are compiled for EMU128 (plain C++, where a shift by >= the lane width is undefined)
# and AVX2 only: HWY_DISABLED_TARGETS = SSSE3 | SSE4 | AVX3 | AVX3_DL (1<<12 | 1<<11 |
# 1<<8 | 1<<7 in Highway 1.0.3), which keeps the sanitizer build within CI's budget.
hwy_disabled=0x1980
cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
      -DLOWPREC_WERROR=ON -DLOWPREC_LONG_TESTS=OFF -DLOWPREC_BUILD_BENCHMARKS=OFF \
      "-DCMAKE_CXX_FLAGS=-O1 -g1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -DHWY_DISABLED_TARGETS=$hwy_disabled" \
      >/dev/null
cmake --build build/sanitize -j"$jobs"
(cd build/sanitize && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest -j"$jobs" --output-on-failure -LE "packaging|exhaustive")

echo "== 3/3 clang, ASan + UBSan, AVX-512 kernels"
# Stage 2 leaves out AVX3, so code only that target compiles (the AVX512-BF16 and
# vfpclassps conversion loops, the AVX-512 quantizer, optimizer and pruning paths) is
# sanitized here: HWY_DISABLED_TARGETS = SSSE3 | SSE4 | AVX2 | AVX3_DL leaves EMU128 and
# AVX3, and only the tests that loop over every supported target are built.
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
if [[ " $flags " == *" avx512f "* && " $flags " == *" avx512vl "* &&
      " $flags " == *" avx512dq "* && " $flags " == *" avx512bw "* ]]; then
  avx3_tests="convert_test quant_absmax_simd_test quant_affine_fp8_simd_test"
  avx3_tests+=" quant_lowbit_simd_test optim_states_test prune_test linalg_test"
  cmake -S . -B build/sanitize-avx3 -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
        -DLOWPREC_WERROR=ON -DLOWPREC_LONG_TESTS=OFF -DLOWPREC_BUILD_BENCHMARKS=OFF \
        "-DCMAKE_CXX_FLAGS=-O1 -g1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -DHWY_DISABLED_TARGETS=0x1A80" \
        >/dev/null
  # lowprec_every_target_tests (tests/CMakeLists.txt) builds exactly these, in parallel.
  cmake --build build/sanitize-avx3 -j"$jobs" --target lowprec_every_target_tests
  (cd build/sanitize-avx3 && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest -j"$jobs" --output-on-failure -R "^(${avx3_tests// /|})\$")
else
  echo "skipped: this CPU lacks AVX-512 (F, VL, DQ, BW), so stage 2 covered its targets"
fi

echo "== all stages passed in $((SECONDS - start)) s"
