"""hpman compatibility: ``hpman.primitives`` names."""

from hpreg.errors import (
    DoubleAssignmentException,
    ImpossibleTree,
    NotLiteralEvaluable,
    NotLiteralNameException,
)
from hpreg.registry.occurrences import EmptyValue

__all__ = [
    "DoubleAssignmentException",
    "EmptyValue",
    "ImpossibleTree",
    "NotLiteralEvaluable",
    "NotLiteralNameException",
]
