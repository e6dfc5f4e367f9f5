"""The scan cache must be invalidated by any change to the scanner's code."""

import ast
import os

import hpreg
from hpreg.scan import cache as _scan_cache

PACKAGE = os.path.dirname(hpreg.__file__)


def _imports_of(module_file):
    with open(os.path.join(PACKAGE, module_file), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                yield node.module.split(".")[0] + ".py"
            else:  # from . import _scan_cache
                for alias in node.names:
                    yield alias.name + ".py"


def test_fingerprint_covers_every_module_the_scan_runs():
    # every package module the scanner reaches, except shared leaves (errors, _source)
    seen, todo = set(), ["scanner.py"]
    while todo:
        module = todo.pop()
        if module in seen or not os.path.exists(os.path.join(PACKAGE, module)):
            continue
        seen.add(module)
        todo.extend(_imports_of(module))
    scanning = {m for m in seen if m not in ("errors.py", "_source.py")}
    assert scanning <= set(_scan_cache._SCANNER_SOURCES), sorted(
        scanning - set(_scan_cache._SCANNER_SOURCES)
    )
