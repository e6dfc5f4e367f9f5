"""A manager keeps nothing for the scanned files that declare nothing (issue 7:
at most 2 KB retained per hyperparameter, files without declarations counted)."""

import gc
import tracemalloc

from hpreg import HyperParameterManager


def test_files_that_declare_nothing_leave_no_state(tmp_path):
    for index in range(50):
        (tmp_path / "plain{}.py".format(index)).write_text("x = {}\n".format(index))
    (tmp_path / "decl.py").write_text("from hpreg.m import _\n_('lr', 0.1)\n")
    hp = HyperParameterManager("_").parse_file(tmp_path, cache=False)
    assert hp.names() == ["lr"]
    assert list(hp._by_file) == [str((tmp_path / "decl.py").resolve())]
    # re-scanning after the declaration is gone forgets the file altogether
    (tmp_path / "decl.py").write_text("x = 0\n")
    hp.parse_file(tmp_path, cache=False)
    assert hp.names() == [] and hp._by_file == {}


def test_retained_memory_does_not_grow_with_plain_files(tmp_path):
    def retained(folder):
        hp = HyperParameterManager("_")
        hp.parse_file(folder, cache=False)  # warm module caches
        gc.collect()
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            kept = HyperParameterManager("_").parse_file(folder, cache=False)
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - start, kept
        finally:
            tracemalloc.stop()

    small, large = tmp_path / "small", tmp_path / "large"
    for folder, plain in ((small, 1), (large, 300)):
        folder.mkdir()
        (folder / "decl.py").write_text("from hpreg.m import _\n_('lr', 0.1)\n")
        for index in range(plain):
            (folder / "p{}.py".format(index)).write_text("y = {}\n".format(index))
    few, _kept = retained(small)
    many, _kept = retained(large)
    # 300 more files: under 16 bytes each (module-level noise), not a record each
    assert many - few < 300 * 16, (few, many)
