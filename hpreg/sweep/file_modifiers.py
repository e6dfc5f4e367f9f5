"""A sweep file's ``derive``, ``where`` and ``unique``: expressions compiled once,
evaluated per point, their errors located at the file and key."""

from typing import Any, Callable, Dict, Optional

from hpreg.errors import ExpressionError, SweepError
from hpreg.sweep.context import _Context, _reraise, _type_name
from hpreg.sweep.expressions import compile_expression
from hpreg.sweep.file_keys import check_key

__all__ = ["apply_modifiers", "locate_expression_error"]


def _resolver(prefix: str) -> Optional[Callable]:
    if not prefix:
        return None
    scoped = prefix + "."

    def resolve(name, point):
        if scoped + name in point:
            return scoped + name
        return name if name in point else None

    return resolve


def locate_expression_error(exc: ExpressionError, ctx: _Context) -> ExpressionError:
    exc.path, exc.key = ctx.source, ctx.key
    return exc


class _Compiled:
    """A file expression as a function of the point (for derive and where); errors
    carry the file and key path as ``path`` and ``key``."""

    __slots__ = ("expression", "ctx", "resolve")

    def __init__(self, text: str, ctx: _Context):
        try:
            self.expression = compile_expression(text, where=ctx.where)
        except ExpressionError as exc:
            raise locate_expression_error(exc, ctx) from None
        self.ctx = ctx
        self.resolve = _resolver(ctx.prefix)

    def __call__(self, point):
        try:
            return self.expression(point, self.resolve)
        except ExpressionError as exc:
            raise locate_expression_error(exc, self.ctx) from None

    def __repr__(self) -> str:
        return "expr({!r})".format(self.expression.text)


class _Predicate(_Compiled):
    __slots__ = ()

    def __call__(self, point) -> bool:
        return bool(super().__call__(point))


class _Constant:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __call__(self, point):
        return self.value

    def __repr__(self) -> str:
        return "const({!r})".format(self.value)


def _derivations(
    value: Any, ctx: _Context, out: Dict[str, Callable], keys: Dict[str, _Context]
) -> None:
    if not isinstance(value, dict) or not value:
        raise ctx.error(
            "expected a mapping of names to expressions, got {}".format(
                _type_name(value)
            ),
            "write derive: {d_head: 'd_model // 8'}",
        )
    for key, item in value.items():
        check_key(key, ctx, item)
        here = ctx.child(key)
        full = ctx.name(key)
        if isinstance(item, dict) and set(item) == {"value"}:
            out[full] = _Constant(item["value"])
        elif isinstance(item, dict):
            _derivations(item, _Context(ctx.source, here.key, full), out, keys)
            continue
        elif isinstance(item, str):
            out[full] = _Compiled(item, _Context(ctx.source, here.key, ctx.prefix))
        else:
            out[full] = _Constant(item)
        keys[full] = here


def apply_modifiers(sweep, modifiers: dict, ctx: _Context):
    if "derive" in modifiers:
        functions: Dict[str, Callable] = {}
        keys: Dict[str, _Context] = {}
        _derivations(modifiers["derive"], ctx.child("derive"), functions, keys)
        try:
            sweep = sweep.derive(**functions)
        except SweepError as exc:  # e.g. a derived name the sweep already sets
            at = keys.get(getattr(exc, "name", None), ctx.child("derive"))
            at.build(_reraise, exc)
        sweep = sweep.located({name: at.key for name, at in keys.items()})
    if "where" in modifiers:
        here = ctx.child("where")
        text = modifiers["where"]
        if not isinstance(text, str):
            raise here.error(
                "expected an expression string, got {}".format(_type_name(text)),
                "write where: 'd_model <= d_ff'",
            )
        sweep = sweep.where(
            _Predicate(text, _Context(ctx.source, here.key, ctx.prefix))
        )
    if "unique" in modifiers:
        flag = modifiers["unique"]
        if not isinstance(flag, bool):
            raise ctx.child("unique").error(
                "expected true or false, got {}".format(_type_name(flag)),
                "write unique: true",
            )
        if flag:
            sweep = sweep.unique()
    return sweep
