"""The scan cache trusts a file's stat, as git's index does: an unchanged file whose
mtime is older than the previous scan (by a margin) is not read again; a changed
stat, or a "racy" mtime close to the previous scan, makes the file be read and hashed.
"""

import os
import stat
import time

import pytest

from hpreg.scan import cache as _scan_cache
from hpreg.scan import scanner
from hpreg.scan.scanner import scan_paths

OLD = time.time_ns() - 3600 * 10**9  # an hour ago: well outside the racy margin


@pytest.fixture(name="root")
def fixture_root(tmp_path, monkeypatch):
    monkeypatch.setenv("HPREG_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "proj"
    root.mkdir()
    files = {
        "a.py": "_('a', 1)\n",
        "b.py": "x = 1\n",
        "c.py": "_('c', (1, {2}))\n",
        "d.py": "from hpreg.m import _ as hp\nhp('d', 4)\n",
    }
    for name, text in files.items():
        path = root / name
        path.write_text(text)
        os.utime(path, ns=(OLD, OLD))
    return root


def count_reads(monkeypatch):
    read = []
    original = scanner._read

    def counting(path):
        read.append(os.path.basename(path))
        return original(path)

    monkeypatch.setattr(scanner, "_read", counting)
    return read


def names(scans):
    return [(c.name, c.value) for s in scans for c in s.calls]


def without_ctime(monkeypatch):
    """A file system whose ctime cannot tell (an edit within the same clock tick):
    only size, mtime and inode are left to the stat check."""
    original = _scan_cache.file_stamp

    def stamp(path):
        found = original(path)
        return None if found is None else found[:3] + (0,)

    monkeypatch.setattr(_scan_cache, "file_stamp", stamp)


def same_size_edit(path, text):
    """Rewrite a file in place with text of the same size, and give it back its
    mtime."""
    before = os.stat(path)
    assert len(text.encode()) == before.st_size
    with open(path, "r+") as f:
        f.write(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )


@pytest.mark.parametrize("managers", [["_"], None])
def test_unchanged_files_are_not_read_on_rescan(root, monkeypatch, managers):
    first = scan_paths(root, managers=managers)
    read = count_reads(monkeypatch)
    again = scan_paths(root, managers=managers)
    assert again == first
    assert read == []


def test_changed_file_is_read_and_only_it(root, monkeypatch):
    scan_paths(root, managers=["_"])
    (root / "a.py").write_text("_('a', 22)\n")
    read = count_reads(monkeypatch)
    scans = scan_paths(root, managers=["_"])
    assert names(scans) == [("a", 22), ("c", (1, {2})), ("d", 4)]
    assert read == ["a.py"]


def test_same_size_same_mtime_edit_right_after_a_scan_is_caught(root, monkeypatch):
    # files written just now: their mtime is within the margin of the scan (racy)
    path = root / "a.py"
    path.write_text("_('a', 1)\n")
    scan_paths(root, managers=["_"])
    without_ctime(monkeypatch)  # only the racy rule can catch what follows
    scan_paths(root, managers=["_"])  # stamps stored without ctime
    same_size_edit(path, "_('a', 7)\n")
    read = count_reads(monkeypatch)
    assert names(scan_paths(root, managers=["_"])) == [
        ("a", 7),
        ("c", (1, {2})),
        ("d", 4),
    ]
    assert read == ["a.py"]  # the racy file, and only it, is read


def test_same_mtime_edit_long_after_a_scan_is_caught_by_ctime(root):
    scan_paths(root, managers=["_"])
    same_size_edit(root / "a.py", "_('a', 7)\n")  # mtime an hour old: not racy
    assert names(scan_paths(root, managers=["_"])) == [
        ("a", 7),
        ("c", (1, {2})),
        ("d", 4),
    ]


def test_file_replaced_by_rename_is_caught(root, monkeypatch):
    without_ctime(monkeypatch)
    scan_paths(root, managers=["_"])
    new = root / "a.new"
    new.write_text("_('a', 9)\n")  # same size
    os.utime(new, ns=(OLD, OLD))  # same mtime
    old_inode = os.stat(root / "a.py").st_ino
    os.replace(new, root / "a.py")
    assert os.stat(root / "a.py").st_ino != old_inode
    assert names(scan_paths(root, managers=["_"])) == [
        ("a", 9),
        ("c", (1, {2})),
        ("d", 4),
    ]


def test_racy_file_is_trusted_once_a_later_scan_vouches_for_it(root, monkeypatch):
    path = root / "a.py"
    path.write_text("_('a', 1)\n")  # mtime: now
    first = scan_paths(root, managers=["_"])
    read = count_reads(monkeypatch)
    assert scan_paths(root, managers=["_"]) == first
    assert read == ["a.py"]  # racy: read again
    later = time.time_ns() + 60 * 10**9
    monkeypatch.setattr(_scan_cache.time, "time_ns", lambda: later)
    del read[:]
    assert scan_paths(root, managers=["_"]) == first
    assert read == ["a.py"]  # read once more, and found old enough now
    del read[:]
    assert scan_paths(root, managers=["_"]) == first
    assert read == []


def cache_path():
    [name] = os.listdir(_scan_cache.cache_dir())
    return os.path.join(_scan_cache.cache_dir(), name)


@pytest.mark.parametrize(
    "damage", [b"", b"garbage", b"hpreg-scan-cache\x02", "flip", "truncate"]
)
def test_corrupted_cache_counts_as_empty(root, monkeypatch, damage):
    first = scan_paths(root, managers=["_"])
    path = cache_path()
    blob = open(path, "rb").read()
    if damage == "flip":
        damage = blob[:-5] + bytes([blob[-5] ^ 0xFF]) + blob[-4:]
    elif damage == "truncate":
        damage = blob[: len(blob) // 2]
    with open(path, "wb") as f:
        f.write(damage)
    read = count_reads(monkeypatch)
    assert scan_paths(root, managers=["_"]) == first
    assert sorted(read) == ["a.py", "b.py", "c.py", "d.py"]  # nothing trusted
    del read[:]
    assert scan_paths(root, managers=["_"]) == first  # rewritten valid
    assert read == []


def test_damaged_entry_with_a_valid_stat_is_read(root, monkeypatch):
    first = scan_paths(root, managers=["_"])
    key = ((os.path.realpath(root),), ("_",))
    store = _scan_cache.ScanCache(key, scanner.SCANNER_VERSION)
    real = os.path.realpath(root / "a.py")
    digest, _payload, stamp = store._entries[real]
    store._entries[real] = (digest, ("not", "a", "payload"), stamp)
    store._seen.update(store._entries)
    store._dirty = True
    store.save()
    read = count_reads(monkeypatch)
    assert scan_paths(root, managers=["_"]) == first
    assert read == ["a.py"]


def test_context_entries_follow_their_file(tmp_path, monkeypatch):
    # b.py takes its manager from a.py: its scan is stored under a second key,
    # realpath + "\0context", that has no stat of its own
    monkeypatch.setenv("HPREG_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.py").write_text("from hpreg.m import _ as hp\n")
    (root / "b.py").write_text("from a import hp\nhp('b', 1)\n")
    for name in ("a.py", "b.py"):
        os.utime(root / name, ns=(OLD, OLD))
    first = scan_paths(root)
    assert names(first) == [("b", 1)]
    store = _scan_cache.ScanCache(
        ((os.path.realpath(root),), ("*",)), scanner.SCANNER_VERSION
    )
    context = os.path.realpath(root / "b.py") + "\0context"
    assert store._entries[context][2] is None
    read = count_reads(monkeypatch)
    assert scan_paths(root) == first
    assert read == []
    (root / "b.py").write_text("from a import hp\nhp('b', 2)\n")
    assert names(scan_paths(root)) == [("b", 2)]


def test_new_cache_file_is_private(root):
    scan_paths(root, managers=["_"])
    assert stat.S_IMODE(os.stat(cache_path()).st_mode) == 0o600


def test_cache_is_written_through_the_one_atomic_writer(root, monkeypatch):
    from hpreg.io import atomic, files

    assert files.write_atomic is atomic.write_atomic is _scan_cache.write_atomic
    written = []
    original = atomic.write_atomic

    def spy(path, data, new_mode=None):
        written.append(path)
        return original(path, data, new_mode=new_mode)

    monkeypatch.setattr(_scan_cache, "write_atomic", spy)
    scan_paths(root, managers=["_"])
    assert written == [cache_path()]


def test_scan_cache_does_not_load_yaml():
    import subprocess
    import sys

    code = (
        "import sys, hpreg.scan.cache, hpreg.scan.scanner; "
        "print('yaml' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
