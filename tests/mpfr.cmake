# The MPFR verification of every conversion (tests/rounding_mpfr_test.cpp, oracle in
# tests/reference/mpfr_oracle.hpp). MPFR is required whenever tests are built: a check
# that silently disappears on a machine without the library is worse than a failed
# configure. pkg-config first (mpfr.pc also names GMP), then a plain header/library search.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(LOWPREC_MPFR QUIET IMPORTED_TARGET mpfr>=3.1)
endif()

if(TARGET PkgConfig::LOWPREC_MPFR)
  set(_lowprec_mpfr_libs PkgConfig::LOWPREC_MPFR)
else()
  find_path(LOWPREC_MPFR_INCLUDE_DIR mpfr.h)
  find_path(LOWPREC_GMP_INCLUDE_DIR gmp.h)
  find_library(LOWPREC_MPFR_LIBRARY mpfr)
  find_library(LOWPREC_GMP_LIBRARY gmp)
  if(NOT LOWPREC_MPFR_INCLUDE_DIR OR NOT LOWPREC_GMP_INCLUDE_DIR OR NOT LOWPREC_MPFR_LIBRARY
     OR NOT LOWPREC_GMP_LIBRARY)
    message(FATAL_ERROR
      "lowprec's tests need MPFR and GMP (tests/rounding_mpfr_test.cpp checks every "
      "conversion against MPFR), but they were not found.\n"
      "  Debian/Ubuntu: apt-get install libmpfr-dev   (pulls in libgmp-dev)\n"
      "  Fedora: dnf install mpfr-devel   macOS: brew install mpfr\n"
      "Or point CMAKE_PREFIX_PATH at an MPFR install, or configure with "
      "-DLOWPREC_BUILD_TESTS=OFF.")
  endif()
  add_library(lowprec_test_mpfr INTERFACE)
  target_include_directories(lowprec_test_mpfr SYSTEM INTERFACE
    ${LOWPREC_MPFR_INCLUDE_DIR} ${LOWPREC_GMP_INCLUDE_DIR})
  target_link_libraries(lowprec_test_mpfr INTERFACE ${LOWPREC_MPFR_LIBRARY} ${LOWPREC_GMP_LIBRARY})
  set(_lowprec_mpfr_libs lowprec_test_mpfr)
endif()

# A few million inputs: about 10 s in Release; set LOWPREC_TEST_SCALE=0.1 (or less) for
# sanitizer and debug builds.
lowprec_add_test(rounding_mpfr_test LABEL formats SOURCES rounding_mpfr_test.cpp
                 LIBS ${_lowprec_mpfr_libs} TIMEOUT 600)
