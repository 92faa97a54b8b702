"""Offline stand-in for the parts of Conan 2's Python API that lowprec's recipes use.

tests/packaging/check_conan_recipe.py imports conanfile.py and test_package/conanfile.py
against this package and drives their methods the way `conan create` would. Behaviour
that the checks depend on follows Conan 2 (copy() patterns, cpp_info defaults, requires
traits); everything else only records what the recipe asked for in `conanfile._calls`.
"""
__version__ = "2.0-stand-in"
STAND_IN = True

_REQUIRE_TRAITS = {
    "headers", "libs", "build", "run", "visible", "transitive_headers", "transitive_libs",
    "test", "package_id_mode", "options", "force", "override", "direct", "no_skip",
}


class _Requirements:
    """`self.requires(...)`: callable like Conan 2's, recording (reference, traits)."""

    def __init__(self, kind):
        self.kind = kind
        self.items = []

    def __call__(self, ref, **traits):
        unknown = set(traits) - _REQUIRE_TRAITS
        if unknown:
            raise TypeError(f"{self.kind}() got unknown traits {sorted(unknown)}")
        if not isinstance(ref, str) or "/" not in ref:
            raise ValueError(f"{self.kind}(): '{ref}' is not a name/version reference")
        self.items.append((ref, traits))


class _Node:
    """Settings tree: settings.compiler.cppstd, get_safe('compiler.cppstd'), str()."""

    def __init__(self, value=None, children=None):
        self._value = value
        self._children = children or {}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._children:
            raise AttributeError(f"setting '{name}' does not exist")
        return self._children[name]

    def get_safe(self, path, default=None):
        node = self
        for part in path.split("."):
            if part not in node._children:
                return default
            node = node._children[part]
        return node._value if node._value is not None else default

    def __str__(self):
        return str(self._value)

    def __eq__(self, other):
        return str(self) == str(other)

    __hash__ = None


def make_settings(values):
    """{'os': 'Linux', 'compiler': 'gcc', 'compiler.cppstd': '17'} -> a settings tree."""
    root = _Node()
    for key, value in values.items():
        node = root
        for part in key.split("."):
            node = node._children.setdefault(part, _Node())
        node._value = value
    return root


class _CppInfo:
    def __init__(self):
        # Conan 2 defaults for a package's cpp_info.
        self.includedirs = ["include"]
        self.libdirs = ["lib"]
        self.bindirs = ["bin"]
        self.resdirs = []
        self.builddirs = []
        self.frameworkdirs = []
        self.libs = []
        self.system_libs = []
        self.frameworks = []
        self.defines = []
        self.cflags = []
        self.cxxflags = []
        self.sharedlinkflags = []
        self.exelinkflags = []
        self.requires = []
        self.components = {}
        self._properties = {}

    def set_property(self, name, value):
        self._properties[name] = value

    def get_property(self, name, default=None):
        return self._properties.get(name, default)


class _LayoutInfo:
    def __init__(self):
        self.includedirs = ["include"]
        self.libdirs = ["lib"]
        self.bindirs = ["bin"]

    @property
    def bindir(self):
        return self.bindirs[0]


class _Cpp:
    def __init__(self):
        self.source = _LayoutInfo()
        self.build = _LayoutInfo()
        self.package = _CppInfo()


class _Folders:
    def __init__(self):
        self.source = ""
        self.build = ""
        self.generators = ""
        self.imports = ""


class _Info:
    def __init__(self):
        self.cleared = False
        self.settings_cleared = False
        self.options_cleared = False
        self.requires_cleared = False

    def clear(self):
        self.cleared = True


class _Output:
    def __init__(self):
        self.lines = []

    def _log(self, level, msg):
        self.lines.append((level, str(msg)))

    def info(self, msg):
        self._log("info", msg)

    def warning(self, msg):
        self._log("warning", msg)

    def error(self, msg):
        self._log("error", msg)

    def success(self, msg):
        self._log("success", msg)

    def highlight(self, msg):
        self._log("highlight", msg)

    def debug(self, msg):
        self._log("debug", msg)


class ConanFile:
    name = None
    version = None
    user = None
    channel = None
    description = None
    license = None
    url = None
    homepage = None
    topics = None
    author = None
    package_type = None
    settings = None
    options = None
    default_options = None
    generators = ()
    exports = None
    exports_sources = None
    no_copy_source = False
    test_type = None
    tested_reference_str = None

    def __init__(self, recipe_folder, settings=None):
        self.recipe_folder = recipe_folder
        self.settings = make_settings(settings or {})
        self.requires = _Requirements("requires")
        self.tool_requires = _Requirements("tool_requires")
        self.test_requires = _Requirements("test_requires")
        self.build_requires = self.tool_requires
        self.folders = _Folders()
        self.cpp = _Cpp()
        self.cpp_info = _CppInfo()
        self.info = _Info()
        self.output = _Output()
        self.conf = {}
        self.source_folder = None
        self.export_sources_folder = None
        self.build_folder = None
        self.package_folder = None
        self.generators_folder = None
        self._calls = []

    def run(self, command, env="", cwd=None, ignore_errors=False, quiet=False):
        self._calls.append(("run", command, env))
        return 0
