// How error messages quote a floating-point argument: the shortest decimal that reads back
// as the value in its own type. std::to_string prints 1e-9 as 0.000000 (and -1e-9 as
// -0.000000), which hides the very value that was rejected.
#pragma once

#include <limits>
#include <locale>
#include <sstream>
#include <string>
#include <type_traits>

namespace lowprec::detail {

// shortest_decimal(1e-9) is "1e-09", shortest_decimal(1.1) is "1.1" (not
// 1.1000000000000001), shortest_decimal(0.1f) is "0.1" (the float, not the double it
// widens to); inf, -inf and nan are spelled so. Classic locale: '.' whatever the global
// locale says.
template <class T>
std::string shortest_decimal(T x) {
  static_assert(std::is_floating_point<T>::value, "shortest_decimal quotes floating-point values");
  std::string out;
  for (int digits = 1; digits <= std::numeric_limits<T>::max_digits10; ++digits) {
    std::ostringstream s;
    s.imbue(std::locale::classic());
    s.precision(digits);
    s << x;
    out = s.str();
    std::istringstream back(out);
    back.imbue(std::locale::classic());
    T y{};
    if ((back >> y) && y == x) break;
  }
  return out;  // inf, -inf and nan never read back: the last, equally short, spelling
}

}  // namespace lowprec::detail
