# packaging_add_subdirectory, packaging_fetchcontent: a parent project that builds
# lowprec from source (MODE add_subdirectory or FetchContent). The parent configures and
# builds; its test list holds only its own test (lowprec's tests are not built); and
# its install holds only its own files (lowprec's install rules are off).
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

set(bin "${WORK_DIR}/build")
pkg_consumer("${MODE} parent" SOURCE "${CMAKE_CURRENT_LIST_DIR}/add_subdirectory" BINARY "${bin}"
             ARGS "-DLOWPREC_SOURCE_DIR=${LOWPREC_SOURCE_DIR}" "-DLOWPREC_CONSUMER_MODE=${MODE}"
             RUN consumer)

set(config_args "")
if(BUILD_TYPE)
  set(config_args -C "${BUILD_TYPE}")
endif()
pkg_exec("${MODE} parent: ctest -N" WORKING_DIRECTORY "${bin}" OUTPUT_VARIABLE listing
         COMMAND "${CMAKE_CTEST_COMMAND}" -N ${config_args})
string(REGEX MATCHALL "Test +#[0-9]+: [^\n]+" tests "${listing}")
if(NOT tests MATCHES "^Test +#1: consumer$")
  message(FATAL_ERROR "the parent's tests should be just 'consumer'; ctest -N lists:\n${listing}")
endif()

set(prefix "${WORK_DIR}/install")
file(REMOVE_RECURSE "${prefix}")
if(BUILD_TYPE)
  set(config_args --config "${BUILD_TYPE}")
endif()
pkg_exec("${MODE} parent: install" COMMAND "${CMAKE_COMMAND}" -E env --unset=DESTDIR
         "${CMAKE_COMMAND}" --install "${bin}" --prefix "${prefix}" ${config_args})
pkg_list_files(installed "${prefix}")
list(FILTER installed EXCLUDE REGEX "^bin/consumer(\\.exe)?$")
if(installed)
  message(FATAL_ERROR "installing the parent also installed lowprec's files: ${installed}")
endif()
