// The second translation unit of odr_test.cpp.
#include <functional>

#include "lowprec/lowprec.hpp"

lowprec::bf16 odr_second_tu_pi() { return lowprec::bf16(3.14159265f); }
std::size_t odr_second_tu_hash(lowprec::fp16 x) { return std::hash<lowprec::fp16>{}(x); }
