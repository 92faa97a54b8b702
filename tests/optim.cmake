# lowprec::optim (include/lowprec/optim/, quant/dynamic_map.hpp, simd/optim-inl.hpp):
# Adam/AdamW state containers, mixed precision, checkpoints. Golden data from PyTorch 1.13
# live in tests/data/optim/ beside make_golden.py and are read at run time.
set(LOWPREC_OPTIM_DATA_DIR ${CMAKE_CURRENT_SOURCE_DIR}/data/optim)

lowprec_add_test(optim_adam_test LABEL optim SOURCES optim/adam_test.cpp)
target_compile_definitions(optim_adam_test PRIVATE LOWPREC_OPTIM_DATA_DIR="${LOWPREC_OPTIM_DATA_DIR}")

lowprec_add_test(optim_dynamic_map_test LABEL optim SOURCES optim/dynamic_map_test.cpp)
target_compile_definitions(optim_dynamic_map_test PRIVATE LOWPREC_OPTIM_DATA_DIR="${LOWPREC_OPTIM_DATA_DIR}")

# SIMD = scalar: every compiled Highway target the CPU supports, in one binary. With
# optim_adam_test (golden trajectories through the default, dispatched path) these are the
# only optim test translation units that compile the kernels for every target.
lowprec_add_test(optim_states_test LABEL optim SOURCES optim/states_test.cpp)

# Checkpoints exercise no kernel worth dispatching: one (static) copy of the kernels instead
# of one per Highway target keeps this translation unit's compile time down.
lowprec_add_test(optim_checkpoint_test LABEL optim SOURCES optim/checkpoint_test.cpp)
target_compile_definitions(optim_checkpoint_test PRIVATE LOWPREC_STATIC_DISPATCH)
