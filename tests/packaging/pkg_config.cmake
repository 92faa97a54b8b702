# packaging_pkg_config: a program compiled with `pkg-config --cflags --libs lowprec`
# against the staging prefix (PKG_CONFIG_PATH pointing into it) builds and runs.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")

pkg_check_pkg_config("pkg-config" "${PREFIX}" "${PKGCONFIGDIR}" "${WORK_DIR}")
