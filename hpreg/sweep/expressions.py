"""A small, safe evaluator for sweep expressions (``"d_model // 8"``, f-strings...).

The text is parsed with ``ast`` and checked against an allow-list, then turned into
plain Python closures: nothing is ever passed to ``eval``/``exec``. Dotted names
(``method.options.maxfun``) are hyperparameter names looked up in the point.
"""

import ast
import math
import operator
import re
import sys
from decimal import Decimal, InvalidOperation
from collections.abc import Sequence
from typing import Any, Callable, Mapping, Optional, Tuple

from hpreg.io.limits import MAX_SIZE, exception_reason, text_size
from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.errors import ExpressionError

__all__ = [
    "Expression",
    "FloatRange",
    "compile_expression",
    "evaluate_constant",
    "make_range",
]

MAX_TEXT = 10_000  # characters in one expression
MAX_INT_BITS = 100_000  # size of an int an expression may build with **
MAX_LENGTH = 100_000  # items of a string, list or tuple an expression may build
MAX_FORMAT_WIDTH = 1_000  # width / precision in an f-string format spec
MAX_ITERATION = 1_000_000  # items min()/max() may walk over
# A float range axis is stored as a list (int ranges stay lazy): cap its length.
MAX_FLOAT_AXIS = 1_000_000

ALLOWED_CALLS = ("min", "max", "abs", "round", "int", "float", "str", "len", "bool")
ALLOWED_CALLS += ("range",)
_SUMMARY = (
    "expressions allow numbers, strings, names, + - * / // % **, comparisons, "
    "and/or/not, 'x if c else y', [...] and (...), indexing, f-strings and calls to "
    + ", ".join(ALLOWED_CALLS)
)


class _Unsupported(Exception):
    """Internal: what is not allowed, raised during the allow-list walk."""


class _Failure(Exception):
    """Internal: a check that failed while evaluating (size limits...)."""


class _MissingName(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


# -- values ---------------------------------------------------------------------------
class FloatRange(Sequence):
    """``range`` for floats: ``start + i * step`` for every ``i`` with a value before
    ``stop``, computed in decimal from the numbers as written, so that
    ``FloatRange(0.1, 0.5, 0.1)`` is exactly ``0.1, 0.2, 0.3, 0.4`` (no accumulated
    error, and the end excluded as in Python)."""

    def __init__(self, start, stop, step=1):
        if step == 0:
            raise ValueError("range() step must not be zero")
        self.start, self.stop, self.step = start, stop, step
        self._start, self._step = _decimal(start), _decimal(step)
        span = (_decimal(stop) - self._start) / self._step
        self._len = max(0, int(span.to_integral_value(rounding="ROUND_CEILING")))

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("FloatRange index out of range")
        return float(self._start + index * self._step)

    def __iter__(self):
        for i in range(self._len):
            yield float(self._start + i * self._step)

    def __eq__(self, other):
        if isinstance(other, FloatRange):
            if self._len != other._len:
                return False
            return self._len == 0 or (
                (self._start, self._step) == (other._start, other._step)
                if self._len > 1
                else self[0] == other[0]
            )
        return NotImplemented

    def __hash__(self):
        return hash((self._len, self._start if self._len else None))

    def __repr__(self) -> str:
        return "FloatRange({!r}, {!r}, {!r})".format(self.start, self.stop, self.step)


def _decimal(number) -> Decimal:
    # repr gives the shortest text that reads back as the float: the number as written.
    try:
        value = Decimal(repr(number))
    except InvalidOperation:
        value = Decimal("nan")
    if not value.is_finite():
        raise ValueError("range() needs finite numbers, not {!r}".format(number))
    return value


def make_range(*args):
    """``range(stop)``, ``range(start, stop[, step])``: a ``range`` for ints, a
    :class:`FloatRange` when any bound is a float. Bools are refused."""
    if not 1 <= len(args) <= 3:
        raise TypeError("range expected 1 to 3 arguments, got {}".format(len(args)))
    for arg in args:
        if isinstance(arg, bool) or not isinstance(arg, (int, float)):
            raise TypeError("range() arguments must be numbers, not {!r}".format(arg))
    if len(args) == 1:
        args = (0,) + args
    if all(isinstance(arg, int) for arg in args):
        return range(*args)
    values = FloatRange(*args)
    if values._len > sys.maxsize:  # lazy, but past what len() and indexing take
        from hpreg.sweep.sizes import how_many

        raise ValueError(
            "a float range of {} values is too long (a sweep axis takes at most {} "
            "floats); use a larger step, or ints".format(
                how_many(values._len), MAX_FLOAT_AXIS
            )
        )
    return values


def _check_length(value):
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_LENGTH:
        raise _Failure("result longer than {} items".format(MAX_LENGTH))
    return value


def _mul(left, right):
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise _Failure("product too large (over {} bits)".format(MAX_INT_BITS))
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            if len(seq) * max(times, 0) > MAX_LENGTH:
                raise _Failure("repetition longer than {} items".format(MAX_LENGTH))
            if times > 0 and text_size(seq) * times > MAX_SIZE:
                raise _Failure(_too_large("repetition"))
    return left * right


def _too_large(what):
    return "{} too large (over {} characters or items written out)".format(
        what, MAX_SIZE
    )


def _pow(base, exponent):
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and exponent * math.log2(abs(base)) > MAX_INT_BITS:
            raise _Failure("power too large (over {} bits)".format(MAX_INT_BITS))
    result = base**exponent
    if isinstance(result, complex):
        raise _Failure("power gives a complex number")
    return result


def _mod(left, right):
    if isinstance(left, (str, bytes)):
        raise _Unsupported("'%' string formatting (use an f-string)")
    return left % right


def _add(left, right):
    for kind in (str, list, tuple):
        if isinstance(left, kind) and isinstance(right, kind):
            if len(left) + len(right) > MAX_LENGTH:
                raise _Failure("result longer than {} items".format(MAX_LENGTH))
            if kind is not str and text_size(left) + text_size(right) > MAX_SIZE:
                raise _Failure(_too_large("sum"))
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
            raise _Failure(
                "'in' would search a range of more than {} items".format(MAX_ITERATION)
            )
    return item in container


def _str(*args):
    if args and text_size(args[0]) > MAX_SIZE:
        raise _Failure(_too_large("str() of a value"))
    return _check_length(str(*args))


_BINARY = {
    ast.Add: _add,
    ast.Sub: operator.sub,
    ast.Mult: _mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: _mod,
    ast.Pow: _pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_}
_COMPARE = {
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
                raise _Failure(
                    "{}() over more than {} items".format(
                        function.__name__, MAX_ITERATION
                    )
                )
        return function(*args)

    return call


def _round(*args):
    if len(args) == 2 and isinstance(args[1], int) and abs(args[1]) > MAX_FORMAT_WIDTH:
        raise _Failure("round() to more than {} digits".format(MAX_FORMAT_WIDTH))
    return round(*args)


_FUNCTIONS = {
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
assert set(_FUNCTIONS) == set(ALLOWED_CALLS)

_FORMAT_NUMBER = re.compile(r"\d+")


def _format(value, conversion, spec):
    if text_size(value) > MAX_SIZE:
        raise _Failure(_too_large("formatting a value"))
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("s"):
        value = str(value)
    elif conversion == ord("a"):
        value = ascii(value)
    if spec:
        if any(int(n) > MAX_FORMAT_WIDTH for n in _FORMAT_NUMBER.findall(spec)):
            raise _Failure(
                "format width or precision over {} in {!r}".format(
                    MAX_FORMAT_WIDTH, spec
                )
            )
    return _check_length(format(value, spec))


def _sized(items):
    # a literal of k items each large would repeat them as '*' does
    if len(items) > 1 and text_size(items) > MAX_SIZE:
        raise _Failure(_too_large("list or tuple"))
    return items


# -- compiling --------------------------------------------------------------------------
def _dotted_name(node) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _is_dunder(name: str) -> bool:
    return any(p.startswith("__") and p.endswith("__") for p in name.split("."))


class _Compiler:
    """Walks an allow-listed AST and builds closures ``f(lookup) -> value``."""

    def __init__(self):
        self.names = []

    def compile(self, node):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise _Unsupported(_describe(node))
        return method(node)

    def visit_Expression(self, node):
        return self.compile(node.body)

    def visit_Constant(self, node):
        value = node.value
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise _Unsupported("the constant {!r}".format(value))
        return lambda lookup: value

    def _name(self, name):
        if _is_dunder(name):
            raise _Unsupported("the dunder name {!r}".format(name))
        if name not in self.names:
            self.names.append(name)
        return lambda lookup: lookup(name)

    def visit_Name(self, node):
        return self._name(node.id)

    def visit_Attribute(self, node):
        name = _dotted_name(node)
        if name is None:
            raise _Unsupported("attribute access ('.{}')".format(node.attr))
        return self._name(name)

    def visit_BinOp(self, node):
        function = _BINARY.get(type(node.op))
        if function is None:
            raise _Unsupported("the operator {}".format(_describe(node.op)))
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.JoinedStr):
            raise _Unsupported("'%' string formatting (use an f-string)")
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            if isinstance(node.left.value, str):
                raise _Unsupported("'%' string formatting (use an f-string)")
        left, right = self.compile(node.left), self.compile(node.right)
        return lambda lookup: function(left(lookup), right(lookup))

    def visit_UnaryOp(self, node):
        function = _UNARY.get(type(node.op))
        if function is None:
            raise _Unsupported("the operator {}".format(_describe(node.op)))
        operand = self.compile(node.operand)
        return lambda lookup: function(operand(lookup))

    def visit_BoolOp(self, node):
        values = [self.compile(value) for value in node.values]
        if isinstance(node.op, ast.And):

            def evaluate(lookup):
                result = True
                for value in values:
                    result = value(lookup)
                    if not result:
                        return result
                return result

        else:

            def evaluate(lookup):
                result = False
                for value in values:
                    result = value(lookup)
                    if result:
                        return result
                return result

        return evaluate

    def visit_Compare(self, node):
        operands = [self.compile(node.left)]
        operands += [self.compile(c) for c in node.comparators]
        functions = []
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise _Unsupported("the comparison {}".format(_describe(op)))
            functions.append(_COMPARE[type(op)])

        def evaluate(lookup):
            left = operands[0](lookup)
            for function, operand in zip(functions, operands[1:]):
                right = operand(lookup)
                if not function(left, right):
                    return False
                left = right
            return True

        return evaluate

    def visit_IfExp(self, node):
        test, body = self.compile(node.test), self.compile(node.body)
        orelse = self.compile(node.orelse)
        return lambda lookup: body(lookup) if test(lookup) else orelse(lookup)

    def visit_List(self, node):
        items = self._items(node)
        return lambda lookup: _sized([item(lookup) for item in items])

    def visit_Tuple(self, node):
        items = self._items(node)
        return lambda lookup: _sized(tuple(item(lookup) for item in items))

    def _items(self, node):
        for item in node.elts:
            if isinstance(item, ast.Starred):
                raise _Unsupported("unpacking with '*'")
        return [self.compile(item) for item in node.elts]

    def visit_Subscript(self, node):
        index = node.slice
        if isinstance(index, ast.Slice):
            raise _Unsupported("slices")
        container, key = self.compile(node.value), self.compile(index)

        def evaluate(lookup):
            value = container(lookup)
            if not isinstance(value, (list, tuple, str, dict)):
                raise TypeError("cannot index a {} value".format(type(value).__name__))
            return value[key(lookup)]

        return evaluate

    def visit_Call(self, node):
        if not isinstance(node.func, ast.Name):
            name = _dotted_name(node.func)
            what = "method calls" if name is None else "calling {!r}".format(name)
            raise _Unsupported(what)
        if node.func.id not in _FUNCTIONS:
            raise _Unsupported("calling {!r}".format(node.func.id))
        if node.keywords:
            raise _Unsupported("keyword arguments")
        function = _FUNCTIONS[node.func.id]
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _Unsupported("unpacking with '*'")
        args = [self.compile(arg) for arg in node.args]
        return lambda lookup: function(*[arg(lookup) for arg in args])

    def visit_JoinedStr(self, node):
        parts = [self.compile(value) for value in node.values]

        def evaluate(lookup):
            texts = [part(lookup) for part in parts]
            if sum(len(text) for text in texts) > MAX_LENGTH:
                raise _Failure("result longer than {} items".format(MAX_LENGTH))
            return "".join(texts)

        return evaluate

    def visit_FormattedValue(self, node):
        value = self.compile(node.value)
        spec = self.compile(node.format_spec) if node.format_spec else None
        conversion = node.conversion

        def evaluate(lookup):
            return _format(value(lookup), conversion, spec(lookup) if spec else "")

        return evaluate


_DESCRIPTIONS = {
    "Lambda": "lambda",
    "ListComp": "comprehensions",
    "SetComp": "comprehensions",
    "DictComp": "comprehensions",
    "GeneratorExp": "generator expressions",
    "Dict": "dict literals",
    "Set": "set literals",
    "NamedExpr": "assignment expressions (':=')",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
    "Starred": "unpacking with '*'",
    "BitAnd": "'&'",
    "BitOr": "'|'",
    "BitXor": "'^'",
    "LShift": "'<<'",
    "RShift": "'>>'",
    "MatMult": "'@'",
    "Invert": "'~'",
}


def _describe(node) -> str:
    kind = type(node).__name__
    return _DESCRIPTIONS.get(kind, kind)


# -- the public face ---------------------------------------------------------------------
class Expression:
    """A compiled, safe expression: ``expr(point)`` evaluates it over a point (a dict).

    ``names`` lists the names it reads, in order of first appearance; ``text`` and
    ``where`` (e.g. ``"sweep.yaml: derive.d_head"``) are kept for error messages.
    """

    __slots__ = ("text", "where", "names", "_evaluate")

    def __init__(self, text: str, where: str, names: Tuple[str, ...], evaluate):
        self.text = text
        self.where = where
        self.names = names
        self._evaluate = evaluate

    def __call__(self, point: Mapping[str, Any], resolve: Optional[Callable] = None):
        """Evaluate over ``point``; ``resolve(name, point)`` may map a name to the key
        to read (used for scoped names), returning None when there is none."""

        def lookup(name):
            key = resolve(name, point) if resolve is not None else name
            if key is None or key not in point:
                raise _MissingName(name)
            return point[key]

        try:
            return self._evaluate(lookup)
        except _MissingName as exc:
            available = sorted(str(key) for key in point)
            suggestions = did_you_mean(exc.name, available)
            raise ExpressionError(
                where=self.where,
                problem="unknown name {!r} in {!r}".format(exc.name, self.text),
                fix=join_fix(
                    suggestion(suggestions) or "set it before it is read",
                    "(names available here: {})".format(_shorten(available)),
                ),
                text=self.text,
                name=exc.name,
                suggestions=suggestions,
                available=available,
            ) from None
        except _Unsupported as exc:
            raise _unsupported_error(self.text, self.where, str(exc)) from None
        except (
            _Failure,
            ArithmeticError,
            TypeError,
            ValueError,
            LookupError,
            RecursionError,
            MemoryError,
        ) as exc:
            raise ExpressionError(
                where=self.where,
                problem="cannot evaluate {!r}: {}".format(
                    self.text, exception_reason(exc)
                ),
                fix="check the values it reads ({})".format(
                    _show_values(self.names, point, resolve)
                ),
                text=self.text,
                reason=exception_reason(exc),
            ) from None

    def __repr__(self) -> str:
        return "Expression({!r})".format(self.text)


def _shorten(names, limit=20) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += ", ... ({} more)".format(len(names) - limit)
    return shown


def _show_values(names, point, resolve) -> str:
    shown = []
    for name in names:
        key = resolve(name, point) if resolve is not None else name
        if key is not None and key in point:
            shown.append("{}={}".format(name, _show_value(point[key])))
    return ", ".join(shown) or "it reads no names"


def _show_value(value, limit=200) -> str:
    """``repr(value)``, or its type and size when that would be long (a huge int's
    repr may not even be allowed)."""
    if text_size(value, limit) > limit:
        if isinstance(value, int) and not isinstance(value, bool):
            return "<an int of about {} digits>".format(
                int(value.bit_length() * 0.30103)
            )
        if hasattr(value, "__len__"):
            try:
                return "<a {} of {} items>".format(type(value).__name__, len(value))
            except (TypeError, OverflowError):
                pass
        return "<a large {}>".format(type(value).__name__)
    return repr(value)


def _unsupported_error(text, where, what):
    return ExpressionError(
        where=where,
        problem="unsupported in expression {!r}: {}".format(text, what),
        fix=_SUMMARY,
        text=text,
        unsupported=what,
    )


def compile_expression(text: str, where: str = "") -> Expression:
    """Check ``text`` against the allow-list and compile it; errors name ``where``."""
    if not isinstance(text, str):
        raise ExpressionError(
            where=where,
            problem="an expression must be a string, not {!r}".format(text),
            text=text,
        )
    if len(text) > MAX_TEXT:
        raise ExpressionError(
            where=where,
            problem="expression longer than {} characters".format(MAX_TEXT),
            fix="split it with derive",
            text=text[:100],
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        column = " at column {}".format(exc.offset) if exc.offset else ""
        # Python 3.9's parser says this of an incomplete expression; later ones do not
        problem = "invalid syntax" if "unexpected EOF" in exc.msg else exc.msg
        raise ExpressionError(
            where=where,
            problem="invalid expression {!r}: {}{}".format(text, problem, column),
            fix="write a Python expression such as 'd_model // 8'",
            text=text,
            reason=problem,
        ) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise ExpressionError(
            where=where,
            problem="invalid expression {!r}: {}".format(text, exception_reason(exc)),
            text=text,
        ) from None
    compiler = _Compiler()
    try:
        evaluate = compiler.compile(tree)
    except _Unsupported as exc:
        raise _unsupported_error(text, where, str(exc)) from None
    except RecursionError:
        raise ExpressionError(
            where=where,
            problem="expression {!r} is too deeply nested".format(text[:100]),
            text=text,
        ) from None
    return Expression(text, where, tuple(compiler.names), evaluate)


def evaluate_constant(text: str, where: str = "") -> Any:
    """Compile and evaluate an expression that reads no names (e.g. an axis range)."""
    expression = compile_expression(text, where)
    if expression.names:
        raise ExpressionError(
            where=where,
            problem="{!r} reads {}".format(
                text, ", ".join(repr(n) for n in expression.names)
            ),
            fix="a fixed value cannot read names (use derive)",
            text=text,
            names=expression.names,
        )
    return expression({})
