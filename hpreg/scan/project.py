"""Managers across the scanned files: which module exports which manager, and what
each file's imports from the other scanned modules give it.

``from hpreg.m import _ as hp`` in ``pkg/config.py`` exports ``hp``; ``from pkg.config
import hp``, ``from .config import hp`` or ``import pkg.config as c`` in another
scanned file then take that manager. Module names come from the files' paths:
relative imports from the importer's folder; absolute ones from the packages
(``__init__.py``) above a file, else the importer's folder, else any scanned file
whose path ends with the module's (``pkg/config.py`` for ``pkg.config``).
"""

import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

# how many folders of a path may form a dotted module name
_MAX_DEPTH = 12


class Project:
    """Resolve the links (``FileScan.links``) of scanned files to managers.

    ``files`` are the (display, real) paths of the scan; ``base(i)`` gives file
    ``i``'s scan with its links, parsing it if the scan had skipped it (None when it
    cannot be parsed); ``mentions(i, names)`` whether its text has one of ``names``
    as a word (a file that never writes a name cannot export it). ``names`` are
    every name any scanned file exports a manager as: only imports of those names
    are followed.
    """

    def __init__(
        self,
        files: List[Tuple[str, str]],
        base: Callable[[int], Any],
        mentions: Callable[[int, Iterable[str]], bool],
        names: Iterable[str],
    ):
        self.files = files
        self.base = base
        self.mentions = mentions
        self.names = frozenset(names)
        self.by_path = {os.path.normcase(real): i for i, (_d, real) in enumerate(files)}
        self._stems: Optional[Dict[str, List[int]]] = None
        self._exports: Dict[int, Dict[str, str]] = {}
        self._active: Set[int] = set()
        self._package_of: Dict[str, Optional[str]] = {}

    # -- the links of one file --------------------------------------------------------
    def context(self, index: int, links: Optional[tuple]) -> Dict[tuple, Any]:
        """What the used links of file ``index`` give (a link's ``use``: the
        attributes called through it, and "" when it is called itself): (level, module, name) -> the
        manager, or {name: manager} for a module; links that give nothing are left
        out."""
        out: Dict[tuple, Any] = {}
        for level, module, name, _local, _at_module, use in links or ():
            called = name is not None and "" in use and name in self.names
            if name != "*" and not called and not self.names.intersection(use):
                continue
            found = self.resolve(index, level, module, name, use)
            if found:
                out[(level, module, name)] = found
        return out

    def resolve(self, index, level, module, name, use=()) -> Any:
        """The manager (or the exports of a module) an import in file ``index``
        gives; None when it gives none, or the candidates disagree."""
        results = []
        for target in self._module_files(index, level, module):
            if name == "*":  # the public names (hpreg.m's ``__all__`` is empty)
                exports = self._exports_if(target, self.names)
                found = {k: v for k, v in exports.items() if not k.startswith("_")}
                found = found or None
            elif name is None:
                wanted = self.names.intersection(use)
                found: Any = self._exports_if(target, wanted)
                found = dict(found) if found else None
            else:
                found = self._exports_if(target, (name,)).get(name)
            if found is not None and found not in results:
                results.append(found)
        if name not in (None, "*") and not results and self.names.intersection(use):
            # ``from pkg import config`` / ``from . import config``: a module
            inner = "{}.{}".format(module, name) if module else name
            return self.resolve(index, level, inner, None, use)
        return results[0] if len(results) == 1 else None

    # -- exports -----------------------------------------------------------------------
    def _exports_if(self, index: int, names: Iterable[str]) -> Dict[str, str]:
        """File ``index``'s exports, when it can export one of ``names``."""
        names = [n for n in names if n in self.names]
        if not names:
            return {}
        if index not in self._exports and not self.mentions(index, names):
            return {}
        return self.exports(index)

    def exports(self, index: int) -> Dict[str, str]:
        """Module-level names file ``index`` binds to a manager, re-exports included."""
        done = self._exports.get(index)
        if done is not None:
            return done
        if index in self._active:  # an import cycle: what is known so far
            return {}
        self._active.add(index)
        try:
            scan = self.base(index)
            out: Dict[str, str] = {}
            if scan is not None:
                out.update(scan.exports)
                for level, module, name, local, at_module, _use in scan.links or ():
                    if not at_module or name is None or local in out:
                        continue
                    if name != "*" and name not in self.names:
                        continue
                    found = self.resolve(index, level, module, name)
                    if isinstance(found, str):
                        out[local] = found
                    elif name == "*" and found:
                        for key, value in found.items():
                            out.setdefault(key, value)
        finally:
            self._active.discard(index)
        self._exports[index] = out
        return out

    # -- module names ------------------------------------------------------------------
    def _file_at(self, stem: str) -> Optional[int]:
        """The scanned module at ``stem`` (``stem.py`` or ``stem/__init__.py``)."""
        for path in (stem + ".py", os.path.join(stem, "__init__.py")):
            index = self.by_path.get(os.path.normcase(path))
            if index is not None:
                return index
        return None

    def _in_package(self, index: int) -> bool:
        real = self.files[index][1]
        return os.path.basename(real) == "__init__.py" or self._has_init(
            os.path.dirname(real)
        )

    def _module_files(self, index: int, level: int, module: str) -> List[int]:
        importer = self.files[index][1]
        parts = module.split(".") if module else []
        if level:
            folder = os.path.dirname(importer)
            for _up in range(level - 1):
                folder = os.path.dirname(folder)
            found = self._file_at(os.path.join(folder, *parts))
            return [found] if found is not None else []
        if not parts:
            return []
        candidates = [
            c
            for c in self._by_stem().get(parts[-1], ())
            if _module_parts(self.files[c][1])[-len(parts) :] == parts
        ]
        if not candidates:
            return []
        # a package's module by its full name, then the importer's neighbour (a
        # script's folder is on sys.path), then a top-level module, then any
        exact = [c for c in candidates if self._package_name(c) == module]
        packaged = [c for c in exact if self._in_package(c)]
        if packaged:
            return packaged
        sibling = self._file_at(os.path.join(os.path.dirname(importer), *parts))
        if sibling is not None:
            return [sibling]
        return exact or candidates

    def _by_stem(self) -> Dict[str, List[int]]:
        """Scanned files by the last part of their module name."""
        if self._stems is None:
            table: Dict[str, List[int]] = {}
            for index, (_display, real) in enumerate(self.files):
                folder, base = os.path.split(real)
                stem = os.path.basename(folder) if base == "__init__.py" else base[:-3]
                table.setdefault(stem, []).append(index)
            self._stems = table
        return self._stems

    def _package_name(self, index: int) -> Optional[str]:
        """The dotted name the ``__init__.py`` files above a file give it."""
        real = self.files[index][1]
        folder, base = os.path.split(real)
        parts = [] if base == "__init__.py" else [base[:-3]]
        if base == "__init__.py":
            parts.append(os.path.basename(folder))
            folder = os.path.dirname(folder)
        while len(parts) < _MAX_DEPTH and self._has_init(folder):
            parts.append(os.path.basename(folder))
            folder = os.path.dirname(folder)
        return ".".join(reversed(parts))

    def _has_init(self, folder: str) -> bool:
        known = self._package_of.get(folder)
        if known is None:
            known = self._package_of[folder] = (
                "y" if os.path.isfile(os.path.join(folder, "__init__.py")) else "n"
            )
        return known == "y"


def _module_parts(real: str) -> List[str]:
    """``[..., "pkg", "config"]`` for ``.../pkg/config.py`` (or ``config/__init__.py``)."""
    parts = os.path.normpath(real).split(os.sep)
    if parts[-1] == "__init__.py":
        return parts[:-1]
    parts[-1] = parts[-1][:-3]
    return parts
