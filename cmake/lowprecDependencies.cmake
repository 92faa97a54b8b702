# Finds lowprec's two dependencies under every name package managers give them and
# sets LOWPREC_EIGEN_TARGET / LOWPREC_HWY_TARGET. Shared by the build tree and by the
# installed lowprecConfig.cmake (which includes this same file), so both agree.
#
# Eigen: its CMake version file says SameMajorVersion and Eigen jumped 3.4 -> 5.0, so
# find_package(Eigen3 3.4) rejects 5.x and a range "3.4...5" is rejected by Debian's
# 3.4.0. We ask without a version and check Eigen3_VERSION ourselves.
# Highway: Debian, upstream and vcpkg export hwy::hwy; ConanCenter exports highway::highway.
#
# A missing dependency stops the build tree's configure. Included from the installed
# lowprecConfig.cmake (which sets _lowprec_from_config), it must instead make
# find_package(lowprec) fail with the reason -- an error only if the consumer said
# REQUIRED -- so the macro sets lowprec_FOUND / lowprec_NOT_FOUND_MESSAGE and leaves
# this file (return() in a macro returns from the file that called it).
macro(_lowprec_dependency_missing reason)
  if(_lowprec_from_config)
    set(lowprec_FOUND FALSE)
    set(lowprec_NOT_FOUND_MESSAGE "${reason}")
    return()
  endif()
  message(FATAL_ERROR "${reason}")
endmacro()

if(NOT TARGET Eigen3::Eigen)
  find_package(Eigen3 NO_MODULE QUIET)
  if(NOT Eigen3_FOUND)
    _lowprec_dependency_missing("lowprec needs Eigen 3.4 or newer (Debian: apt-get install libeigen3-dev)")
  endif()
endif()
if(DEFINED Eigen3_VERSION AND Eigen3_VERSION VERSION_LESS 3.4)
  _lowprec_dependency_missing("lowprec needs Eigen 3.4 or newer; found ${Eigen3_VERSION}")
endif()
set(LOWPREC_EIGEN_TARGET Eigen3::Eigen)

if(TARGET hwy::hwy)
  set(LOWPREC_HWY_TARGET hwy::hwy)
elseif(TARGET highway::highway)
  set(LOWPREC_HWY_TARGET highway::highway)
else()
  find_package(hwy CONFIG QUIET)
  if(TARGET hwy::hwy)
    set(LOWPREC_HWY_TARGET hwy::hwy)
  else()
    find_package(highway CONFIG QUIET)
    if(TARGET highway::highway)
      set(LOWPREC_HWY_TARGET highway::highway)
    else()
      _lowprec_dependency_missing("lowprec needs Google Highway 1.0.3 or newer (Debian: \
apt-get install libhwy-dev; Conan: highway; vcpkg: highway)")
    endif()
  endif()
endif()
