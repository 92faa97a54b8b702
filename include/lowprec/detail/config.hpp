// Compiler facts and user-overridable macros. Kept deliberately small: a fact
// goes here only when two or more headers need it.
#pragma once

#include <cassert>

#define LOWPREC_VERSION_MAJOR 0
#define LOWPREC_VERSION_MINOR 1
#define LOWPREC_VERSION_PATCH 0

// LOWPREC_ASSERT checks preconditions that are the caller's contract (not run-time
// input errors, which throw). Users may define it before including lowprec.
#ifndef LOWPREC_ASSERT
#define LOWPREC_ASSERT(cond) assert(cond)
#endif

#ifdef __has_builtin
#define LOWPREC_HAS_BUILTIN(x) __has_builtin(x)
#else
#define LOWPREC_HAS_BUILTIN(x) 0
#endif

// A constexpr bit cast: C++17 has no std::bit_cast, but GCC >= 11, Clang >= 9 and
// MSVC >= 19.27 provide the builtin that C++20's std::bit_cast is made of. Without it
// the cast falls back to memcpy and lowprec's float constructors are not constexpr.
#if LOWPREC_HAS_BUILTIN(__builtin_bit_cast) || (defined(_MSC_VER) && _MSC_VER >= 1927)
#define LOWPREC_HAS_CONSTEXPR_BIT_CAST 1
#define LOWPREC_BIT_CAST_CONSTEXPR constexpr
#else
#define LOWPREC_HAS_CONSTEXPR_BIT_CAST 0
#define LOWPREC_BIT_CAST_CONSTEXPR
#endif
