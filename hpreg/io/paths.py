"""Path arguments: one path or several, as the scan and the registry take them."""

import os
from typing import Iterable, List, Union

PathArg = Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]]


def as_path_list(path: PathArg) -> List[str]:
    """``path`` as a list of strings: one path, or each of an iterable of paths."""
    if isinstance(path, (str, os.PathLike)):
        return [os.fspath(path)]
    return [os.fspath(p) for p in path]
