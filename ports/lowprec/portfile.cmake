# vcpkg port for lowprec, a header-only library: one release configuration, no debug tree.
set(VCPKG_BUILD_TYPE release)

if(DEFINED LOWPREC_SOURCE_PATH)
  # Build a local checkout instead of the release archive: set LOWPREC_SOURCE_PATH in a
  # custom triplet and install with --no-binarycaching (vcpkg does not hash local sources).
  set(SOURCE_PATH "${LOWPREC_SOURCE_PATH}")
else()
  vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO lowprec/lowprec
    REF "v${VERSION}"
    SHA512 0  # placeholder: vcpkg reports the archive's real SHA512 on first install
    HEAD_REF main)
endif()

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DLOWPREC_BUILD_TESTS=OFF
    -DLOWPREC_BUILD_EXAMPLES=OFF
    -DLOWPREC_BUILD_BENCHMARKS=OFF
    -DLOWPREC_INSTALL=ON)
vcpkg_cmake_install()
# lowprec installs its CMake package under share/cmake/lowprec; vcpkg wants share/lowprec.
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/lowprec)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
