"""Issue 8's fuzzing, kept in the suite: random sweep files, override items and values
files go through the command line (``hpreg sweep``) and a bound script
(``examples/basic/main.py``), and each run must end in success or one clean error line.

Accepted per run: exit 0; or exit 1/2 with stderr exactly one ``hpreg: error: ...``
line (for a bound script: argparse's usage, then one ``main.py: error: ...`` line).
Never a traceback, never an exception out of ``main``, and within a time and memory
bound. Most runs are in-process (``hpreg.cli.main``); a few are real subprocesses.

The examples are derandomized (no database), so CI runs the same inputs every time.
When a run fails, hypothesis prints the smallest input it found: add it below as a
plain regression test and fix hpreg, never the property.
"""

import argparse
import contextlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile

import pytest
from hypothesis import example, HealthCheck, event, given, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

import hpreg
from conftest import ROOT
from strategies import (
    override_items,
    sweep_file_texts,
    values_file_texts,
)

BASIC = os.path.join(ROOT, "examples", "basic", "main.py")
TRAIN = os.path.join("examples", "train")
SECONDS = 20  # one run's bound; generous, CI shares two cores
GROWTH_KB = 768 * 1024  # how much one run may raise the process's peak memory

BLANK_REASON = re.compile(r": ;(?: |$)|\(\)$")  # `cannot evaluate x: ;`

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)


# -- the bounds -------------------------------------------------------------------------
class Hang(BaseException):
    """A run went over its time bound (a BaseException: nothing in hpreg catches it)."""


def _address_space_kb():
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


@contextlib.contextmanager
def bounded(what):
    """Run the block within ``SECONDS`` and a few GB more address space; afterwards,
    the process's peak memory may not have grown by more than ``GROWTH_KB``."""

    hung = []

    def alarm(signum, frame):
        hung.append(True)
        raise Hang("{} took over {} s".format(what, SECONDS))

    previous = signal.signal(signal.SIGALRM, alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = _address_space_kb()
    if size is not None:  # a memory bomb fails here instead of taking CI down
        limit = (size + 4 * 1024 * 1024) * 1024
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # again every second: an exception raised in a gc callback is only printed
    signal.setitimer(signal.ITIMER_REAL, SECONDS, 1)
    try:
        yield
    except Hang as stop:  # an AssertionError: hypothesis reports the input
        raise AssertionError(str(stop)) from stop
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert not hung, "{} took over {} s".format(what, SECONDS)
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert growth < GROWTH_KB, "{} raised peak memory by {} MB".format(
        what, growth // 1024
    )


# -- what a run may end in --------------------------------------------------------------
def _strict_json(text):
    def refuse(constant):
        raise ValueError("not strict JSON: " + constant)

    return json.loads(text, parse_constant=refuse)


def check_cli(code, out, err, argv):
    """``hpreg`` ended in success or in one clean ``hpreg: error:`` line."""
    shown = "hpreg {}\n--- exit {}; stderr:\n{}".format(argv, code, err)
    assert "Traceback" not in err, shown
    lines = err.splitlines()
    if code == 0:
        assert lines == [], shown
        if "--count" in argv:
            assert int(out) >= 0, shown
        elif "--out" not in argv and "--help" not in argv and "-h" not in argv:
            for line in out.splitlines():  # --list prints strict JSON
                assert isinstance(_strict_json(line), dict), shown
        return
    assert code in (1, 2), shown
    assert len(lines) == 1, shown
    assert lines[0].startswith("hpreg: error: "), shown
    message = lines[0][len("hpreg: error: ") :]
    assert message.strip() and not BLANK_REASON.search(message), shown


def check_bound(code, err, argv, prog="main.py"):
    """A bound script ended in success or in argparse's usage and one error line."""
    shown = "{} {}\n--- exit {}; stderr:\n{}".format(prog, argv, code, err)
    assert "Traceback" not in err, shown
    lines = err.splitlines()
    if code in (0, None):
        assert lines == [], shown
        return
    assert code in (1, 2), shown
    assert len(lines) >= 2 and lines[0].startswith("usage: "), shown
    assert all(line.startswith(" ") for line in lines[1:-1]), shown  # wrapped usage
    assert lines[-1].startswith(prog + ": error: "), shown
    message = lines[-1][len(prog + ": error: ") :]
    assert message.strip() and not BLANK_REASON.search(message), shown


def _event(code, err):
    if currently_in_test_context():  # not in the plain regression tests
        event("exit {}: {}".format(code, _gist(err)))


def _gist(err):
    """The kind of an error, for ``--hypothesis-show-statistics``."""
    if not err:
        return "ok"
    message = err.splitlines()[-1].split("error: ", 1)[-1]
    words = [w for w in message.replace(";", " ").split() if "/" not in w]
    return " ".join(words[:4])


def _write(path, text):
    """Write ``text``; lone surrogates become bytes that are not UTF-8."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    with open(path, "wb") as f:
        f.write(data)


def _stderr_as_in_a_process():
    """Python's own stderr writes what it cannot encode as ``\\udc80``; the
    captured one would raise instead (stdout stays strict, as in a process)."""
    reconfigure = getattr(sys.stderr, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


@pytest.fixture(name="run_cli")
def fixture_run_cli(cli):
    """``run_cli(*argv)``: run ``hpreg`` in-process within the bounds and check it."""

    def run(*argv, cwd=ROOT):
        argv = [str(a) for a in argv]
        _stderr_as_in_a_process()
        with bounded("hpreg {}".format(argv)):
            code, out, err = cli(*argv, cwd=cwd)
        check_cli(code, out, err, argv)
        _event(code, err)
        return code, out, err

    return run


@pytest.fixture(name="run_bound")
def fixture_run_bound(capsys, monkeypatch):
    """``run_bound(argv, config=None)``: examples/basic/main.py's parser, bound
    in-process by ``hpreg.parse_args`` over a fresh manager, with ``$HPREG_CONFIG``
    set to ``config``; checked as a script's output. Returns (code, stdout, stderr)."""
    from hpreg.registry import env

    def run(argv, config=None):
        if config is None:
            monkeypatch.delenv("HPREG_CONFIG", raising=False)
        else:
            monkeypatch.setenv("HPREG_CONFIG", str(config))
        env.clear_cache()
        capsys.readouterr()
        _stderr_as_in_a_process()
        code = None
        try:
            with bounded("main.py {} with $HPREG_CONFIG={}".format(argv, config)):
                manager = hpreg.HyperParameterManager("_")
                parser = argparse.ArgumentParser(prog="main.py")
                parser.add_argument("--epochs", type=int, default=1)
                hpreg.parse_args(manager, paths=[BASIC], parser=parser, argv=argv)
        except SystemExit as stop:
            code = stop.code
        finally:
            monkeypatch.delenv("HPREG_CONFIG", raising=False)
            env.clear_cache()
        out, err = capsys.readouterr()
        check_bound(code, err, argv)
        _event(code, err)
        return code, out, err

    return run


SWEEP_MODES = (
    ["--count"],
    ["--list"],
    ["--sample", "3", "--seed", "1"],
    ["--shard", "1/2"],
    ["--out", "OUT"],
)


def _sweep_every_way(run_cli, folder, items, extra=()):
    """``hpreg sweep ITEMS`` in every mode; --out must leave nothing when it fails."""
    for mode in SWEEP_MODES:
        out_dir = os.path.join(folder, "out")
        mode = [out_dir if m == "OUT" else m for m in mode]
        code, _, _ = run_cli("sweep", *items, *mode, *extra)
        if "--out" in mode:
            if code == 0:
                assert os.path.isfile(os.path.join(out_dir, "index.csv"))
            else:  # not half a sweep: the folder is the old one (none) or empty
                assert not os.path.exists(out_dir) or not os.listdir(out_dir)


# -- the properties ---------------------------------------------------------------------
@settings(FUZZ, max_examples=120)
@given(sweep=sweep_file_texts(), base=values_file_texts())
def test_random_sweep_files(run_cli, sweep, base):
    """A random sweep file (with a random values file to include) in every mode."""
    suffix, text = sweep
    base_suffix, base_text = base
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "sweep" + suffix)
        _write(path, text)
        _write(os.path.join(folder, "base" + (base_suffix or ".yaml")), base_text)
        _write(os.path.join(folder, "base.json"), '{"a": 1, "lr": [0.1]}')
        _sweep_every_way(run_cli, folder, [path])


@settings(FUZZ, max_examples=400)
@given(items=override_items(), mode=st.sampled_from(SWEEP_MODES[:2]))
def test_random_overrides(run_cli, items, mode):
    """Random items in Hydra's grammar, alone and checked against examples/train."""
    run_cli("sweep", *items, *mode)
    run_cli("sweep", *items, "--scan", TRAIN, *mode)


@settings(FUZZ, max_examples=60)
@given(items=override_items())
def test_random_overrides_over_a_file(run_cli, items):
    """Random items override examples/train/sweep.yaml, in every mode."""
    with tempfile.TemporaryDirectory() as folder:
        file = os.path.join(TRAIN, "sweep.yaml")
        _sweep_every_way(run_cli, folder, [file, *items], ["--scan", TRAIN])


@settings(FUZZ, max_examples=300)
@given(values=values_file_texts())
@example(values=(".yaml", "'; ': rmsprop\n"))  # a key of punctuation is quoted
def test_random_values_files(run_bound, values):
    """A random values file as ``$HPREG_CONFIG`` and through ``--hp-load``."""
    suffix, text = values
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "values" + suffix)
        _write(path, text)
        run_bound(["--hp-list", "yaml", "--hp-exit"], config=path)
        run_bound(["--hp-load", path, "--hp-list", "json", "--hp-exit"])


# -- real processes ---------------------------------------------------------------------
def _limit_memory():  # pragma: no cover - runs in the child
    limit = 3 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _run(argv, env=None):
    full = dict(os.environ)
    full.pop("HPREG_DEBUG", None)
    full.update(env or {})
    try:
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env=full,
            capture_output=True,
            timeout=60,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("{} hung".format(argv))
    err = done.stderr.decode("utf-8", "replace")
    return done.returncode, done.stdout.decode("utf-8", "replace"), err


@settings(FUZZ, max_examples=3)
@given(sweep=sweep_file_texts(), items=override_items())
def test_real_hpreg_process(sweep, items):
    """The installed command, with real argv bytes (surrogate escapes included)."""
    suffix, text = sweep
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "sweep" + suffix)
        _write(path, text)
        argv = ["sweep", path, *items, "--list"]
        code, out, err = _run([sys.executable, "-m", "hpreg", *argv])
        check_cli(code, out, err, argv)


@settings(FUZZ, max_examples=3)
@given(values=values_file_texts())
def test_real_bound_script(values):
    """examples/basic/main.py in its own process, with a random ``$HPREG_CONFIG``."""
    suffix, text = values
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "values" + suffix)
        _write(path, text)
        argv = ["--hp-list", "yaml", "--hp-exit"]
        code, _, err = _run([sys.executable, BASIC, *argv], {"HPREG_CONFIG": path})
        check_bound(code, err, argv)


# -- what the fuzzing found (regression tests) --------------------------------------------
def test_a_control_character_in_a_sweep_file_is_one_line(run_cli, tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("a: 1\nb: \x1f\n", encoding="utf-8")
    code, _, err = run_cli("sweep", path, "--count")
    assert code == 1
    assert "sweep.yaml:2:4: invalid YAML: unacceptable character #x001f" in err


def test_a_control_character_in_an_override_is_one_line(run_cli):
    code, _, err = run_cli("sweep", "a=[\x1f]", "--list")
    assert code == 2 and "unacceptable character #x001f" in err


def test_a_control_character_in_hpreg_config_is_one_line(run_bound, tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text("lr: \x1f\n", encoding="utf-8")
    code, _, err = run_bound(["--hp-exit"], config=path)
    assert code == 2 and "values.yaml:1:5: invalid YAML" in err


@pytest.mark.parametrize("item", ["\r", "a\nb", "x\u2028y"])
def test_a_line_break_in_a_path_is_escaped(run_cli, item):
    code, _, err = run_cli("sweep", item, "--count")
    assert code == 1 and "file not found" in err
    assert repr(item)[1:-1] in err


def test_a_line_break_in_a_bound_error_is_escaped(run_bound, tmp_path):
    path = tmp_path / "new\nline.yaml"
    path.write_text("lr: [\n", encoding="utf-8")
    code, _, err = run_bound(["--hp-load", str(path)])
    assert code == 2 and "new\\nline.yaml" in err


def test_a_nul_in_a_sweep_file_name(run_cli):
    code, _, err = run_cli("sweep", "a\x00b", "--count")
    assert code == 1 and "cannot read: embedded null byte" in err


@pytest.mark.parametrize("value", ["sgd", "0.5"])
def test_hpreg_config_with_a_value_and_names_under_it(run_bound, tmp_path, value):
    """``lr: 0.5`` and ``lr.x: 1`` are not one tree: creating the manager used to
    raise ImpossibleTree, and binding then failed with a traceback."""
    path = tmp_path / "values.yaml"
    path.write_text("lr: {}\nlr.x: null\n".format(value), encoding="utf-8")
    code, _, err = run_bound(["--hp-exit"], config=path)
    assert code == 2
    assert "lr" in err.splitlines()[-1]
    manager = hpreg.HyperParameterManager("_")  # no error until a value is read
    with pytest.raises(hpreg.HpregError):
        manager.get_value("lr")


def test_aliases_that_multiply_a_thousandfold_are_refused(run_cli, tmp_path):
    """A 300-byte file of aliases expanding to 220,000 values took 10 s to count
    and 14 s to write (under the 1,000,000-value bound): aliases have their own."""
    from strategies import _laughs

    path = tmp_path / "sweep.yaml"
    path.write_text(_laughs(4, 10) + "x: [1, 2]\n", encoding="utf-8")
    for mode in (["--count"], ["--out", tmp_path / "out"]):
        code, _, err = run_cli("sweep", path, *mode)
        assert code == 1
        assert "expands to more than 100000 values through its aliases" in err
    path.write_text(_laughs(2, 10) + "x: [1, 2]\n", encoding="utf-8")
    assert run_cli("sweep", path, "--count")[:2] == (0, "2\n")


def test_an_int_too_large_for_a_float_default(run_bound, tmp_path):
    """``lr: 10**400`` for a float default raised OverflowError from float()."""
    path = tmp_path / "values.yaml"
    path.write_text("lr: 1{}\n".format("0" * 400), encoding="utf-8")
    code, _, err = run_bound(["--hp-exit"], config=path)
    assert code == 2 and "an int of 401 digits for 'lr' is too large for a float" in err
    code, _, err = run_bound(["--hp-load", str(path), "--hp-exit"])
    assert code == 2 and "too large for a float" in err
