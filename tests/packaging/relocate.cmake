# packaging_relocatable: install into one directory, move it to another (the original
# is gone), and use it from there through CMake and through pkg-config. A path baked in
# at install time would point at the vanished directory.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

set(original "${WORK_DIR}/original-prefix")
set(moved "${WORK_DIR}/moved/elsewhere")
file(REMOVE_RECURSE "${WORK_DIR}/moved")
pkg_install("${original}")
file(MAKE_DIRECTORY "${WORK_DIR}/moved")
file(RENAME "${original}" "${moved}")
if(EXISTS "${original}")
  message(FATAL_ERROR "${original} still exists after the move")
endif()

pkg_consumer("test_package, moved prefix" SOURCE "${LOWPREC_SOURCE_DIR}/test_package"
             BINARY "${WORK_DIR}/build" ARGS "-DCMAKE_PREFIX_PATH=${moved}" RUN test_package)
pkg_check_found_in("test_package, moved prefix" "${WORK_DIR}/build" "${moved}")

if(PKG_CONFIG_EXECUTABLE)
  pkg_check_pkg_config("pkg-config, moved prefix" "${moved}" "${PKGCONFIGDIR}" "${WORK_DIR}/pc")
else()
  message(STATUS "pkg-config not available: the .pc half of this test is skipped")
endif()
