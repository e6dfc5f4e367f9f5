"""Train the tiny model; every hyperparameter is declared where it is used.

python examples/train/train.py --optim.lr 0.1 --model.hidden 4
python examples/train/train.py --hp-list table
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hpreg  # noqa: E402
from hpreg.m import _  # noqa: E402

from data import make_dataset  # noqa: E402
from model import init_params  # noqa: E402
from optim import loss, sgd_step  # noqa: E402


def train():
    rows = make_dataset()
    split = int(len(rows) * 0.8)
    train_rows, valid_rows = rows[:split], rows[split:]
    params = init_params(len(rows[0][0]))
    velocity = {}
    batch_size = _("train.batch_size", 32, choices=[8, 16, 32, 64])
    for _epoch in range(_("train.epochs", 3, low=1)):
        for start in range(0, len(train_rows), batch_size):
            sgd_step(params, train_rows[start : start + batch_size], velocity)
    return {
        "train_loss": loss(params, train_rows),
        "valid_loss": loss(params, valid_rows),
    }


if __name__ == "__main__":
    hpreg.parse_args(_, paths=[os.path.dirname(os.path.abspath(__file__))])
    losses = train()
    hpreg.report(
        **losses
    )  # into the run's metrics.jsonl under 'hpreg run'; else nothing
    print(json.dumps(losses))
