# packaging_install (fixture setup): `cmake --install` into the staging prefix PREFIX,
# then check what Conan, vcpkg and distributions rely on in the installed tree:
#   - exactly the headers of include/, the CMake package files and lowprec.pc, nothing
#     under lib/ or bin/ (architecture-independent: one install serves every target);
#   - no absolute path of this machine in any file (relocatable);
#   - the version file: compatible with any pointer size (ARCH_INDEPENDENT), with
#     requests of the same minor version before 1.0 (same major after), and with none else.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

pkg_install("${PREFIX}")

foreach(file "${CMAKEDIR}/lowprecConfig.cmake" "${CMAKEDIR}/lowprecConfigVersion.cmake"
             "${CMAKEDIR}/lowprecTargets.cmake" "${CMAKEDIR}/lowprecDependencies.cmake"
             "${PKGCONFIGDIR}/lowprec.pc" "${INCLUDEDIR}/lowprec/bf16.hpp")
  if(NOT EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "the install lacks ${file}")
  endif()
endforeach()
pkg_check_headers("install" "${PREFIX}/${INCLUDEDIR}")

# Nothing outside the three places a header-only package owns.
pkg_list_files(all "${PREFIX}")
foreach(file IN LISTS all)
  if(NOT file MATCHES "^(${INCLUDEDIR}/lowprec|${CMAKEDIR}|${PKGCONFIGDIR})/")
    message(FATAL_ERROR "unexpected installed file ${file}: a header-only, architecture-"
                        "independent package installs only headers, ${CMAKEDIR} and ${PKGCONFIGDIR}")
  endif()
endforeach()

pkg_check_no_strings("install" "${PREFIX}" "${LOWPREC_SOURCE_DIR}" "${LOWPREC_BINARY_DIR}"
                     "${PREFIX}" "${EIGEN3_DIR}" "${HWY_DIR}" "${LIBRARY_ARCHITECTURE}")
# Nor the prefix the build was configured for (the package files only: a header comment
# may well name /usr/local).
pkg_check_no_strings("install (package files)" "${PREFIX}/${CMAKEDIR}" "${CONFIGURED_PREFIX}")
pkg_check_no_strings("install (package files)" "${PREFIX}/${PKGCONFIGDIR}" "${CONFIGURED_PREFIX}")

# The version file, evaluated as find_package() does: the requested version in
# PACKAGE_FIND_VERSION*, the consumer's pointer size in CMAKE_SIZEOF_VOID_P.
function(check_version_request request sizeof_void_p expect)
  set(PACKAGE_FIND_NAME lowprec)
  set(PACKAGE_FIND_VERSION "${request}")
  string(REPLACE "." ";" parts "${request}")
  list(LENGTH parts PACKAGE_FIND_VERSION_COUNT)
  list(APPEND parts 0 0 0)
  list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
  list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
  list(GET parts 2 PACKAGE_FIND_VERSION_PATCH)
  set(PACKAGE_FIND_VERSION_TWEAK 0)
  set(CMAKE_SIZEOF_VOID_P ${sizeof_void_p})
  include("${PREFIX}/${CMAKEDIR}/lowprecConfigVersion.cmake")
  if(NOT PACKAGE_VERSION STREQUAL PROJECT_VERSION)
    message(FATAL_ERROR "lowprecConfigVersion.cmake says ${PACKAGE_VERSION}, the project is ${PROJECT_VERSION}")
  endif()
  set(ok FALSE)
  if(PACKAGE_VERSION_COMPATIBLE AND NOT PACKAGE_VERSION_UNSUITABLE)
    set(ok TRUE)
  endif()
  if(NOT ok STREQUAL expect)
    message(FATAL_ERROR "find_package(lowprec ${request}) from a consumer with "
                        "CMAKE_SIZEOF_VOID_P=${sizeof_void_p}: compatible=${ok}, expected ${expect} "
                        "(COMPATIBLE=${PACKAGE_VERSION_COMPATIBLE} UNSUITABLE=${PACKAGE_VERSION_UNSUITABLE})")
  endif()
endfunction()

string(REPLACE "." ";" v "${PROJECT_VERSION}")
list(GET v 0 major)
list(GET v 1 minor)
math(EXPR next_major "${major} + 1")
math(EXPR next_minor "${minor} + 1")
check_version_request("${PROJECT_VERSION}" 8 TRUE)
check_version_request("${PROJECT_VERSION}" 4 TRUE)          # a 32-bit consumer: ARCH_INDEPENDENT
check_version_request("${major}.${minor}" 4 TRUE)
check_version_request("${next_major}.0" 8 FALSE)
check_version_request("${major}.${next_minor}" 8 FALSE)     # newer than what is installed
if(major EQUAL 0 AND minor GREATER 0)
  math(EXPR prev_minor "${minor} - 1")
  check_version_request("0.${prev_minor}" 8 FALSE)          # 0.x: a minor release may break
endif()
message(STATUS "ok: version file: ${PROJECT_VERSION}, architecture-independent")
