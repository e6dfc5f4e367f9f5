"""The scan cache must be invalidated by any change to the scanner's code."""

import ast
import os

import hpreg
from hpreg.scan import cache as _scan_cache

SCAN_PACKAGE = os.path.join(os.path.dirname(hpreg.__file__), "scan")
# shared leaves the scan uses that do not shape its records (hpreg.io.atomic: the
# cache's writer)
LEAVES = {"hpreg.errors", "hpreg._text", "hpreg.io.source", "hpreg.io.atomic"}


def _hpreg_imports(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 0 and node.module.split(".")[0] == "hpreg":
                yield node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "hpreg":
                    yield alias.name


def test_every_module_the_scan_runs_lives_in_the_fingerprinted_folder():
    outside = set()
    for name in os.listdir(SCAN_PACKAGE):
        if name.endswith(".py"):
            for module in _hpreg_imports(os.path.join(SCAN_PACKAGE, name)):
                if not module.startswith("hpreg.scan") and module not in LEAVES:
                    outside.add((name, module))
    assert not outside


def test_fingerprint_follows_the_scan_folder(tmp_path, monkeypatch):
    _scan_cache._code_fingerprint.cache_clear()
    before = _scan_cache._code_fingerprint()
    copy = tmp_path / "scan"
    copy.mkdir()
    for name in os.listdir(SCAN_PACKAGE):
        if name.endswith(".py"):
            (copy / name).write_bytes(
                open(os.path.join(SCAN_PACKAGE, name), "rb").read()
            )
    monkeypatch.setattr(_scan_cache, "__file__", str(copy / "cache.py"))
    try:
        _scan_cache._code_fingerprint.cache_clear()
        assert _scan_cache._code_fingerprint() == before
        (copy / "calls.py").write_text("# edited\n", encoding="utf-8")
        _scan_cache._code_fingerprint.cache_clear()
        assert _scan_cache._code_fingerprint() != before
    finally:
        _scan_cache._code_fingerprint.cache_clear()
