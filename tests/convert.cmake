# lowprec::convert (convert.hpp, simd/convert-inl.hpp): the bit-exactness tests.
# convert_test runs every compiled target the CPU supports in one binary; its second
# translation unit is built with LOWPREC_STATIC_DISPATCH.
lowprec_add_test(convert_test LABEL convert
                 SOURCES convert_test.cpp convert_static_dispatch_test.cpp TIMEOUT 900)

# An unsupported pair fails to compile, with the static_assert's sentence.
add_executable(convert_compile_fail EXCLUDE_FROM_ALL compile_fail/convert_unsupported_pair.cpp)
target_link_libraries(convert_compile_fail PRIVATE lowprec::lowprec)
add_test(NAME convert_compile_fail
         COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target convert_compile_fail
                 --config $<CONFIG>)
set_tests_properties(convert_compile_fail PROPERTIES LABELS convert
                     RESOURCE_LOCK lowprec_build_tree
                     PASS_REGULAR_EXPRESSION "lowprec::convert: unsupported \\(Src, Dst\\) pair")

# All 2^32 floats through the bulk path on every target, against the scalar definition.
if(LOWPREC_LONG_TESTS)
  find_package(Threads REQUIRED)
  lowprec_add_test(convert_exhaustive_test LABEL exhaustive
                   SOURCES convert_exhaustive_test.cpp LIBS Threads::Threads TIMEOUT 1800)
endif()
