"""Stand-in for conan.tools.build: check_min_cppstd, can_run."""
from conan.errors import ConanInvalidConfiguration


def _year(cppstd):
    value = int(str(cppstd).replace("gnu", ""))
    return value + 2000 if value < 90 else value + 1900   # 98 -> 1998, 17 -> 2017


def check_min_cppstd(conanfile, cppstd, gnu_extensions=False):
    # Conan 2 falls back to the compiler's default standard when compiler.cppstd is
    # unset; the stand-in does not model defaults and checks only an explicit setting.
    current = conanfile.settings.get_safe("compiler.cppstd")
    conanfile._calls.append(("check_min_cppstd", str(cppstd), current))
    if current is not None and _year(current) < _year(cppstd):
        raise ConanInvalidConfiguration(
            f"Current cppstd ({current}) is lower than the required C++ standard ({cppstd}).")


def can_run(conanfile):
    return True
