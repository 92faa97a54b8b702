"""Stand-in for conan.tools.layout."""
import os


def basic_layout(conanfile, src_folder=".", build_folder=None):
    build_type = conanfile.settings.get_safe("build_type")
    conanfile.folders.source = src_folder
    conanfile.folders.build = build_folder or ("build-" + build_type.lower() if build_type else "build")
    conanfile.folders.generators = os.path.join(conanfile.folders.build, "conan")
    conanfile.cpp.build.bindirs = ["."]
    conanfile.cpp.build.libdirs = ["."]
    conanfile._calls.append(("basic_layout", src_folder))
