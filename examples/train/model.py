"""A tiny model: a linear layer, optionally followed by a hidden tanh layer."""

import math
import random

from hpreg.m import _


def init_params(n_features):
    rng = random.Random(_("data.seed"))
    hidden = _("model.hidden", 0, help="hidden units (0: linear model)", low=0)
    scale = _("model.init_scale", 0.1, low=0.0)
    if hidden == 0:
        return {"w": [rng.gauss(0, scale) for _i in range(n_features)], "b": 0.0}
    return {
        "w1": [
            [rng.gauss(0, scale) for _i in range(n_features)] for _j in range(hidden)
        ],
        "w2": [rng.gauss(0, scale) for _j in range(hidden)],
        "b": 0.0,
    }


def predict(params, x):
    if "w" in params:
        return sum(w * v for w, v in zip(params["w"], x)) + params["b"]
    hidden = [math.tanh(sum(w * v for w, v in zip(row, x))) for row in params["w1"]]
    return sum(w * h for w, h in zip(params["w2"], hidden)) + params["b"]
