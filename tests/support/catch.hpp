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
#else
#include <catch2/catch.hpp>
#endif
