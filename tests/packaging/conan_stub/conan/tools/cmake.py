"""Stand-in for conan.tools.cmake: records what the recipe asks CMake to do."""
import os


def cmake_layout(conanfile, generator=None, src_folder=".", build_folder="build"):
    build_type = conanfile.settings.get_safe("build_type") or "Release"
    conanfile.folders.source = src_folder
    conanfile.folders.build = os.path.join(build_folder, build_type)
    conanfile.folders.generators = os.path.join(conanfile.folders.build, "generators")
    conanfile.cpp.build.bindirs = ["."]
    conanfile.cpp.build.libdirs = ["."]
    conanfile._calls.append(("cmake_layout", src_folder, build_folder))


class CMake:
    def __init__(self, conanfile):
        self._conanfile = conanfile

    def configure(self, variables=None, build_script_folder=None, cli_args=None):
        self._conanfile._calls.append(("CMake.configure", variables, build_script_folder))

    def build(self, build_type=None, target=None, cli_args=None, build_tool_args=None):
        self._conanfile._calls.append(("CMake.build", target))

    def install(self, build_type=None, component=None):
        self._conanfile._calls.append(("CMake.install",))

    def test(self, build_type=None, target=None, cli_args=None, build_tool_args=None, env=""):
        self._conanfile._calls.append(("CMake.test",))


class CMakeToolchain:
    def __init__(self, conanfile, generator=None):
        self._conanfile = conanfile
        self.variables = {}
        self.cache_variables = {}
        self.preprocessor_definitions = {}

    def generate(self):
        self._conanfile._calls.append(("CMakeToolchain.generate",))


class CMakeDeps:
    def __init__(self, conanfile):
        self._conanfile = conanfile

    def set_property(self, dep, prop, value, build_context=False):
        pass

    def generate(self):
        self._conanfile._calls.append(("CMakeDeps.generate",))
