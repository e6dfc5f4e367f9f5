"""The layout's rules, checked on the code: a layer uses another's public names only.

(The layers' order is import-linter's contract in .importlinter, run by
``make style-check``.)"""

import ast
import os

import hpreg

PACKAGE = os.path.dirname(hpreg.__file__)


def _unit(module: str) -> str:
    """``hpreg.sweep.file`` -> ``hpreg.sweep``; top-level modules are their own unit."""
    return ".".join(module.split(".")[:2])


def _modules():
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, os.path.dirname(PACKAGE))
                module = relative[:-3].replace(os.sep, ".")
                if module.endswith(".__init__"):
                    module = module[: -len(".__init__")]
                yield module, path


# internal to the package (users should not import it) but meant for every layer:
# the text helpers below everything (did-you-mean, articles, shortening)
SHARED_INTERNAL = {"hpreg._text"}


def test_no_layer_imports_another_layers_underscore_names():
    crossings = []
    for module, path in _modules():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if not node.module.startswith("hpreg") or _unit(node.module) == _unit(
                module
            ):
                continue
            for alias in node.names:
                private_module = node.module not in SHARED_INTERNAL and any(
                    part.startswith("_") for part in node.module.split(".")
                )
                dunder = alias.name.startswith("__") and alias.name.endswith("__")
                if (alias.name.startswith("_") and not dunder) or private_module:
                    crossings.append(
                        "{}:{} imports {} from {}".format(
                            module, node.lineno, alias.name, node.module
                        )
                    )
    assert crossings == []
