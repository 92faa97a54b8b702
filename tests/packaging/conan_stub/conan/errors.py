"""Stand-in for conan.errors (Conan 2)."""


class ConanException(Exception):
    pass


class ConanInvalidConfiguration(ConanException):
    pass
