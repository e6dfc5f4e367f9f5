"""hpreg: declare hyperparameters where you use them, manage them as a whole."""

from .errors import (
    AmbiguousNameError,
    BadCallError,
    DoubleAssignmentException,
    ExpressionError,
    HintViolationError,
    HpregError,
    ImpossibleTree,
    MissingValueError,
    NotLiteralEvaluable,
    NotLiteralNameException,
    OptionClashError,
    ScanError,
    ScanWarning,
    SweepError,
    SweepFileError,
    UnknownHyperparameterError,
    UsageError,
    ValuesFileError,
    ValueTypeError,
)
from .manager import HyperParameterManager, get_manager, managers
from .occurrences import (
    EmptyValue,
    HyperParameterDB,
    HyperParameterOccurrence,
    HyperParameterPriority,
    HyperParamNode,
    P,
)
from .provenance import Provenance
from .registry import parse_file, parse_source
from .source_helper import SourceHelper

__version__ = "0.1.0"

__all__ = [
    "AmbiguousNameError",
    "BadCallError",
    "DoubleAssignmentException",
    "EmptyValue",
    "ExpressionError",
    "HintViolationError",
    "HpregError",
    "HyperParameterDB",
    "HyperParameterManager",
    "HyperParameterOccurrence",
    "HyperParameterPriority",
    "HyperParamNode",
    "ImpossibleTree",
    "MissingValueError",
    "NotLiteralEvaluable",
    "NotLiteralNameException",
    "OptionClashError",
    "P",
    "Provenance",
    "ScanError",
    "ScanWarning",
    "SourceHelper",
    "SweepError",
    "SweepFileError",
    "UnknownHyperparameterError",
    "UsageError",
    "ValueTypeError",
    "ValuesFileError",
    "get_manager",
    "managers",
    "parse_file",
    "parse_source",
    "__version__",
]
