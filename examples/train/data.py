"""A synthetic regression data set: y = sum(w_i * x_i) + noise."""

import random

from hpreg.m import _


def make_dataset():
    rng = random.Random(_("data.seed", 0))
    n_features = _("data.n_features", 4, low=1, high=64)
    true_weights = [rng.uniform(-1, 1) for _i in range(n_features)]
    rows = []
    for _i in range(_("data.n_samples", 256, help="training examples", low=16)):
        x = [rng.gauss(0, 1) for _j in range(n_features)]
        noise = rng.gauss(0, _("data.noise", 0.1, low=0.0))
        rows.append((x, sum(w * v for w, v in zip(true_weights, x)) + noise))
    return rows
