"""hpman compatibility: ``hpman.hpm`` names (``from hpreg.hpm import HyperParameterManager``)."""

from hpreg.errors import (
    DoubleAssignmentException,
    ImpossibleTree,
    NotLiteralEvaluable,
    NotLiteralNameException,
)
from hpreg.registry.manager import HyperParameterManager
from hpreg.registry.occurrences import (
    EmptyValue,
    HyperParameterOccurrence,
    HyperParameterPriority,
    HyperParamNode,
    HyperParamTree,
    P,
)
from hpreg.source_helper import SourceHelper

__all__ = [
    "DoubleAssignmentException",
    "EmptyValue",
    "HyperParameterManager",
    "HyperParameterOccurrence",
    "HyperParameterPriority",
    "HyperParamNode",
    "HyperParamTree",
    "ImpossibleTree",
    "NotLiteralEvaluable",
    "NotLiteralNameException",
    "P",
    "SourceHelper",
]
