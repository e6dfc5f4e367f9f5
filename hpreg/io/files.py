"""The one YAML/JSON reader and writer of hpreg: values files, sweep files, command lines.

YAML is read with a ``yaml.SafeLoader`` subclass that follows the YAML 1.2 core schema
for plain scalars (``1e-3`` is a float, ``no`` a string, ``010`` the int 10).
"""

import json
import os
import re
from typing import Any, Optional, Type, Union

import yaml

from hpreg.io.atomic import write_atomic  # noqa: F401 (the one atomic writer)
from hpreg.io.limits import BoundedYamlLoading, DuplicateJsonKey, load_json_text
from hpreg.io.source import display_path
from hpreg.io.tree import plain_value
from hpreg.errors import HpregError, UsageError, ValuesFileError

__all__ = [
    "HpregLoader",
    "HpregDumper",
    "load_yaml_text",
    "load_yaml_file",
    "parse_scalar",
    "dump_yaml",
    "load_values_file",
    "dump_values_file",
    "plain_values",
]

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
# YAML 1.1 tags that the 1.2 core schema does not resolve from plain scalars.
_DROPPED = {_NULL, _BOOL, _INT, _FLOAT, "tag:yaml.org,2002:timestamp"}
_DROPPED.add("tag:yaml.org,2002:value")

# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1033-core-schema).
_CORE_RESOLVERS = [
    (_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
    (_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
    (
        _INT,
        re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
        list("-+0123456789"),
    ),
    (
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+.0123456789"),
    ),
]


def _core_resolvers(base):
    table = {
        first: [(tag, regexp) for tag, regexp in pairs if tag not in _DROPPED]
        for first, pairs in base.yaml_implicit_resolvers.items()
    }
    for tag, regexp, firsts in _CORE_RESOLVERS:
        for first in firsts:
            table.setdefault(first, []).append((tag, regexp))
    return {first: pairs for first, pairs in table.items() if pairs}


class HpregLoader(BoundedYamlLoading, yaml.SafeLoader):
    """A safe loader with YAML 1.2 core-schema scalars that refuses duplicate keys."""

    yaml_implicit_resolvers = _core_resolvers(yaml.SafeLoader)

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        if text.startswith("0x"):
            return int(text[2:], 16)
        if text.startswith("0o"):
            return int(text[2:], 8)
        return int(text, 10)  # "010" is 10: YAML 1.2 has no implicit octal

    def construct_yaml_float(self, node):
        text = self.construct_scalar(node).lower()
        sign = -1.0 if text.startswith("-") else 1.0
        body = text.lstrip("+-")
        if body == ".inf":
            return sign * float("inf")
        if body == ".nan":
            return float("nan")
        return float(text)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    continue  # unhashable keys are reported by the base class
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        "found duplicate key {!r} (first at line {})".format(
                            key, first.start_mark.line + 1
                        ),
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


HpregLoader.add_constructor(_INT, HpregLoader.construct_yaml_int)
HpregLoader.add_constructor(_FLOAT, HpregLoader.construct_yaml_float)


def _union_resolvers(*tables):
    union = {}
    for table in tables:
        for first, pairs in table.items():
            union.setdefault(first, []).extend(pairs)
    return union


class HpregDumper(yaml.SafeDumper):
    """A safe dumper that quotes any string YAML 1.1 *or* 1.2 would read as non-string.

    Tuples are written as lists. Keys keep their insertion order.
    """

    yaml_implicit_resolvers = _union_resolvers(
        HpregLoader.yaml_implicit_resolvers, yaml.SafeDumper.yaml_implicit_resolvers
    )


HpregDumper.add_representer(tuple, HpregDumper.represent_list)

# Line breaks YAML readers fold to spaces unless double-quoted (escaped).
_FOLDED_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper, data):
    if any(ch in data for ch in _FOLDED_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_str(data)


HpregDumper.add_representer(str, _represent_str)


def _yaml_problem(exc) -> str:
    """What PyYAML found wrong, on one line (its ``str()`` spans several)."""
    if isinstance(exc, yaml.reader.ReaderError):  # no problem/mark of its own
        character = exc.character
        if isinstance(character, int):
            character = "#x{:04x}".format(character)
        else:
            character = repr(character)
        return "unacceptable character {}: {}".format(character, exc.reason)
    problem = getattr(exc, "problem", None) or str(exc)
    return re.sub(r"\s*\n\s*", " ", problem).strip()


def _reader_mark(exc, text: Optional[str]):
    """(line, column) of a ReaderError's position in ``text``, 1-based."""
    position = getattr(exc, "position", None)
    if not isinstance(exc, yaml.reader.ReaderError) or text is None:
        return None
    if not isinstance(position, int) or not 0 <= position <= len(text):
        return None
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def _yaml_error(exc, source, error, text: Optional[str] = None):
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = _yaml_problem(exc)
    context = getattr(exc, "context", None)
    fix = "fix the file's syntax"
    if problem.startswith("found duplicate key"):
        fix = "keep one of them"
    elif getattr(exc, "fix", None):
        fix = exc.fix
    elif context and context != "while constructing a mapping":
        problem = "{} ({})".format(problem, context)
    line = column = None
    where = display_path(source)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    elif _reader_mark(exc, text) is not None:
        line, column = _reader_mark(exc, text)
    if line is not None:
        where = "{}:{}:{}".format(display_path(source), line, column)
    return error(
        where=where,
        problem="invalid YAML: {}".format(problem),
        fix=fix,
        path=source,
        line=line,
        column=column,
        reason=problem,
        key=None,
    )


def load_yaml_text(
    text: str, source: str = "<string>", error: Type[HpregError] = ValuesFileError
) -> Any:
    """Parse YAML ``text`` safely; a syntax error raises ``error`` naming source:line:col."""
    try:
        return yaml.load(text, Loader=HpregLoader)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source, error, text) from None


def read_text(path, error):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise error(
            where=display_path(str(path)),
            problem="file not found",
            fix="check the path",
            path=str(path),
            key=None,
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL
        reason = getattr(exc, "strerror", None) or str(exc)
        raise error(
            where=display_path(str(path)),
            problem="cannot read: {}".format(reason),
            path=str(path),
            key=None,
        ) from None


def load_yaml_file(path, error: Type[HpregError] = ValuesFileError) -> Any:
    """Read and parse a YAML file; errors raise ``error`` naming path:line:col."""
    return load_yaml_text(read_text(path, error), source=str(path), error=error)


def parse_scalar(text: str, where: Optional[str] = None) -> Any:
    """Read one command-line value as YAML 1.2: ``3``, ``1e-3``, ``abc``, ``[1, 2]``...

    An empty text is the empty string. Text that YAML would read as a block
    mapping or sequence, or with a trailing comment (``a: b``, ``- x``, ``a #b``),
    stays the string it is. A flow collection that does not parse is a UsageError.
    """
    stripped = text.strip()
    if not stripped:
        return text
    if stripped[0] in "[{":
        stripped = _hydra_flow(stripped, text, where)
    try:
        node = yaml.compose(stripped, Loader=HpregLoader)
    except yaml.YAMLError as exc:
        if stripped[0] in "[{\"'":
            problem = _yaml_problem(exc)
            raise UsageError(
                where=where or "value",
                problem="cannot parse value {!r}: {}".format(text, problem),
                fix="quote it to pass a string",
                value=text,
                reason=problem,
            ) from None
        return text
    if node is None:
        return text
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style:
        return text
    if node.end_mark.index < len(stripped):
        return text
    loader = HpregLoader(stripped)
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        problem = _yaml_problem(exc)
        raise UsageError(
            where=where or "value",
            problem="cannot parse value {!r}: {}".format(text, problem),
            value=text,
            reason=problem,
        ) from None
    finally:
        loader.dispose()


def _hydra_flow(text: str, original: str, where: Optional[str]) -> str:
    """Hydra's flow dicts in YAML's spelling: ``{a:1,b:{c:x}}`` -> ``{a: 1,b: {c: x}}``.

    YAML reads ``a:1`` in a flow mapping as the key ``"a:1"`` with a null value;
    Hydra (and hpreg) end a dict entry's key at its first ``:``. A dict entry with
    no ``:`` (``{a}``, ``{a,b}``) is a UsageError, not a key with a null value.
    Text whose brackets or quotes do not balance is returned unchanged, for YAML to
    report.
    """
    out: list = []
    stack: list = []  # per open bracket: [bracket, entry has its ':', entry start]
    quote = None
    token_start = True  # where a quoted scalar may begin
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if quote:
            out.append(char)
            if quote == '"' and char == "\\" and i + 1 < end:
                out.append(text[i + 1])
                i += 2
                continue
            if char == quote:
                if quote == "'" and text[i + 1 : i + 2] == "'":  # '' inside '...'
                    out.append("'")
                    i += 2
                    continue
                quote = None
            i += 1
            continue
        if char in "'\"" and token_start:
            quote, token_start = char, False
        elif char in "[{":
            stack.append([char, False, i + 1])
            token_start = True
        elif char in ",]}":
            if not stack:
                return text
            bracket, has_colon, start = stack[-1]
            entry = text[start:i].strip()
            if bracket == "{" and entry and not has_colon:
                raise UsageError(
                    "{}: cannot parse value {!r}: the dict entry {!r} has no ':'; "
                    "write {{key:value, ...}}, or quote it to pass a string".format(
                        where or "value", original, entry
                    ),
                    value=original,
                    problem="dict entry without ':'",
                )
            if char == ",":
                stack[-1][1:] = [False, i + 1]
                token_start = True
            elif (char == "]") != (bracket == "["):
                return text
            else:
                stack.pop()
                token_start = False
        elif char == ":" and stack and stack[-1][0] == "{" and not stack[-1][1]:
            stack[-1][1] = True
            token_start = True
            out.append(char)
            if i + 1 < end and not text[i + 1].isspace():
                out.append(" ")
            i += 1
            continue
        elif not char.isspace():
            token_start = False
        out.append(char)
        i += 1
    if quote or stack:
        return text
    return "".join(out)


def dump_yaml(data: Any) -> str:
    """YAML text in block style, keys in insertion order, tuples as lists."""
    return yaml.dump(
        data,
        Dumper=HpregDumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
    )


def format_of(path):
    ext = os.path.splitext(str(path))[1].lower()
    if ext in (".yaml", ".yml"):
        return "yaml"
    if ext == ".json":
        return "json"
    raise ValuesFileError(
        where=display_path(str(path)),
        problem="unsupported extension {!r}".format(ext or "(none)"),
        fix="use .yaml, .yml or .json",
        path=str(path),
        key=None,
    )


def load_values_file(path, fmt: Optional[str] = None) -> dict:
    """Read a values file (a mapping, possibly nested); YAML or JSON by extension.

    ``fmt`` ("yaml" or "json") forces a format. An empty YAML file is an empty mapping.
    """
    fmt = fmt or format_of(path)
    text = read_text(path, ValuesFileError)
    if fmt == "yaml":
        data = load_yaml_text(text, source=str(path))
    else:
        try:
            data = load_json_text(text)
        except ValueError as exc:
            line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
            problem = getattr(exc, "msg", str(exc))
            where = display_path(str(path))
            if line is not None:
                where = "{}:{}:{}".format(where, line, column)
            fix = "keep one of them" if isinstance(exc, DuplicateJsonKey) else None
            raise ValuesFileError(
                where=where,
                problem="invalid JSON: {}".format(problem),
                fix=fix or "fix the file's syntax",
                path=str(path),
                line=line,
                column=column,
                reason=problem,
                key=None,
            ) from None
    if data is None and fmt == "yaml":
        return {}
    check_mapping(data, path)
    return data


def check_mapping(data: Any, path) -> None:
    """A values file's data must be a mapping: else the one error that says so."""
    if not isinstance(data, dict):
        raise ValuesFileError(
            where=display_path(str(path)),
            problem="a values file must be a mapping of names to values, not "
            "{}".format(type(data).__name__),
            fix="write one 'name: value' per line",
            path=str(path),
            key=None,
        )


def plain_values(tree: dict, path, separator: str = ".") -> dict:
    """``tree`` as YAML and JSON can hold it (tuples and sets become lists).

    A value of another type (bytes, complex, an object set at runtime) raises a
    ``ValuesFileError`` naming the file and the hyperparameter.
    """

    def unsavable(value, key):
        raise ValuesFileError(
            where=display_path(str(path)),
            problem="cannot save '{}': {!r} is a {}, which YAML and JSON cannot "
            "hold".format(key, value, type(value).__name__),
            fix="give it a number, string, bool, None, list or dict value",
            path=str(path),
            key=key,
        )

    def walk(node, prefix):
        out = {}
        for key, value in node.items():
            name = "{}{}{}".format(prefix, separator, key) if prefix else str(key)
            if (
                isinstance(value, dict)
                and value
                and all(isinstance(k, str) for k in value)
            ):
                out[key] = walk(value, name)
            else:
                out[key] = plain_value(value, lambda v, name=name: unsavable(v, name))
        return out

    return walk(tree, "")


def _jsonable(data):
    if isinstance(data, dict):
        return {key: _jsonable(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_jsonable(value) for value in data]
    return data


def dump_values_file(path, data: dict, fmt: Optional[str] = None) -> None:
    """Write ``data`` as YAML or JSON by extension (or ``fmt``), atomically."""
    fmt = fmt or format_of(path)
    if fmt == "yaml":
        text = dump_yaml(data)
    else:
        text = json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, text)
