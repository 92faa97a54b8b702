# Test double for ConanCenter's Highway package: CMakeDeps names it
# find_package(highway) -> highway::highway (upstream, Debian and vcpkg say hwy::hwy).
# It wraps the real library, so a consumer links and runs as with Conan's.
find_path(LOWPREC_STUB_HWY_INCLUDE_DIR hwy/highway.h REQUIRED)
find_library(LOWPREC_STUB_HWY_LIBRARY NAMES hwy REQUIRED)
if(NOT TARGET highway::highway)
  add_library(highway::highway UNKNOWN IMPORTED)
  set_target_properties(highway::highway PROPERTIES
    IMPORTED_LOCATION "${LOWPREC_STUB_HWY_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LOWPREC_STUB_HWY_INCLUDE_DIR}")
endif()
set(highway_FOUND TRUE)
