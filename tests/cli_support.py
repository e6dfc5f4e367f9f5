"""What the command-line tests share: example paths, output parsers, checks."""

import json
import os
import re

from conftest import EXAMPLES

TRAIN = os.path.join("examples", "train")
TRAIN_ABS = os.path.join(EXAMPLES, "train")
TRAIN_NAMES = [
    "data.seed",
    "data.n_features",
    "data.n_samples",
    "data.noise",
    "model.hidden",
    "model.init_scale",
    "optim.lr",
    "optim.momentum",
    "train.batch_size",
    "train.epochs",
]
LINT_LINE = re.compile(r"^[^:\s]+:\d+(:\d+)?: \S.*$")


def one_error_line(err):
    """The single ``hpreg: error: ...`` line on stderr, without a traceback."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hpreg: error: "), err
    return lines[0][len("hpreg: error: ") :]


def table(text):
    """(header, rows) of a PrettyTable listing."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return cells[0], cells[1:]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()]


MULTI = {
    "a.py": """\
        from hpreg.m import _, hp
        lr = _("lr", 0.1, low=0.0)
        width = hp("width", 64, low=1)
        """,
    "sub/b.py": """\
        from hpreg.m import cfg
        seed = cfg("seed", 0)
        """,
}
