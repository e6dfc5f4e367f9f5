"""``hpreg results DIR --plot X:Y OUT.png [--by Z]``: the lines drawn (through the
``series`` seam, not pixels), a PNG written, and the errors."""

import builtins

import pytest

from hpreg.cli import main
from hpreg.errors import MissingExtraError
from hpreg.runner import plot as run_plot
from hpreg.runner import results
from hpreg.runner.store import RunStore

from cli_support import one_error_line

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(name="store_dir")
def fixture_store_dir(tmp_path):
    """A store of 6 jobs: lr x bs, loss = lr * bs; one failed job without metrics."""
    directory = str(tmp_path / "runs" / "s")
    with RunStore(directory) as store:
        jobs = []
        for bs in (16, 32):
            for lr in (0.1, 0.001, 0.01):
                jobs.append(("j{}_{}".format(bs, lr), {"lr": lr, "bs": bs}, ["t"]))
        jobs.append(("failed", {"lr": 1.0, "bs": 16}, ["t"]))
        store.add_jobs(jobs)
        while True:
            job = store.claim("r")
            if job is None:
                break
            if job.id == "failed":
                store.finish(job.id, "r", "failed", exit_code=1)
            else:
                loss = job.point["lr"] * job.point["bs"]
                store.finish(job.id, "r", "done", exit_code=0, metrics={"loss": loss})
    return directory


def _table(directory):
    with RunStore(directory, create=False) as store:
        return results.rows(store)


def test_series_one_line_per_value_of_by_sorted_by_x(store_dir):
    lines = run_plot.series(_table(store_dir), "lr", "loss", by="bs")
    assert lines == {
        "bs=16": [(0.001, 0.016), (0.01, 0.16), (0.1, 1.6)],
        "bs=32": [(0.001, 0.032), (0.01, 0.32), (0.1, 3.2)],
    }
    one = run_plot.series(_table(store_dir), "lr", "loss")
    assert list(one) == [None] and len(one[None]) == 6  # the failed job left out


def test_cli_writes_a_png(store_dir, tmp_path, capsys, monkeypatch):
    drawn = []
    real = run_plot.plot

    def spy(*args, **kwargs):
        drawn.append(real(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(run_plot, "plot", spy)
    out = tmp_path / "out.png"
    code = main(["results", store_dir, "--plot", "lr:loss", str(out), "--by", "bs"])
    assert code == 0, capsys.readouterr().err
    assert out.read_bytes().startswith(PNG)
    assert "loss against lr (2 lines) written to" in capsys.readouterr().out
    assert sorted(drawn[0]) == ["bs=16", "bs=32"]


def test_cli_errors(store_dir, tmp_path, capsys):
    out = str(tmp_path / "out.png")
    assert main(["results", store_dir, "--plot", "lr", out]) == 2
    assert "expected X:Y" in one_error_line(capsys.readouterr().err)
    assert main(["results", store_dir, "--plot", "lr:los", out]) == 2
    assert "did you mean 'loss'" in one_error_line(capsys.readouterr().err)
    assert main(["results", store_dir, "--by", "bs"]) == 2
    assert "--by only goes with --plot" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out.png").exists()


def test_missing_matplotlib_names_the_extra(store_dir, tmp_path, capsys, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(MissingExtraError) as caught:
        run_plot.plot(_table(store_dir), "lr", "loss", str(tmp_path / "o.png"))
    assert caught.value.extra == "plot"
    code = main(["results", store_dir, "--plot", "lr:loss", str(tmp_path / "o.png")])
    assert code == 1
    assert "pip install hpreg[plot]" in one_error_line(capsys.readouterr().err)
