// Umbrella header: every lowprec component that needs only the standard library.
#pragma once

#include "lowprec/bf16.hpp"
#include "lowprec/fp16.hpp"
#include "lowprec/fp8.hpp"
#include "lowprec/policy.hpp"
#include "lowprec/small_float.hpp"
#include "lowprec/version.hpp"
