"""The scan's records are declared: unknown fields are refused, ``Call`` and
``Problem`` are immutable, and equality, repr and the cache payload still hold."""

import pytest

from hpreg.scan.records import Call, FileScan, Problem
from hpreg.scan.scanner import scan_source


def a_call(**changes):
    fields = dict(
        manager="_",
        name="lr",
        has_default=True,
        value=0.1,
        value_source=None,
        hints={"low": 0.0},
        lineno=1,
        col=6,
    )
    fields.update(changes)
    return Call(**fields)


@pytest.mark.parametrize(
    "make",
    [
        lambda: a_call(colour="red"),
        lambda: Problem("syntax", None, "bad", 1, typo=2),
        lambda: FileScan("a.py", calls=[], colour="red"),
    ],
)
def test_unknown_fields_are_refused(make):
    with pytest.raises(TypeError):
        make()


def test_missing_fields_are_refused():
    with pytest.raises(TypeError):
        Call("_", "lr")


@pytest.mark.parametrize(
    "record, field",
    [(a_call(), "name"), (Problem("syntax", None, "bad", 1), "message")],
)
def test_call_and_problem_are_immutable(record, field):
    with pytest.raises(AttributeError):
        setattr(record, field, "other")


def test_filescan_has_no_instance_dict():
    with pytest.raises(AttributeError):
        FileScan("a.py").colour = "red"


def test_equality_and_repr():
    assert a_call() == a_call()
    assert a_call() != a_call(lineno=2)
    assert repr(Problem("syntax", None, "bad", 1)) == (
        "Problem(kind='syntax', manager=None, message='bad', lineno=1, col=None, "
        "code=None)"
    )
    assert repr(a_call()).startswith("Call(manager='_', name='lr', has_default=True")
    assert FileScan("a.py", calls=[a_call()]) == FileScan("a.py", calls=[a_call()])
    assert FileScan("a.py") != FileScan("b.py")
    assert repr(FileScan("a.py")).startswith("FileScan(filename='a.py', realpath=None")


def test_payload_round_trip():
    scan = scan_source("_('lr', 0.1, low=0.0)\n_(x)\n", "a.py", managers=["_"])
    assert scan.calls and scan.problems
    again = FileScan._from_payload("a.py", None, scan._payload())
    assert again == scan
    assert type(again.calls[0]) is Call and type(again.problems[0]) is Problem
