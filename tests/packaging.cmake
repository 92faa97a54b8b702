# Packaging tests (label: packaging). Conan and vcpkg cannot run here, so these prove
# what they rely on: the install tree, find_package and pkg-config consumers, a parent
# project that vendors the sources, the vcpkg portfile run through offline stand-ins,
# and the Conan recipe driven by a stand-in `conan` module. Drivers and consumer
# projects live in tests/packaging/; each test works in its own directory under
# <build>/tests/packaging/.
#
#   packaging_install             cmake --install into the staging prefix; layout, paths,
#                                 version file (fixture lowprec_staging)
#   packaging_find_package        test_package/ against the staging prefix
#   packaging_relocatable         install, move the prefix away, use it from there
#   packaging_pkg_config          a program built with `pkg-config --cflags --libs lowprec`
#   packaging_dep_*               Eigen 5 / too old / highway::highway / Highway missing
#   packaging_version_request     find_package(lowprec <next major>) is refused
#   packaging_add_subdirectory    lowprec vendored: only its target, nothing else
#   packaging_fetchcontent        the same through FetchContent from a local path
#   packaging_vcpkg_port          portfile through the stand-ins, layout, usage consumer
#   packaging_vcpkg_port_local    the portfile's LOWPREC_SOURCE_PATH branch
#   packaging_conan_recipe        conanfile.py + test_package/conanfile.py, stand-in conan
#   packaging_docs                docs/packaging.md's snippets, built as written
if(CMAKE_VERSION VERSION_LESS 3.19)
  message(STATUS "packaging tests need CMake 3.19 (string(JSON), file(REAL_PATH)); skipped")
  return()
endif()

set(_pk_src "${CMAKE_CURRENT_SOURCE_DIR}/packaging")
set(_pk_work "${CMAKE_CURRENT_BINARY_DIR}/packaging")
set(_pk_stage "${_pk_work}/stage")

get_property(_pk_multi GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
find_program(PKG_CONFIG_EXECUTABLE NAMES pkgconf pkg-config)
# Debian's interpreter by default (the pyenv one first on PATH is not the system's).
if(EXISTS /usr/bin/python3)
  set(_pk_python_default /usr/bin/python3)
else()
  find_program(_pk_python_default NAMES python3 python)
endif()
set(LOWPREC_PACKAGING_PYTHON "${_pk_python_default}" CACHE FILEPATH
    "Python 3 that runs the Conan recipe check")

# Consumers compile with our warnings: the public headers must be clean in user code.
set(_pk_consumer_flags "")
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set(_pk_consumer_flags "-Wall -Wextra -Wpedantic -Wconversion -Wshadow")
  if(LOWPREC_WERROR)
    string(APPEND _pk_consumer_flags " -Werror")
  endif()
endif()

# Where the install rules put things (cmake/lowprecInstall.cmake); empty if not installing.
set(_pk_layout
  "-DCMAKEDIR=${LOWPREC_INSTALL_CMAKEDIR}"
  "-DPKGCONFIGDIR=${LOWPREC_INSTALL_PKGCONFIGDIR}"
  "-DINCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR}"
  "-DCONFIGURED_PREFIX=${CMAKE_INSTALL_PREFIX}")

set(_pk_common
  "-DLOWPREC_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
  "-DLOWPREC_BINARY_DIR=${PROJECT_BINARY_DIR}"
  "-DPROJECT_VERSION=${PROJECT_VERSION}"
  "-DGENERATOR=${CMAKE_GENERATOR}"
  "-DGENERATOR_PLATFORM=${CMAKE_GENERATOR_PLATFORM}"
  "-DGENERATOR_TOOLSET=${CMAKE_GENERATOR_TOOLSET}"
  "-DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}"
  "-DMULTI_CONFIG=${_pk_multi}"
  "-DBUILD_TYPE=$<CONFIG>"
  "-DCXX_COMPILER=${CMAKE_CXX_COMPILER}"
  "-DCXX_COMPILER_ID=${CMAKE_CXX_COMPILER_ID}"
  "-DCONSUMER_CXX_FLAGS=${_pk_consumer_flags}"
  "-DPKG_CONFIG_EXECUTABLE=${PKG_CONFIG_EXECUTABLE}"
  "-DLIBRARY_ARCHITECTURE=${CMAKE_LIBRARY_ARCHITECTURE}"
  "-DEIGEN3_DIR=${Eigen3_DIR}"
  "-DHWY_DIR=${hwy_DIR}"
  ${_pk_layout})

# lowprec_packaging_test(<name> <driver.cmake> [ARGS -D...] [SETUP] [NEEDS_STAGE])
function(lowprec_packaging_test name driver)
  cmake_parse_arguments(P "SETUP;NEEDS_STAGE" "" "ARGS" ${ARGN})
  add_test(NAME packaging_${name}
           COMMAND "${CMAKE_COMMAND}" ${_pk_common} "-DWORK_DIR=${_pk_work}/${name}"
                   "-DPREFIX=${_pk_stage}" ${P_ARGS} -P "${_pk_src}/${driver}")
  set_tests_properties(packaging_${name} PROPERTIES LABELS packaging TIMEOUT 180)
  if(P_SETUP)
    set_tests_properties(packaging_${name} PROPERTIES FIXTURES_SETUP lowprec_staging)
  endif()
  if(P_NEEDS_STAGE)
    set_tests_properties(packaging_${name} PROPERTIES FIXTURES_REQUIRED lowprec_staging)
  endif()
endfunction()

if(LOWPREC_INSTALL)
  lowprec_packaging_test(install install.cmake SETUP)
  lowprec_packaging_test(find_package find_package.cmake NEEDS_STAGE)
  lowprec_packaging_test(relocatable relocate.cmake)
  foreach(_pk_scenario eigen5 eigen_too_old highway_conan_name missing_optional missing_required)
    lowprec_packaging_test(dep_${_pk_scenario} variants.cmake NEEDS_STAGE
                           ARGS "-DSCENARIO=${_pk_scenario}")
  endforeach()
  lowprec_packaging_test(version_request variants.cmake NEEDS_STAGE ARGS -DSCENARIO=version_request)
  if(PKG_CONFIG_EXECUTABLE)
    lowprec_packaging_test(pkg_config pkg_config.cmake NEEDS_STAGE)
  else()
    message(STATUS "pkg-config not found: packaging_pkg_config is not registered")
  endif()
  lowprec_packaging_test(docs docs.cmake NEEDS_STAGE)
else()
  message(STATUS "LOWPREC_INSTALL is OFF: install-based packaging tests are not registered")
endif()

lowprec_packaging_test(add_subdirectory add_subdirectory.cmake ARGS -DMODE=add_subdirectory)
lowprec_packaging_test(fetchcontent add_subdirectory.cmake ARGS -DMODE=FetchContent)
lowprec_packaging_test(vcpkg_port vcpkg_standin.cmake ARGS -DMODE=github)
lowprec_packaging_test(vcpkg_port_local vcpkg_standin.cmake ARGS -DMODE=local)

if(LOWPREC_PACKAGING_PYTHON)
  # -I: no user site, no PYTHONPATH, so the stand-in `conan` cannot be shadowed by a real
  # one; -B: no __pycache__ written into the source tree.
  add_test(NAME packaging_conan_recipe
           COMMAND "${LOWPREC_PACKAGING_PYTHON}" -I -B "${_pk_src}/check_conan_recipe.py"
                   --source-dir "${PROJECT_SOURCE_DIR}"
                   --work-dir "${_pk_work}/conan_recipe"
                   --expect-version "${PROJECT_VERSION}")
  set_tests_properties(packaging_conan_recipe PROPERTIES LABELS packaging TIMEOUT 60)
else()
  message(STATUS "no Python 3: packaging_conan_recipe is not registered")
endif()
