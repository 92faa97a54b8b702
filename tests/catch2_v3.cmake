# Catch2 v3 through the shim (label packaging).
#
# Conan and vcpkg users build these tests against Catch2 v3; Debian 12 packages only
# v2.13. Where our tests can notice, v3 differs from v2 in three ways: one header per
# feature under <catch2/...> instead of <catch2/catch.hpp>, `Approx` only as
# `Catch::Approx` (v2 also puts it in the global namespace), and `main` in a separate
# library. tests/support/catch.hpp covers all three. When the Catch2 found is v2, this
# file builds a v3-shaped stand-in at configure time from the installed v2 single header
# (v3's header paths, `Approx` moved into namespace Catch only, the main in its own
# library) and compiles a sample of our tests through the shim against it, so that the
# shim's v3 branch is compiled and run on every CI build. It is a stand-in for v3's
# interface, not v3 itself: a real v3 build (what Conan and vcpkg do) is the full check.
#
# Every test source must reach Catch2 through the shim only; that is checked here too.

file(GLOB_RECURSE _catch_users RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
     CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/*.hpp)
foreach(f IN LISTS _catch_users)
  if(f STREQUAL "support/catch.hpp")
    continue()
  endif()
  file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/${f} _direct REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]catch2/")
  if(_direct)
    message(FATAL_ERROR "tests/${f} includes Catch2 directly (${_direct}); include "
                        "\"support/catch.hpp\" so the test builds with Catch2 v2 and v3")
  endif()
endforeach()

if(Catch2_VERSION VERSION_GREATER_EQUAL 3)
  return()  # the whole suite is already built against v3
endif()
find_file(LOWPREC_CATCH2_V2_HEADER catch2/catch.hpp
          HINTS ${Catch2_DIR}/../../../include ${Catch2_DIR}/../../include)
if(NOT LOWPREC_CATCH2_V2_HEADER)
  message(STATUS "Catch2 v2 single header not found; the Catch2 v3 stand-in test is skipped")
  return()
endif()

set(_v3 ${CMAKE_CURRENT_BINARY_DIR}/catch2_v3_standin/include/catch2)
file(READ ${LOWPREC_CATCH2_V2_HEADER} _engine)
set(_global_approx "using Catch::Detail::Approx;")
string(FIND "${_engine}" "${_global_approx}" _at)
if(_at EQUAL -1)
  message(FATAL_ERROR "${LOWPREC_CATCH2_V2_HEADER}: no global `${_global_approx}` to move; "
                      "the Catch2 v3 stand-in needs updating for this Catch2")
endif()
string(REPLACE "${_global_approx}" "namespace Catch { using Detail::Approx; }" _engine "${_engine}")
file(CONFIGURE OUTPUT ${_v3}/internal/lowprec_v2_engine.hpp CONTENT "${_engine}" @ONLY)
foreach(h catch_all catch_approx catch_test_macros catch_template_test_macros
          generators/catch_generators generators/catch_generators_range
          generators/catch_generators_adapters generators/catch_generators_random)
  file(RELATIVE_PATH _rel ${_v3}/${h}.hpp/.. ${_v3}/internal/lowprec_v2_engine.hpp)
  file(CONFIGURE OUTPUT ${_v3}/${h}.hpp
       CONTENT "// Catch2 v3 stand-in (tests/catch2_v3.cmake)\n#pragma once\n#include \"${_rel}\"\n")
endforeach()
file(CONFIGURE OUTPUT ${_v3}/../../main.cpp
     CONTENT "#define CATCH_CONFIG_MAIN\n#include <catch2/internal/lowprec_v2_engine.hpp>\n")

add_library(catch2_v3_standin_main STATIC ${_v3}/../../main.cpp)
target_include_directories(catch2_v3_standin_main SYSTEM PUBLIC ${_v3}/..)
target_compile_features(catch2_v3_standin_main PUBLIC cxx_std_17)

# The sample covers every Catch2 feature the suite uses: TEST_CASE, SECTION, REQUIRE /
# CHECK / STATIC_REQUIRE, TEMPLATE_TEST_CASE, Approx, INFO / CAPTURE, StringMaker output.
add_executable(catch2_v3_shim_test small_float_test.cpp memory_test.cpp prune/mask_test.cpp)
target_link_libraries(catch2_v3_shim_test PRIVATE lowprec::lowprec catch2_v3_standin_main)
target_include_directories(catch2_v3_shim_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
lowprec_strict_target(catch2_v3_shim_test)
add_test(NAME catch2_v3_shim_test COMMAND catch2_v3_shim_test)
set_tests_properties(catch2_v3_shim_test PROPERTIES LABELS packaging)
target_compile_definitions(catch2_v3_shim_test PRIVATE LOWPREC_TEST_EXPECT_CATCH2_MAJOR=3)
