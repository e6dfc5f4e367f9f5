"""Plain SGD or SGD with momentum, by numerical gradients on a mini-batch."""

from hpreg.m import _

from model import predict


def loss(params, batch):
    return sum((predict(params, x) - y) ** 2 for x, y in batch) / len(batch)


def _flat_keys(params):
    for key, value in params.items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            for i, row in enumerate(value):
                for j in range(len(row)):
                    yield (key, i, j)
        elif isinstance(value, list):
            for i in range(len(value)):
                yield (key, i)
        else:
            yield (key,)


def _get(params, key):
    value = params[key[0]]
    for index in key[1:]:
        value = value[index]
    return value


def _set(params, key, new):
    if len(key) == 1:
        params[key[0]] = new
        return
    target = params[key[0]]
    for index in key[1:-1]:
        target = target[index]
    target[key[-1]] = new


def sgd_step(params, batch, velocity):
    lr = _("optim.lr", 0.05, help="learning rate", low=0.0)
    momentum = _("optim.momentum", 0.0, low=0.0, high=1.0)
    eps = 1e-4
    base = loss(params, batch)
    grads = {}
    for key in list(_flat_keys(params)):
        old = _get(params, key)
        _set(params, key, old + eps)
        grads[key] = (loss(params, batch) - base) / eps
        _set(params, key, old)
    for key, grad in grads.items():
        velocity[key] = momentum * velocity.get(key, 0.0) + grad
        _set(params, key, _get(params, key) - lr * velocity[key])
