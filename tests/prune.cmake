# lowprec::prune (include/lowprec/prune/, simd/prune-inl.hpp): issue 7.
# prune_test: the standard-library front (masks, amounts, magnitude, structured, N:M and the
# SIMD kernels on every target). prune_golden_test: masks equal to torch.nn.utils.prune's on
# Eigen matrices and Tensors, from tests/data/prune/golden.txt (make_golden.py beside it).
lowprec_add_test(prune_test LABEL prune
                 SOURCES prune/mask_test.cpp prune/magnitude_test.cpp prune/structured_test.cpp
                         prune/nm_test.cpp)
lowprec_add_test(prune_golden_test LABEL prune SOURCES prune/golden_test.cpp)
target_compile_definitions(prune_golden_test PRIVATE
                           LOWPREC_PRUNE_GOLDEN="${CMAKE_CURRENT_SOURCE_DIR}/data/prune/golden.txt")
