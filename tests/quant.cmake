# lowprec::quant (include/lowprec/quant/, simd/quant-inl.hpp): scales, absmax, zero-point,
# blockwise, ggml blocks, the quantized-tensor container and its Eigen front.
# Golden vectors from PyTorch 1.13 live in tests/data/quant/ beside make_golden.py and are
# read at run time from the source tree.
set(LOWPREC_QUANT_DATA_DIR ${CMAKE_CURRENT_SOURCE_DIR}/data/quant)

lowprec_add_test(quant_torch_golden_test LABEL quant SOURCES quant/torch_golden_test.cpp)
target_compile_definitions(quant_torch_golden_test PRIVATE
                           LOWPREC_QUANT_DATA_DIR="${LOWPREC_QUANT_DATA_DIR}")
lowprec_add_test(quant_scheme_test LABEL quant SOURCES quant/scheme_test.cpp)
lowprec_add_test(quant_absmax_test LABEL quant SOURCES quant/absmax_test.cpp)
lowprec_add_test(quant_affine_test LABEL quant SOURCES quant/affine_test.cpp)
lowprec_add_test(quant_quantized_tensor_test LABEL quant SOURCES quant/quantized_tensor_test.cpp)
lowprec_add_test(quant_ggml_test LABEL quant SOURCES quant/ggml_test.cpp)
lowprec_add_test(quant_eigen_test LABEL quant SOURCES quant/eigen_test.cpp)
# SIMD = scalar: every compiled Highway target the CPU supports, in one binary.
lowprec_add_test(quant_absmax_simd_test LABEL quant SOURCES quant/absmax_simd_test.cpp TIMEOUT 600)
lowprec_add_test(quant_affine_fp8_simd_test LABEL quant SOURCES quant/affine_fp8_simd_test.cpp
                 TIMEOUT 900)
lowprec_add_test(quant_odr_test LABEL quant
                 SOURCES quant/odr_test.cpp quant/odr_test_second_tu.cpp)

# Issue 6: NF4, codebooks, double quantization, outliers, fused low-bit products.
# lowbit_test is standard-library only (scalar definitions against brute-force oracles);
# lowbit_simd_test is the one TU that compiles the kernels (every target vs the scalar
# definition, fused products, PyTorch golden NF4 data from make_nf4_golden.py).
lowprec_add_test(quant_lowbit_simd_test LABEL quant SOURCES quant/lowbit_simd_test.cpp TIMEOUT 900)
target_compile_definitions(quant_lowbit_simd_test PRIVATE
                           LOWPREC_QUANT_DATA_DIR="${LOWPREC_QUANT_DATA_DIR}")
lowprec_add_test(quant_lowbit_test LABEL quant SOURCES quant/lowbit_test.cpp)
