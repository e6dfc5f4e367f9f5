"""hpreg: declare hyperparameters where you use them, manage them as a whole."""

from hpreg.errors import (
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
from hpreg.registry.managers import get_manager, managers
from hpreg.registry.manager import HyperParameterManager
from hpreg.registry.occurrences import (
    EmptyValue,
    HyperParameterDB,
    HyperParameterOccurrence,
    HyperParameterPriority,
    HyperParamNode,
    HyperParamTree,
    P,
)
from hpreg.registry.provenance import Provenance
from hpreg.registry.all_managers import parse_file, parse_source
from hpreg.source_helper import SourceHelper
from hpreg.bind.binding import bind, parse_args
from hpreg.sweep.algebra import (
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
from hpreg.sweep.file import load_sweep, parse_sweep
from hpreg.sweep.overrides import parse_overrides
from hpreg.sweep.validate import validate

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
