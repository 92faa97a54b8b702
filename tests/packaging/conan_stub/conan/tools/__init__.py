"""Stand-in for conan.tools (Conan 2)."""
