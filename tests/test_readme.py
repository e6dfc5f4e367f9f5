"""Every example in README.md runs: Python blocks execute, console blocks' commands
exit 0 and print the lines shown under them."""

import os
import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT

README = os.path.join(ROOT, "README.md")
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _blocks(kind):
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return [body for lang, body in BLOCK.findall(text) if lang == kind]


def _console_commands():
    commands = []
    for body in _blocks("console"):
        current = None
        for line in body.splitlines():
            if line.startswith("$ "):
                current = (line[2:], [])
                commands.append(current)
            elif current is not None and line.strip():
                current[1].append(line.strip())
    return commands


def test_readme_has_examples():
    assert len(_blocks("python")) >= 3
    assert len(_console_commands()) >= 6


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_block_runs(index, tmp_path):
    script = tmp_path / "block.py"
    script.write_text(_blocks("python")[index], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(name="shared_dir", scope="module")
def fixture_shared_dir(tmp_path_factory):
    """One folder for the whole README: a later command reads what an earlier wrote."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "demo-out").mkdir()
    return folder


@pytest.mark.parametrize(
    "command, expected", _console_commands(), ids=[c for c, _ in _console_commands()]
)
def test_console_command(command, expected, shared_dir):
    tmp_path = shared_dir
    argv = shlex.split(command)
    argv = [sys.executable, "-m", "hpreg"] + argv[1:] if argv[0] == "hpreg" else argv
    if argv[0] == "python":
        argv[0] = sys.executable
    if "--" in argv:  # the command `hpreg run` runs: this interpreter too
        cut = argv.index("--")
        argv[cut:] = [sys.executable if a == "python" else a for a in argv[cut:]]
    argv = [a.replace("demo-out", str(tmp_path / "demo-out")) for a in argv]
    env = dict(os.environ, HPREG_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    for line in expected:
        line = line.replace("demo-out", str(tmp_path / "demo-out"))
        assert line in lines, "{!r} not in output:\n{}".format(line, result.stdout)
