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
from ._zoo import get_manager, managers
from .manager import HyperParameterManager
from .occurrences import (
    EmptyValue,
    HyperParameterDB,
    HyperParameterOccurrence,
    HyperParameterPriority,
    HyperParamNode,
    HyperParamTree,
    P,
)
from .provenance import Provenance
from .registry import parse_file, parse_source
from .source_helper import SourceHelper
from .binding import bind, parse_args
from .sweep import (
    Sweep,
    defaults,
    from_function,
    let,
    override,
    product,
    table,
    union,
    value,
    zip,
)
from .sweep_file import load_sweep, parse_sweep
from ._overrides import parse_overrides
from .validate import validate

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
    "HyperParamTree",
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
    "bind",
    "parse_args",
    "Sweep",
    "defaults",
    "from_function",
    "let",
    "override",
    "product",
    "table",
    "union",
    "value",
    "zip",
    "load_sweep",
    "parse_sweep",
    "parse_overrides",
    "validate",
]
