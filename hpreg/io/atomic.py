"""The one atomic file writer of hpreg: values files, run folders, the scan cache.

Kept apart from ``hpreg.io.files`` (which re-exports it) so that writing the scan
cache does not load YAML.
"""

import os
import stat
from typing import Optional, Union

from hpreg.errors import ValuesFileError
from hpreg.io.source import display_path

__all__ = ["write_atomic"]


def write_atomic(path, data: Union[str, bytes], new_mode: Optional[int] = None) -> None:
    """Write ``data`` through a temporary file and a rename: never a half file.

    A folder that is missing or not writable is a ``ValuesFileError`` naming the path.
    A symlink is written through (its target is replaced, the link stays) and an
    existing file keeps its permissions; a new file gets ``new_mode`` (e.g. 0o600
    for a private cache), or the umask's.
    """
    path = str(path)
    target = os.path.realpath(path) if os.path.islink(path) else path
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = new_mode
    tmp = "{}.{}-{}.tmp".format(target, os.getpid(), os.urandom(4).hex())
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    try:
        with open(tmp, "xb") as f:
            if mode is not None:
                os.chmod(tmp, mode)
            f.write(raw)
        os.replace(tmp, target)
    except BaseException as error:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if not isinstance(error, OSError):
            raise
        raise ValuesFileError(
            where=display_path(path),
            problem="cannot write: {}".format(error.strerror or error),
            fix="check the folder exists and is writable",
            path=path,
            key=None,
        ) from None
