# Install rules: a relocatable, architecture-independent package.
#
#   <prefix>/include/lowprec/**                   the headers, nothing else is compiled
#   <prefix>/share/cmake/lowprec/                 (LOWPREC_INSTALL_CMAKEDIR)
#       lowprecConfig.cmake                       finds Eigen + Highway, defines lowprec::lowprec
#       lowprecConfigVersion.cmake                ARCH_INDEPENDENT: a 32-bit consumer may use it
#       lowprecTargets.cmake                      the exported INTERFACE target
#       lowprecDependencies.cmake                 the same dependency logic as the build tree
#   <prefix>/share/pkgconfig/lowprec.pc           prefix derived from ${pcfiledir}
#
# Everything lives under share/, never lib/: there is no binary, so one install serves
# every architecture (Debian's "Architecture: all", vcpkg's and Conan's header-only
# packages). No absolute path is written into any installed file, so the prefix can be
# moved or copied (tests/packaging.cmake proves both properties).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LOWPREC_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/lowprec" CACHE STRING
    "Where lowprecConfig.cmake is installed (relative to the prefix)")
set(LOWPREC_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig" CACHE STRING
    "Where lowprec.pc is installed (relative to the prefix)")
mark_as_advanced(LOWPREC_INSTALL_CMAKEDIR LOWPREC_INSTALL_PKGCONFIGDIR)
foreach(_lowprec_dir LOWPREC_INSTALL_CMAKEDIR LOWPREC_INSTALL_PKGCONFIGDIR CMAKE_INSTALL_INCLUDEDIR)
  if(IS_ABSOLUTE "${${_lowprec_dir}}")
    message(FATAL_ERROR "${_lowprec_dir} must be relative to the install prefix for the "
                        "package to stay relocatable; got ${${_lowprec_dir}}")
  endif()
endforeach()

install(TARGETS lowprec EXPORT lowprecTargets
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/lowprec"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(EXPORT lowprecTargets
        NAMESPACE lowprec::
        DESTINATION "${LOWPREC_INSTALL_CMAKEDIR}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/lowprecConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/lowprecConfig.cmake"
  INSTALL_DESTINATION "${LOWPREC_INSTALL_CMAKEDIR}"
  NO_SET_AND_CHECK_MACRO)
# Before 1.0 a minor release may break the API, so 0.x promises only same-minor
# compatibility; from 1.0 on, same major.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_lowprec_compat SameMinorVersion)
else()
  set(_lowprec_compat SameMajorVersion)
endif()
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/lowprecConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY ${_lowprec_compat}
  ARCH_INDEPENDENT)
install(FILES
          "${PROJECT_BINARY_DIR}/lowprecConfig.cmake"
          "${PROJECT_BINARY_DIR}/lowprecConfigVersion.cmake"
          "${PROJECT_SOURCE_DIR}/cmake/lowprecDependencies.cmake"
        DESTINATION "${LOWPREC_INSTALL_CMAKEDIR}")

# pkg-config: prefix is found from the .pc file's own location, e.g. "../.." from
# share/pkgconfig, so the file is right wherever the prefix ends up.
file(RELATIVE_PATH LOWPREC_PC_TO_PREFIX "/prefix/${LOWPREC_INSTALL_PKGCONFIGDIR}" "/prefix")
string(REGEX REPLACE "/$" "" LOWPREC_PC_TO_PREFIX "${LOWPREC_PC_TO_PREFIX}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/lowprec.pc.in"
               "${PROJECT_BINARY_DIR}/lowprec.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/lowprec.pc"
        DESTINATION "${LOWPREC_INSTALL_PKGCONFIGDIR}")

unset(_lowprec_dir)
unset(_lowprec_links)
unset(_lowprec_link)
unset(_lowprec_build_links)
unset(_lowprec_compat)
unset(_lowprec_includes)
