"""The layout's rules, checked on the code: a layer uses another's public names only.

(The layers' order is import-linter's contract in .importlinter, run by
``make style-check``.)"""

import ast
import os

import pytest

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


def _cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def connect(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                connect(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            connect(module)
    return cycles


def test_no_import_cycles():
    """No module of hpreg imports itself through others, function-level imports
    included (``hpreg/__init__``'s lazy exports are not imports)."""
    import grimp

    graph = grimp.build_graph("hpreg", cache_dir=None)
    assert _cycles(graph) == []
