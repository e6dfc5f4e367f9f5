#!/usr/bin/env python3
"""hpargparse-style: a script whose hyperparameters become command-line options.

python examples/basic/main.py --lr 0.1 --net.width 256
python examples/basic/main.py --hp-list            # print the values as YAML
python examples/basic/main.py --hp-save hp.yaml    # ... and later --hp-load hp.yaml
"""

import argparse

from hpreg.argparse import bind
from hpreg.m import _


def describe_optimizer():
    name = _("optimizer", "sgd", choices=["sgd", "adam"], help="update rule")
    lr = _("lr", 0.01, help="learning rate", low=0.0)
    decay = _("weight_decay", 1e-5, low=0.0)
    return "{} (lr={}, weight_decay={})".format(name, lr, decay)


def describe_net():
    layers = _("layer_sizes", [64, 64], help="hidden units per layer")
    width = _("net.width", 128, help="input projection width", low=1)
    norm = "batch norm" if _("use_bn", True) else "no norm"
    return "width {} -> {} ({})".format(width, layers, norm)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="passes over the data")
    _.parse_file(__file__)  # static scan: no code of this file runs for it
    bind(parser, _)
    args = parser.parse_args(argv)

    print("epochs = {}".format(args.epochs))
    for name, value in _.get_values().items():
        print("{} = {!r}  ({})".format(name, value, _.provenance(name)))
    print("optimizer: {}".format(describe_optimizer()))
    print("net: {}".format(describe_net()))


if __name__ == "__main__":
    main()
