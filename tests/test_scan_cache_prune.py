"""The scan cache folder stays small: caches unused for a month go, at most
``MAX_CACHES`` are kept (least recently used first), dead temporary files go, a
cache in use is kept fresh, and nothing else in the folder is touched."""

import os
import time

import pytest

from hpreg.scan import cache, scanner

DAY = 24 * 3600


@pytest.fixture(name="folder")
def fixture_folder(tmp_path):
    return tmp_path / "hpreg-cache"  # HPREG_CACHE_DIR (tests/conftest.py)


def _project(tmp_path, name):
    root = tmp_path / "projects" / name
    root.mkdir(parents=True)
    (root / "train.py").write_text("from hpreg.m import _\nlr = _('lr', 0.1)\n")
    return root


def _scan(root):
    scans = scanner.scan_paths(str(root), managers=("_",), cache=True)
    assert [c.name for s in scans for c in s.calls] == ["lr"]


def _caches(folder):
    return sorted(p for p in os.listdir(folder) if p.endswith(".marshal"))


def _age(path, days):
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def test_at_most_max_caches_are_kept_the_least_recently_used_go(
    tmp_path, folder, monkeypatch
):
    monkeypatch.setattr(cache, "MAX_CACHES", 3)
    roots = [_project(tmp_path, "p{}".format(i)) for i in range(5)]
    for index, root in enumerate(roots[:3]):
        _scan(root)
    for index, name in enumerate(sorted(_caches(folder))):
        _age(folder / name, 3 - index * 0.1)  # all used days ago, none a month
    first = set(_caches(folder))
    _scan(roots[0])  # unchanged: touched, now the most recently used
    _scan(roots[3])
    _scan(roots[4])
    left = set(_caches(folder))
    assert len(left) == 3
    assert len(first & left) == 1  # of the first three, only roots[0]'s stays
    _scan(roots[0])  # still served from its cache: nothing is written
    assert set(_caches(folder)) == left


def test_a_cache_unused_for_a_month_goes_when_a_new_one_is_written(tmp_path, folder):
    old, recent, new = (_project(tmp_path, n) for n in ("old", "recent", "new"))
    _scan(old)
    (old_cache,) = _caches(folder)
    _age(folder / old_cache, cache.MAX_AGE_DAYS + 1)
    _scan(recent)
    recent_cache = (set(_caches(folder)) - {old_cache}).pop()
    assert old_cache not in _caches(folder)
    _age(folder / recent_cache, cache.MAX_AGE_DAYS - 1)
    _scan(new)
    assert recent_cache in _caches(folder) and len(_caches(folder)) == 2


def test_a_cache_in_use_is_touched_once_a_day(tmp_path, folder):
    root = _project(tmp_path, "p")
    _scan(root)
    (name,) = _caches(folder)
    _age(folder / name, 2)
    before = os.stat(folder / name).st_mtime
    _scan(root)
    assert os.stat(folder / name).st_mtime > before + DAY
    fresh = os.stat(folder / name).st_mtime_ns
    _scan(root)
    assert os.stat(folder / name).st_mtime_ns == fresh  # not rewritten every scan


def test_dead_temporary_files_go_and_other_files_stay(tmp_path, folder):
    folder.mkdir()
    dead = folder / "scan-x.marshal.123-abcd.tmp"
    writing = folder / "scan-y.marshal.456-ef01.tmp"
    mine = folder / "notes.txt"
    other = folder / "scan-notes.txt"
    for path in (dead, writing, mine, other):
        path.write_text("x")
    _age(dead, 2)
    _age(mine, cache.MAX_AGE_DAYS + 10)
    _age(other, cache.MAX_AGE_DAYS + 10)
    _scan(_project(tmp_path, "p"))
    assert not dead.exists()
    assert writing.exists() and mine.exists() and other.exists()


def test_pruning_a_missing_or_unreadable_folder_is_silent(tmp_path):
    cache.prune(str(tmp_path / "missing"))
    cache.prune(str(tmp_path / "missing"), keep=str(tmp_path / "x.marshal"))
