# packaging_dep_*, packaging_version_request: find_package(lowprec) from the staging
# prefix under the dependency names and versions users meet (REFERENCE.md section 1):
#   eigen5              Eigen 5.0.1 (vcpkg, Conan) is accepted
#   eigen_too_old       Eigen 3.3.9 is refused with a message naming both versions
#   highway_conan_name  only highway::highway exists (ConanCenter): it is linked
#   missing_optional    no Highway, find_package without REQUIRED: not found, no error
#   missing_required    no Highway, REQUIRED: a configure error that says what to install
#   version_request     find_package(lowprec <next major>) is refused
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

set(src "${CMAKE_CURRENT_LIST_DIR}/variants")
set(bin "${WORK_DIR}/build")
set(stubs "${CMAKE_CURRENT_LIST_DIR}/stubs")
set(common_args "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DLOWPREC_SOURCE_DIR=${LOWPREC_SOURCE_DIR}")
# With the Eigen stub, the real Eigen's config must not answer in its place.
set(eigen_stub "-DEigen3_DIR=${stubs}/eigen")
if(EIGEN3_DIR)
  list(APPEND eigen_stub "-DCMAKE_IGNORE_PATH=${EIGEN3_DIR}")
endif()
string(REGEX MATCH "^[0-9]+\\.[0-9]+" major_minor "${PROJECT_VERSION}")
string(REGEX MATCH "^[0-9]+" major "${PROJECT_VERSION}")
math(EXPR next_major "${major} + 1")
set(no_highway -DCMAKE_DISABLE_FIND_PACKAGE_hwy=ON -DCMAKE_DISABLE_FIND_PACKAGE_highway=ON)

if(SCENARIO STREQUAL "eigen5")
  pkg_consumer("Eigen 5.0.1" SOURCE "${src}" BINARY "${bin}" RUN variant
               ARGS ${common_args} ${eigen_stub} -DLOWPREC_STUB_EIGEN_VERSION=5.0.1
                    "-DVARIANT_REQUEST=${major_minor}" -DVARIANT_EXPECT_EIGEN_VERSION=5.0.1
                    -DVARIANT_EXPECT_LINKS=Eigen3::Eigen)
elseif(SCENARIO STREQUAL "eigen_too_old")
  pkg_consumer("Eigen 3.3.9" SOURCE "${src}" BINARY "${bin}"
               ARGS ${common_args} ${eigen_stub} -DLOWPREC_STUB_EIGEN_VERSION=3.3.9
               CONFIGURE_FAILS "lowprec needs Eigen 3.4 or newer; found 3.3.9")
elseif(SCENARIO STREQUAL "highway_conan_name")
  pkg_consumer("highway::highway" SOURCE "${src}" BINARY "${bin}" RUN variant
               ARGS ${common_args} -DCMAKE_DISABLE_FIND_PACKAGE_hwy=ON "-Dhighway_DIR=${stubs}/highway"
                    "-DVARIANT_EXPECT_LINKS=highway::highway,Eigen3::Eigen")
elseif(SCENARIO STREQUAL "missing_optional")
  pkg_consumer("no Highway, optional" SOURCE "${src}" BINARY "${bin}" OUTPUT_VARIABLE out
               ARGS ${common_args} ${no_highway} -DVARIANT_OPTIONAL=ON
                    "-DVARIANT_EXPECT_REASON=lowprec needs Google Highway")
elseif(SCENARIO STREQUAL "missing_required")
  pkg_consumer("no Highway, REQUIRED" SOURCE "${src}" BINARY "${bin}"
               ARGS ${common_args} ${no_highway}
               CONFIGURE_FAILS "lowprec needs Google Highway 1.0.3 or newer \\(Debian: apt-get install libhwy-dev")
elseif(SCENARIO STREQUAL "version_request")
  pkg_consumer("find_package(lowprec ${next_major}.0)" SOURCE "${src}" BINARY "${bin}"
               ARGS ${common_args} "-DVARIANT_REQUEST=${next_major}.0"
               CONFIGURE_FAILS "lowprecConfig.cmake, version: ${PROJECT_VERSION}")
else()
  message(FATAL_ERROR "unknown SCENARIO '${SCENARIO}'")
endif()
