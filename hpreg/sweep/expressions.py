"""A small, safe evaluator for sweep expressions (``"d_model // 8"``, f-strings...).

The text is parsed with ``ast`` and checked against an allow-list, then turned into
plain Python closures: nothing is ever passed to ``eval``/``exec``. Dotted names
(``method.options.maxfun``) are hyperparameter names looked up in the point.
"""

import ast
from typing import Any, Callable, Mapping, Optional, Tuple

from hpreg.io.limits import exception_reason, text_size
from hpreg._text import did_you_mean, join_fix, suggestion
from hpreg.errors import ExpressionError
from hpreg.sweep.bounded import (
    ALLOWED_CALLS,
    BINARY,
    COMPARE,
    FUNCTIONS,
    MAX_LENGTH,
    UNARY,
    LimitExceeded,
    Unsupported,
    format_value,
    sized,
)
from hpreg.sweep.ranges import MAX_FLOAT_AXIS, FloatRange, make_range  # noqa: F401

__all__ = [
    "Expression",
    "FloatRange",
    "compile_expression",
    "evaluate_constant",
    "make_range",
]

MAX_TEXT = 10_000  # characters in one expression
_SUMMARY = (
    "expressions allow numbers, strings, names, + - * / // % **, comparisons, "
    "and/or/not, 'x if c else y', [...] and (...), indexing, f-strings and calls to "
    + ", ".join(ALLOWED_CALLS)
)


class _MissingName(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


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
            raise Unsupported(_describe(node))
        return method(node)

    def visit_Expression(self, node):
        return self.compile(node.body)

    def visit_Constant(self, node):
        value = node.value
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise Unsupported("the constant {!r}".format(value))
        return lambda lookup: value

    def _name(self, name):
        if _is_dunder(name):
            raise Unsupported("the dunder name {!r}".format(name))
        if name not in self.names:
            self.names.append(name)
        return lambda lookup: lookup(name)

    def visit_Name(self, node):
        return self._name(node.id)

    def visit_Attribute(self, node):
        name = _dotted_name(node)
        if name is None:
            raise Unsupported("attribute access ('.{}')".format(node.attr))
        return self._name(name)

    def visit_BinOp(self, node):
        function = BINARY.get(type(node.op))
        if function is None:
            raise Unsupported("the operator {}".format(_describe(node.op)))
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.JoinedStr):
            raise Unsupported("'%' string formatting (use an f-string)")
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            if isinstance(node.left.value, str):
                raise Unsupported("'%' string formatting (use an f-string)")
        left, right = self.compile(node.left), self.compile(node.right)
        return lambda lookup: function(left(lookup), right(lookup))

    def visit_UnaryOp(self, node):
        function = UNARY.get(type(node.op))
        if function is None:
            raise Unsupported("the operator {}".format(_describe(node.op)))
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
            if type(op) not in COMPARE:
                raise Unsupported("the comparison {}".format(_describe(op)))
            functions.append(COMPARE[type(op)])

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
        return lambda lookup: sized([item(lookup) for item in items])

    def visit_Tuple(self, node):
        items = self._items(node)
        return lambda lookup: sized(tuple(item(lookup) for item in items))

    def _items(self, node):
        for item in node.elts:
            if isinstance(item, ast.Starred):
                raise Unsupported("unpacking with '*'")
        return [self.compile(item) for item in node.elts]

    def visit_Subscript(self, node):
        index = node.slice
        if isinstance(index, ast.Slice):
            raise Unsupported("slices")
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
            raise Unsupported(what)
        if node.func.id not in FUNCTIONS:
            raise Unsupported("calling {!r}".format(node.func.id))
        if node.keywords:
            raise Unsupported("keyword arguments")
        function = FUNCTIONS[node.func.id]
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise Unsupported("unpacking with '*'")
        args = [self.compile(arg) for arg in node.args]
        return lambda lookup: function(*[arg(lookup) for arg in args])

    def visit_JoinedStr(self, node):
        parts = [self.compile(value) for value in node.values]

        def evaluate(lookup):
            texts = [part(lookup) for part in parts]
            if sum(len(text) for text in texts) > MAX_LENGTH:
                raise LimitExceeded("result longer than {} items".format(MAX_LENGTH))
            return "".join(texts)

        return evaluate

    def visit_FormattedValue(self, node):
        value = self.compile(node.value)
        spec = self.compile(node.format_spec) if node.format_spec else None
        conversion = node.conversion

        def evaluate(lookup):
            return format_value(value(lookup), conversion, spec(lookup) if spec else "")

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
        except Unsupported as exc:
            raise _unsupported_error(self.text, self.where, str(exc)) from None
        except (
            LimitExceeded,
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
    except Unsupported as exc:
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
