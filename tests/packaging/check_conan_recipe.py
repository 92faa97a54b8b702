"""packaging_conan_recipe: conanfile.py and test_package/conanfile.py, imported against the
stand-in `conan` package (tests/packaging/conan_stub) and driven as `conan create` would:
export the sources, layout, requirements, validate, package into a temporary folder,
package_info, package_id; then the test package's requirements, build and test.

Every check that fails is reported (not only the first); the exit status is 1 if any did.
Run with -I -B (see tests/packaging.cmake): no PYTHONPATH, no user site, no bytecode files.
"""
import argparse
import importlib.util
import inspect
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True
STUB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conan_stub")
sys.path.insert(0, STUB_DIR)

import conan  # noqa: E402  (the stand-in, first on sys.path)
from conan.errors import ConanInvalidConfiguration  # noqa: E402
from conan.tools.files import copy as conan_copy  # noqa: E402

FAILURES = []


def check(condition, message):
    if condition:
        print(f"ok: {message}")
    else:
        print(f"FAIL: {message}")
        FAILURES.append(message)
    return condition


# ---- Conan 2 version ranges, as far as the recipe may use them ------------------------
def _version_key(text):
    parts = [int(p) for p in re.findall(r"\d+", text)]
    return tuple(parts + [0] * (4 - len(parts)))


def _satisfies_condition(version, condition):
    match = re.fullmatch(r"(>=|<=|>|<|=|~|\^)?\s*(\d+(?:\.\d+)*)", condition)
    if not match:
        raise ValueError(f"range condition '{condition}' is not understood by this check")
    op, bound = match.group(1) or "=", match.group(2)
    v, b = _version_key(version), _version_key(bound)
    if op == ">=":
        return v >= b
    if op == ">":
        return v > b
    if op == "<=":
        return v <= b
    if op == "<":
        return v < b
    if op == "=":
        return v == b
    n = len(bound.split("."))
    if op == "~":    # same leading components (all but the last given)
        keep = max(n - 1, 1)
        return v >= b and v[:keep] == b[:keep]
    # "^": same first non-zero component
    first = next((i for i, x in enumerate(b) if x != 0), len(b) - 1)
    return v >= b and v[:first + 1] == b[:first + 1]


def accepts(reference, version):
    """Whether the requirement 'name/<version or [range]>' accepts `version`."""
    spec = reference.split("/", 1)[1].split("@")[0]
    if not (spec.startswith("[") and spec.endswith("]")):
        return _version_key(spec) == _version_key(version)
    body = spec[1:-1].split(",")[0]   # options after a comma (include_prerelease) ignored
    return any(all(_satisfies_condition(version, c) for c in alt.split())
               for alt in body.split("||"))


# ---- loading a recipe --------------------------------------------------------------------
def load_recipe(path, module_name):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, conan.ConanFile) and c is not conan.ConanFile
               and c.__module__ == module_name]
    if len(classes) != 1:
        raise SystemExit(f"FAIL: {path} defines {len(classes)} ConanFile classes, expected 1")
    return module, classes[0]


def file_set(root):
    found = set()
    for dirpath, _, files in os.walk(root):
        for name in files:
            found.add(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return found


def as_tuple(value):
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--expect-version", required=True)
    args = parser.parse_args()
    src = os.path.abspath(args.source_dir)
    work = os.path.abspath(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    check(getattr(conan, "STAND_IN", False) and conan.__file__.startswith(STUB_DIR),
          f"the stand-in conan package is the one imported ({conan.__file__})")

    # ---- conanfile.py: declarations ----
    module, Recipe = load_recipe(os.path.join(src, "conanfile.py"), "lowprec_conanfile")
    check(str(getattr(module, "required_conan_version", "")).startswith(">=2"),
          "required_conan_version asks for Conan 2")
    recipe = Recipe(recipe_folder=src, settings={
        "os": "Linux", "arch": "x86_64", "compiler": "gcc", "compiler.version": "12",
        "compiler.cppstd": "17", "build_type": "Release"})
    if hasattr(recipe, "set_version"):
        recipe.set_version()
    check(recipe.name == "lowprec", f"name is lowprec ({recipe.name})")
    check(recipe.version == args.expect_version,
          f"version {recipe.version} equals CMakeLists.txt's project version {args.expect_version}")
    check(recipe.package_type == "header-library", f"package_type is header-library ({recipe.package_type})")
    check(recipe.no_copy_source is True, "no_copy_source = True")
    settings = set(as_tuple(Recipe.settings))
    check({"os", "arch", "compiler", "build_type"} <= settings,
          f"settings declare os, arch, compiler, build_type ({sorted(settings)})")
    for field in ("license", "description", "homepage", "url", "topics"):
        check(bool(getattr(recipe, field, None)), f"{field} is set")
    check(not getattr(Recipe, "options", None), "no options (a header-only package has no variants)")

    # ---- export: what `conan create` copies into the cache ----
    export = os.path.join(work, "export_sources")
    if hasattr(recipe, "export_sources"):
        recipe.export_sources_folder = export
        recipe.export_sources()
    for pattern in as_tuple(Recipe.exports_sources):
        conan_copy(recipe, pattern, src, export)
    headers = {p for p in file_set(os.path.join(src, "include"))}
    exported = file_set(export)
    check(headers and {"include/" + h for h in headers} <= exported,
          f"exports_sources carries all {len(headers)} headers of include/")
    check(any(p.startswith("LICENSE") for p in exported),
          "exports_sources carries the LICENSE file (the repository needs one at its root)")
    check(not any(p.startswith(("tests/", "build")) for p in exported),
          "exports_sources carries no tests or build trees")

    # ---- layout, requirements, validate ----
    recipe.layout()
    check(recipe.folders.source in (".", ""), f"layout keeps sources at the root ({recipe.folders.source!r})")
    recipe.requirements()
    requires = {ref.split("/")[0]: (ref, traits) for ref, traits in recipe.requires.items}
    check(set(requires) == {"eigen", "highway"},
          f"requires exactly eigen and highway ({[r for r, _ in recipe.requires.items]})")
    if "eigen" in requires:
        ref, traits = requires["eigen"]
        check(accepts(ref, "3.4.0"), f"{ref} accepts Eigen 3.4.0")
        check(not accepts(ref, "3.3.9"), f"{ref} refuses Eigen 3.3.9")
        if "[" in ref:
            check(accepts(ref, "5.0.1"), f"{ref} accepts Eigen 5.0.1 (a range must not stop at 3.x)")
        check(traits.get("transitive_headers") is True,
              "eigen is transitive_headers (lowprec's headers include Eigen's)")
    if "highway" in requires:
        ref, traits = requires["highway"]
        check(accepts(ref, "1.0.3"), f"{ref} accepts Highway 1.0.3")
        check(not accepts(ref, "0.17.0"), f"{ref} refuses Highway 0.17.0")
        if "[" in ref:
            check(accepts(ref, "1.4.0"), f"{ref} accepts Highway 1.4.0")
        check(traits.get("transitive_headers") is True and traits.get("transitive_libs") is True,
              "highway is transitive_headers and transitive_libs (consumers link libhwy)")
    check(not recipe.tool_requires.items, "no tool_requires: nothing is built")

    if hasattr(recipe, "validate"):
        recipe.validate()   # C++17: must pass
        old = Recipe(recipe_folder=src, settings={"compiler": "gcc", "compiler.cppstd": "14"})
        try:
            old.validate()
            check(False, "validate() refuses compiler.cppstd=14")
        except ConanInvalidConfiguration:
            check(True, "validate() refuses compiler.cppstd=14")
        newer = Recipe(recipe_folder=src, settings={"compiler": "gcc", "compiler.cppstd": "gnu20"})
        newer.validate()
        check(True, "validate() accepts C++17 and gnu20")
    else:
        check(False, "validate() checks the C++ standard (C++17 or newer)")

    # ---- package(): from the exported sources, as with no_copy_source ----
    recipe.source_folder = os.path.join(export, recipe.folders.source or ".")
    recipe.package_folder = os.path.join(work, "package")
    recipe.build_folder = os.path.join(work, "build")
    os.makedirs(recipe.package_folder)
    if hasattr(recipe, "source"):
        recipe.source()
    if hasattr(recipe, "build"):
        recipe.build()
    recipe.package()
    packaged = file_set(recipe.package_folder)
    packaged_headers = {p[len("include/"):] for p in packaged if p.startswith("include/")}
    check(packaged_headers == headers,
          f"package() copies exactly the headers of include/ (missing: {sorted(headers - packaged_headers)}, "
          f"extra: {sorted(packaged_headers - headers)})")
    check(any(p.startswith("licenses/LICENSE") for p in packaged), "package() copies the license to licenses/")
    check({p.split("/")[0] for p in packaged} <= {"include", "licenses"},
          f"package() installs only include/ and licenses/ ({sorted({p.split('/')[0] for p in packaged})})")

    # ---- package_info(), package_id() ----
    recipe.package_info()
    info = recipe.cpp_info
    check(info.get_property("cmake_file_name") == "lowprec", "cmake_file_name is lowprec")
    check(info.get_property("cmake_target_name") == "lowprec::lowprec", "cmake_target_name is lowprec::lowprec")
    check(info.get_property("pkg_config_name") == "lowprec", "pkg_config_name is lowprec")
    check(info.bindirs == [] and info.libdirs == [], f"bindirs and libdirs are empty ({info.bindirs}, {info.libdirs})")
    check(not info.libs, "no libs")
    check(all(os.path.isfile(os.path.join(recipe.package_folder, d, "lowprec", "bf16.hpp"))
              for d in info.includedirs) and info.includedirs,
          f"includedirs {info.includedirs} hold lowprec/bf16.hpp")
    for dep in info.requires:
        check(dep.split("::")[0] in requires, f"cpp_info.requires '{dep}' names a requirement")
    recipe.package_id()
    check(recipe.info.cleared, "package_id() clears the info: one package for every configuration")

    # ---- test_package/ ----
    tp_dir = os.path.join(src, "test_package")
    _, Test = load_recipe(os.path.join(tp_dir, "conanfile.py"), "lowprec_test_conanfile")
    tested = f"lowprec/{args.expect_version}"
    test = Test(recipe_folder=tp_dir, settings={"os": "Linux", "build_type": "Release"})
    test.tested_reference_str = tested
    test.requirements()
    check([r for r, _ in test.requires.items] == [tested],
          f"test_package requires the tested reference ({test.requires.items})")
    generators = set(as_tuple(getattr(Test, "generators", ())))
    if hasattr(test, "generate"):
        test.generate()
    made = {c[0] for c in test._calls}
    check("CMakeDeps" in generators or "CMakeDeps.generate" in made, "test_package uses CMakeDeps")
    check("CMakeToolchain" in generators or "CMakeToolchain.generate" in made, "test_package uses CMakeToolchain")
    test.layout()
    test.build_folder = os.path.join(work, "test_build")
    test.build()
    calls = [c[0] for c in test._calls]
    check("CMake.configure" in calls and "CMake.build" in calls, "test_package's build() configures and builds with CMake")
    test.test()
    runs = [c[1] for c in test._calls if c[0] == "run"]
    with open(os.path.join(tp_dir, "CMakeLists.txt"), encoding="utf-8") as f:
        cmakelists = f.read()
    executables = re.findall(r"add_executable\(\s*([A-Za-z0-9_]+)", cmakelists)
    check(len(runs) == 1 and executables and os.path.basename(runs[0]) == executables[0],
          f"test() runs the executable test_package/CMakeLists.txt builds ({runs} vs {executables})")
    # The names the recipe gives CMake consumers are the ones test_package uses (and that
    # CTest proves against the CMake install): find_package(<file name>), <target name>.
    check(re.search(rf"find_package\(\s*{re.escape(info.get_property('cmake_file_name') or '?')}\s",
                    cmakelists) is not None,
          "test_package's CMakeLists.txt calls find_package() with the recipe's cmake_file_name")
    check((info.get_property("cmake_target_name") or "?") in cmakelists,
          "test_package's CMakeLists.txt links the recipe's cmake_target_name")

    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed:")
        for failure in FAILURES:
            print(f"  - {failure}")
        return 1
    print("\nall Conan recipe checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
