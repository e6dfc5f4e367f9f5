"""The operations a sweep expression may perform, each checked against size limits
from its operands before it runs (so ``2**10**10`` or ``'a' * 10**12`` is refused at
once, never built); and the functions an expression may call."""

import ast
import math
import operator
import re

from hpreg.io.limits import MAX_SIZE, text_size
from hpreg.sweep.ranges import FloatRange, make_range

MAX_INT_BITS = 100_000  # size of an int an expression may build with **
MAX_LENGTH = 100_000  # items of a string, list or tuple an expression may build
MAX_FORMAT_WIDTH = 1_000  # width / precision in an f-string format spec
MAX_ITERATION = 1_000_000  # items min()/max() may walk over

ALLOWED_CALLS = ("min", "max", "abs", "round", "int", "float", "str", "len", "bool")
ALLOWED_CALLS += ("range",)


class Unsupported(Exception):
    """What an expression may not do, found while it is checked or evaluated."""


class LimitExceeded(Exception):
    """A size limit an operation would exceed; raised before it runs."""


def _check_length(value):
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_LENGTH:
        raise LimitExceeded("result longer than {} items".format(MAX_LENGTH))
    return value


def _mul(left, right):
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise LimitExceeded("product too large (over {} bits)".format(MAX_INT_BITS))
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            if len(seq) * max(times, 0) > MAX_LENGTH:
                raise LimitExceeded(
                    "repetition longer than {} items".format(MAX_LENGTH)
                )
            if times > 0 and text_size(seq) * times > MAX_SIZE:
                raise LimitExceeded(_too_large("repetition"))
    return left * right


def _too_large(what):
    return "{} too large (over {} characters or items written out)".format(
        what, MAX_SIZE
    )


def _pow(base, exponent):
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and exponent * math.log2(abs(base)) > MAX_INT_BITS:
            raise LimitExceeded("power too large (over {} bits)".format(MAX_INT_BITS))
    result = base**exponent
    if isinstance(result, complex):
        raise LimitExceeded("power gives a complex number")
    return result


def _mod(left, right):
    if isinstance(left, (str, bytes)):
        raise Unsupported("'%' string formatting (use an f-string)")
    return left % right


def _add(left, right):
    for kind in (str, list, tuple):
        if isinstance(left, kind) and isinstance(right, kind):
            if len(left) + len(right) > MAX_LENGTH:
                raise LimitExceeded("result longer than {} items".format(MAX_LENGTH))
            if kind is not str and text_size(left) + text_size(right) > MAX_SIZE:
                raise LimitExceeded(_too_large("sum"))
    return _check_length(left + right)


def _contains(item, container):
    if isinstance(container, range) and type(item) in (int, bool):
        return item in container  # computed, not searched
    if isinstance(container, (range, FloatRange)):
        try:
            size = len(container)
        except OverflowError:
            size = MAX_ITERATION + 1
        if size > MAX_ITERATION:
            raise LimitExceeded(
                "'in' would search a range of more than {} items".format(MAX_ITERATION)
            )
    return item in container


def _str(*args):
    if args and text_size(args[0]) > MAX_SIZE:
        raise LimitExceeded(_too_large("str() of a value"))
    return _check_length(str(*args))


BINARY = {
    ast.Add: _add,
    ast.Sub: operator.sub,
    ast.Mult: _mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: _mod,
    ast.Pow: _pow,
}
UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_}
COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: _contains,
    ast.NotIn: lambda a, b: not _contains(a, b),
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


def _min_max(function):
    def call(*args):
        if len(args) == 1 and hasattr(args[0], "__len__"):
            if len(args[0]) > MAX_ITERATION:
                raise LimitExceeded(
                    "{}() over more than {} items".format(
                        function.__name__, MAX_ITERATION
                    )
                )
        return function(*args)

    return call


def _round(*args):
    if len(args) == 2 and isinstance(args[1], int) and abs(args[1]) > MAX_FORMAT_WIDTH:
        raise LimitExceeded("round() to more than {} digits".format(MAX_FORMAT_WIDTH))
    return round(*args)


FUNCTIONS = {
    "min": _min_max(min),
    "max": _min_max(max),
    "abs": abs,
    "round": _round,
    "int": int,
    "float": float,
    "str": _str,
    "len": len,
    "bool": bool,
    "range": make_range,
}
assert set(FUNCTIONS) == set(ALLOWED_CALLS)

_FORMAT_NUMBER = re.compile(r"\d+")


def format_value(value, conversion, spec):
    if text_size(value) > MAX_SIZE:
        raise LimitExceeded(_too_large("formatting a value"))
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    if spec:
        if any(int(n) > MAX_FORMAT_WIDTH for n in _FORMAT_NUMBER.findall(spec)):
            raise LimitExceeded(
                "format width or precision over {} in {!r}".format(
                    MAX_FORMAT_WIDTH, spec
                )
            )
    return _check_length(format(value, spec))


def sized(items):
    # a literal of k items each large would repeat them as '*' does
    if len(items) > 1 and text_size(items) > MAX_SIZE:
        raise LimitExceeded(_too_large("list or tuple"))
    return items
