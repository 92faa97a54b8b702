// lowprec's version, as numbers and as a string.
#pragma once

#include "lowprec/detail/config.hpp"

namespace lowprec {

inline constexpr int version_major = LOWPREC_VERSION_MAJOR;
inline constexpr int version_minor = LOWPREC_VERSION_MINOR;
inline constexpr int version_patch = LOWPREC_VERSION_PATCH;
inline constexpr const char* version_string = "0.1.0";

}  // namespace lowprec
