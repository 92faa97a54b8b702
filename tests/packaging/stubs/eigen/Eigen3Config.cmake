# Test double for an Eigen whose version the test chooses (LOWPREC_STUB_EIGEN_VERSION):
# 5.0.1 as vcpkg and Conan ship it, or 3.3.9 to be rejected. It reuses the real headers;
# only the version and the config file's location differ.
find_path(LOWPREC_STUB_EIGEN_INCLUDE_DIR signature_of_eigen3_matrix_library
          PATH_SUFFIXES eigen3 REQUIRED)
if(NOT TARGET Eigen3::Eigen)
  add_library(Eigen3::Eigen INTERFACE IMPORTED)
  set_target_properties(Eigen3::Eigen PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${LOWPREC_STUB_EIGEN_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "LOWPREC_STUB_EIGEN_VERSION=\"${LOWPREC_STUB_EIGEN_VERSION}\"")
endif()
