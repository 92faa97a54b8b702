"""Conan 2 recipe for lowprec, a header-only C++17 library of low-precision number formats.

`conan create . --build=missing` packages this checkout and runs test_package/.
The recipe is checked offline by tests/packaging/check_conan_recipe.py (ctest -L packaging).
"""
import os
import re

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class LowprecConan(ConanFile):
    name = "lowprec"
    description = ("Header-only C++17 low-precision number formats for machine learning: "
                   "fp16, bf16, fp8 (E4M3FN, E5M2) and friends")
    license = "MIT"
    url = "https://github.com/lowprec/lowprec"
    homepage = "https://github.com/lowprec/lowprec"
    topics = ("bfloat16", "float16", "fp8", "quantization", "low-precision", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*", "LICENSE*"
    no_copy_source = True

    def set_version(self):
        # One source of truth: project(lowprec VERSION x.y.z) in CMakeLists.txt.
        if self.version:
            return
        cmakelists = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        match = re.search(r"project\(\s*lowprec\s+VERSION\s+(\d+\.\d+\.\d+)", cmakelists)
        if not match:
            raise ConanException("no 'project(lowprec VERSION x.y.z)' in CMakeLists.txt")
        self.version = match.group(1)

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        # lowprec's public headers include Eigen's and Highway's, and Highway's library
        # (libhwy) is called from them: both are visible to lowprec's consumers.
        # Eigen went from 3.4 straight to 5.0; both are supported.
        self.requires("eigen/[>=3.4.0 <6]", transitive_headers=True)
        self.requires("highway/[>=1.0.3 <2]", transitive_headers=True, transitive_libs=True)

    def validate(self):
        check_min_cppstd(self, 17)

    def package_id(self):
        self.info.clear()

    def package(self):
        copy(self, "LICENSE*", src=self.source_folder,
             dst=os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", src=os.path.join(self.source_folder, "include"),
             dst=os.path.join(self.package_folder, "include"))
        copy(self, "*.h", src=os.path.join(self.source_folder, "include"),
             dst=os.path.join(self.package_folder, "include"))

    def package_info(self):
        # The same names as lowprec's own CMake package and lowprec.pc.
        self.cpp_info.set_property("cmake_file_name", "lowprec")
        self.cpp_info.set_property("cmake_target_name", "lowprec::lowprec")
        self.cpp_info.set_property("pkg_config_name", "lowprec")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
