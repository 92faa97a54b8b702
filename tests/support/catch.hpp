// One include for Catch2 v2 (Debian's 2.13, single header) and v3 (Conan, vcpkg).
// Tests write TEST_CASE / REQUIRE / CHECK / SECTION / Approx / GENERATE and nothing
// version-specific (TEMPLATE_TEST_CASE included).
#pragma once

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_approx.hpp>
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_range.hpp>
using Catch::Approx;
#define LOWPREC_TEST_CATCH2_MAJOR 3
#else
#include <catch2/catch.hpp>
#define LOWPREC_TEST_CATCH2_MAJOR 2
#endif

// tests/catch2_v3.cmake builds a sample of the suite against a v3-shaped stand-in and
// sets this, so that a shim quietly falling back to v2 fails to compile.
#if defined(LOWPREC_TEST_EXPECT_CATCH2_MAJOR) && \
    LOWPREC_TEST_EXPECT_CATCH2_MAJOR != LOWPREC_TEST_CATCH2_MAJOR
#error "tests/support/catch.hpp picked the wrong Catch2 major version"
#endif
