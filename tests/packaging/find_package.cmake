# packaging_find_package: test_package/ (the Conan test package) configured, built and
# run against the staging prefix with find_package(lowprec CONFIG REQUIRED); it must find
# the staged lowprec and compile against the staged headers.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

pkg_consumer("test_package" SOURCE "${LOWPREC_SOURCE_DIR}/test_package" BINARY "${WORK_DIR}/build"
             ARGS "-DCMAKE_PREFIX_PATH=${PREFIX}" RUN test_package)
pkg_check_found_in("test_package" "${WORK_DIR}/build" "${PREFIX}")
