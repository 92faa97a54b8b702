# Eigen's own policy: SameMajorVersion. So find_package(Eigen3 3.4) rejects this stub
# when it says 5.0.1 -- which is why lowprec asks without a version.
set(PACKAGE_VERSION "${LOWPREC_STUB_EIGEN_VERSION}")
set(PACKAGE_VERSION_COMPATIBLE TRUE)
if(PACKAGE_FIND_VERSION)
  string(REGEX MATCH "^[0-9]+" _stub_major "${PACKAGE_VERSION}")
  if(PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION
     OR NOT _stub_major STREQUAL PACKAGE_FIND_VERSION_MAJOR)
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
  endif()
  if(PACKAGE_VERSION VERSION_EQUAL PACKAGE_FIND_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
