"""``hpreg sweep --out DIR``: write a sweep's folder safely.

- hpreg's own output is told apart by its manifest, ``.hpreg-sweep``, which lists the
  files hpreg wrote (never by the name ``index.csv``). A non-empty folder without one
  is refused, even with ``--force``; ``--force`` replaces only the listed files, and
  the user's other files in the folder are kept.
- The new sweep is written into a temporary sibling folder, then swapped in (the old
  folder renamed away, the new one renamed in, the old one's files removed): the
  folder is always either the old sweep or the new one.
- Values are checked before anything is written (``hpreg.io.writable``).
"""

import json
import os
import shutil
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from hpreg.sweep.sizes import how_many
from hpreg.io.writable import check_point, unwritable
from hpreg.errors import HpregError, ValuesFileError

__all__ = [
    "MANIFEST",
    "MAX_OUT_POINTS",
    "MAX_LIST_POINTS",
    "check_point",
    "too_many",
    "unwritable",
    "write_folder",
]

MANIFEST = ".hpreg-sweep"
# --out lists the points in memory and writes one file each.
MAX_OUT_POINTS = 1_000_000
# --list streams; past len()'s reach it would never end.
MAX_LIST_POINTS = sys.maxsize
_MANIFEST_KIND = "hpreg sweep --out"


def too_many(
    count: Optional[int], option: str, limit: int, at_least: bool = False
) -> Optional[HpregError]:
    """The error for ``option`` (--out, --list) of a sweep of ``count`` points
    (``at_least``: of more than ``limit`` points)."""
    if count is None or count <= limit:
        return None
    return HpregError(
        "the sweep has {} points; {} {} at most {}; draw some with --sample N or "
        "split it with --shard K/N".format(
            "more than {}".format(how_many(limit)) if at_least else how_many(count),
            option,
            {"--out": "writes", "hpreg run": "runs"}.get(option, "prints"),
            how_many(limit),
        )
    )


# -- the folder ------------------------------------------------------------------------
def _write_file(path: str, text: str) -> None:
    """One file of the new folder (the folder as a whole is swapped in atomically)."""
    with open(path, "x", encoding="utf-8", newline="") as f:
        f.write(text)


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _read_manifest(folder: str) -> Optional[List[str]]:
    """The files hpreg wrote in ``folder`` by its manifest, or None if it has none."""
    text = _read(os.path.join(folder, MANIFEST))
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("written_by") != _MANIFEST_KIND:
        return None
    files = data.get("files")
    if not isinstance(files, list) or not all(
        isinstance(name, str) and _plain_name(name) for name in files
    ):
        return None
    return files


def _plain_name(name: str) -> bool:
    return (
        bool(name)
        and name not in (".", "..", MANIFEST)
        and "/" not in name
        and os.sep not in name
        and (os.altsep is None or os.altsep not in name)
    )


def _manifest_text(names: Sequence[str]) -> str:
    return (
        json.dumps(
            {"written_by": _MANIFEST_KIND, "files": list(names)},
            indent=1,
            ensure_ascii=True,
        )
        + "\n"
    )


def _cannot(out_dir: str, what: str, error: OSError) -> ValuesFileError:
    return ValuesFileError(
        "{}: cannot {} ({}); check the folder and its parent are writable, or "
        "choose another --out folder".format(out_dir, what, error.strerror or error),
        path=out_dir,
        key=None,
    )


def write_folder(
    out_dir: str, files: List[Tuple[str, str]], force: bool = False
) -> bool:
    """Make ``out_dir`` hold exactly ``files`` (name, text) plus the manifest, and
    the user's own files already there; False when it already did (nothing written).

    Refuses a non-empty folder without hpreg's manifest, and (unless ``force``) a
    folder holding a different sweep.
    """
    shown = str(out_dir)
    real = os.path.realpath(shown)  # a symlinked folder stays a symlink
    if os.path.exists(real) and not os.path.isdir(real):
        raise ValuesFileError(
            "{}: cannot create the --out folder (File exists); choose another "
            "folder".format(shown),
            path=shown,
            key=None,
        )
    here = os.path.realpath(os.getcwd())
    if os.path.isdir(real) and (here == real or here.startswith(real + os.sep)):
        raise HpregError(
            "{}: is the current folder or holds it; --out swaps its folder as a "
            "whole, which would pull it from under your shell; write to a subfolder "
            "such as {}".format(shown, os.path.join(shown, "points"))
        )
    new = dict(files)
    extras: List[str] = []
    old_files: List[str] = []
    entries = os.listdir(real) if os.path.isdir(real) else []
    if entries:
        manifest = _read_manifest(real)
        if manifest is None:
            raise HpregError(
                "{}: the folder is not empty and was not written by 'hpreg sweep "
                "--out' (it has no {} file), so hpreg will not write into it, even "
                "with --force; choose a new or empty --out folder".format(
                    shown, MANIFEST
                )
            )
        old_files = [name for name in manifest if name in entries]
        listed = set(manifest)
        extras = [e for e in entries if e not in listed and e != MANIFEST]
        different = _difference(real, new, manifest)
        if different is None and all(name in entries for name in new):
            return False  # the same sweep: nothing to do
        if different is not None and not force:
            raise HpregError(
                "{}: already holds a different sweep ({}); use --force to replace "
                "it, or choose another --out folder".format(shown, different)
            )
        clash = sorted(e for e in extras if e in new)
        if clash:
            raise HpregError(
                "{}: holds {}, which hpreg did not write and the new sweep would "
                "replace; move it away, or choose another --out folder".format(
                    shown, clash[0]
                )
            )
    parent = os.path.dirname(real)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as error:
        raise _cannot(shown, "create the --out folder", error) from None
    base = os.path.basename(real)
    tag = "{}-{}".format(os.getpid(), os.urandom(4).hex())
    tmp = os.path.join(parent, ".{}.hpreg-new-{}".format(base, tag))
    try:
        os.mkdir(tmp)
    except OSError as error:
        raise _cannot(shown, "create a folder next to it", error) from None
    try:
        for name, text in files:
            _write_file(os.path.join(tmp, name), text)
        _write_file(os.path.join(tmp, MANIFEST), _manifest_text([n for n, _ in files]))
        if os.path.isdir(real):
            shutil.copymode(real, tmp)
    except BaseException as error:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(error, OSError):
            raise _cannot(shown, "write the new sweep", error) from None
        raise
    if not os.path.isdir(real):
        try:
            os.rename(tmp, real)
        except OSError as error:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _cannot(shown, "move the new sweep in", error) from None
        return True
    old = os.path.join(parent, ".{}.hpreg-old-{}".format(base, tag))
    _swap(shown, real, tmp, old)
    _keep_user_files(shown, old, real, extras)
    for name in old_files + [MANIFEST]:
        try:
            os.unlink(os.path.join(old, name))
        except OSError:
            pass
    try:
        os.rmdir(old)
    except OSError:
        print(
            "hpreg: warning: {}: kept the previous sweep's folder, {}, which still "
            "holds files hpreg did not write".format(shown, old),
            file=sys.stderr,
        )
    return True


def _difference(real: str, new: Dict[str, str], manifest: List[str]) -> Optional[str]:
    """What tells the folder's sweep from the new one, or None when it is the same
    (a missing point file is written again)."""
    if _read(os.path.join(real, "index.csv")) != new.get("index.csv"):
        return "its index.csv differs"
    if set(manifest) != set(new):
        return "its files differ"
    for name, text in new.items():
        old = _read(os.path.join(real, name))
        if old is not None and old != text:
            return "{} differs".format(name)
        if old is None and os.path.lexists(os.path.join(real, name)):
            return "{} differs".format(name)
    return None


def _swap(shown: str, real: str, tmp: str, old: str) -> None:
    """Rename ``real`` away to ``old`` and ``tmp`` in: always one sweep in place."""
    try:
        os.rename(real, old)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _cannot(shown, "move the previous sweep aside", error) from None
    try:
        os.rename(tmp, real)
    except BaseException as error:
        os.rename(old, real)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(error, OSError):
            raise _cannot(shown, "move the new sweep in", error) from None
        raise


def _keep_user_files(shown: str, old: str, real: str, extras: List[str]) -> None:
    """Move the files hpreg did not write from the previous folder into the new one."""
    for name in extras:
        try:
            os.rename(os.path.join(old, name), os.path.join(real, name))
        except OSError as error:
            raise ValuesFileError(
                "{}: wrote the new sweep, but could not move {} back into it ({}); "
                "it is in {}".format(shown, name, error.strerror or error, old),
                path=shown,
                key=None,
            ) from None
