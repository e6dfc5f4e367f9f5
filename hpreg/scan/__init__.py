"""The static scan: Python files in, plain records out (``ast`` only; knows no manager).

Walks files (excludes, a text prefilter), resolves scopes and imports of
``hpreg.m``, follows managers across the scanned modules (``project``), extracts
manager calls into ``Call``/``Problem``/``FileScan`` records, and caches them on disk.
"""

from hpreg.scan.records import Call, FileScan, Problem
from hpreg.scan.scanner import (
    SKIP_DIRS,
    find_manager_imports,
    iter_python_files,
    scan_paths,
    scan_source,
    unparsed_syntax_problems,
)

__all__ = [
    "Call",
    "FileScan",
    "Problem",
    "SKIP_DIRS",
    "find_manager_imports",
    "iter_python_files",
    "scan_paths",
    "scan_source",
    "unparsed_syntax_problems",
]
