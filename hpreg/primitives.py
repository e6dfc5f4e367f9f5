"""hpman compatibility: ``hpman.primitives`` names."""

from .errors import (
    DoubleAssignmentException,
    ImpossibleTree,
    NotLiteralEvaluable,
    NotLiteralNameException,
)
from .occurrences import EmptyValue

__all__ = [
    "DoubleAssignmentException",
    "EmptyValue",
    "ImpossibleTree",
    "NotLiteralEvaluable",
    "NotLiteralNameException",
]
