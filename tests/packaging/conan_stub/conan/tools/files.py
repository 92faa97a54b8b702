"""Stand-in for conan.tools.files: copy() with Conan 2's pattern rules, load, save."""
import fnmatch
import os
import shutil

from conan.errors import ConanException


def copy(conanfile, pattern, src, dst, keep_path=True, excludes=None, ignore_case=True,
         overwrite_equal=False):
    """Copies files below `src` whose path relative to `src` matches the fnmatch
    `pattern` (so '*' also matches '/', as in Conan 2) to `dst`; returns their new paths."""
    if src is None or dst is None:
        raise ConanException("copy(): src and dst are required")
    excludes = [excludes] if isinstance(excludes, str) else list(excludes or [])
    copied = []
    if not os.path.isdir(src):
        return copied
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, src).replace(os.sep, "/")
            subject, pat = (rel.lower(), pattern.lower()) if ignore_case else (rel, pattern)
            if not fnmatch.fnmatch(subject, pat):
                continue
            if any(fnmatch.fnmatch(rel, e) for e in excludes):
                continue
            target = os.path.join(dst, rel if keep_path else name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(full, target)
            copied.append(target)
    conanfile._calls.append(("copy", pattern, src, dst, len(copied)))
    return copied


def load(conanfile, path, encoding="utf-8"):
    with open(path, encoding=encoding) as f:
        return f.read()


def save(conanfile, path, content, append=False, encoding="utf-8"):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a" if append else "w", encoding=encoding) as f:
        f.write(content)


def get(conanfile, url, **kwargs):
    raise ConanException(f"get({url}): downloads are not available to the offline recipe check")


def rmdir(conanfile, path):
    shutil.rmtree(path, ignore_errors=True)
