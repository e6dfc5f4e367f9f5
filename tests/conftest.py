"""Shared fixtures: every manager is reset in place between tests (modules keep
references to them), and scans cache into a temporary folder."""

import os
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


@pytest.fixture(autouse=True)
def _isolated_registry(tmp_path, monkeypatch):
    from hpreg.registry import env as _env
    from hpreg.registry.managers import _MANAGERS

    monkeypatch.setenv("HPREG_CACHE_DIR", str(tmp_path / "hpreg-cache"))
    # --gpus leases are machine-wide: each test has its own (hpreg.runner.devices)
    monkeypatch.setenv("HPREG_DEVICE_LOCKS", str(tmp_path / "device-locks"))
    monkeypatch.delenv("HPREG_CONFIG", raising=False)
    _env.clear_cache()
    for manager in _MANAGERS.values():
        manager.reset()
    yield
    for manager in _MANAGERS.values():
        manager.reset()


@pytest.fixture(name="tree")
def fixture_tree(tmp_path):
    """Write files under a temporary folder: ``tree({"a.py": "..."})`` returns its path."""

    def write(files):
        for relative, text in files.items():
            path = tmp_path / "src" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return tmp_path / "src"

    return write


@pytest.fixture(name="run_hpreg")
def fixture_run_hpreg():
    """Run the real ``hpreg`` command in a subprocess."""
    import subprocess

    def run(*args, cwd=None, env=None, input=None):
        full_env = dict(os.environ)
        full_env.pop("HPREG_DEBUG", None)
        if env:
            full_env.update(env)
        return subprocess.run(
            [sys.executable, "-m", "hpreg", *map(str, args)],
            cwd=cwd,
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture(name="cli")
def fixture_cli(capsys, monkeypatch):
    """``cli(*argv, cwd=ROOT)`` -> (exit code, stdout, stderr) of ``main(argv)``."""
    monkeypatch.delenv("HPREG_DEBUG", raising=False)

    def run(*argv, cwd=ROOT):
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        from hpreg.cli import main

        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(name="hpreg_config")
def fixture_hpreg_config():
    """``hpreg_config(path)`` sets ``$HPREG_CONFIG`` (None unsets it) for this test;
    it is unset again before the managers are reset after the test."""

    def set_config(path):
        if path is None:
            os.environ.pop("HPREG_CONFIG", None)
        else:
            os.environ["HPREG_CONFIG"] = str(path)

    yield set_config
    os.environ.pop("HPREG_CONFIG", None)


@pytest.fixture(name="src")
def fixture_src(tree):
    """``src({"a.py": text})``: a tree of dedented files; returns its folder."""

    def write(files):
        return tree({name: textwrap.dedent(text) for name, text in files.items()})

    return write


# The real engines (tests/cluster/*.sh): the fixtures slurm_cluster,
# slurm_cluster_exclusive and postgres_url, the markers slurm and postgres, and the
# summary of the tests left out when an engine is not running.
pytest_plugins = ["cluster_support"]
