"""hpreg: declare hyperparameters where you use them, manage them as a whole.

Every public name is imported on first use (PEP 562), so ``from hpreg.m import _``
loads the registry alone: no YAML, no sweep layer, no argparse binding.
"""

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "AmbiguousNameError": "hpreg.errors",
    "BadCallError": "hpreg.errors",
    "BadHintError": "hpreg.errors",
    "BadNameError": "hpreg.errors",
    "DoubleAssignmentException": "hpreg.errors",
    "ExpressionError": "hpreg.errors",
    "HintViolationError": "hpreg.errors",
    "HpregError": "hpreg.errors",
    "ImpossibleTree": "hpreg.errors",
    "MissingValueError": "hpreg.errors",
    "NotLiteralEvaluable": "hpreg.errors",
    "NotLiteralNameException": "hpreg.errors",
    "OptionClashError": "hpreg.errors",
    "RunStoreError": "hpreg.errors",
    "ScanError": "hpreg.errors",
    "ScanWarning": "hpreg.errors",
    "SweepError": "hpreg.errors",
    "SweepFileError": "hpreg.errors",
    "UnknownHyperparameterError": "hpreg.errors",
    "UsageError": "hpreg.errors",
    "ValuesFileError": "hpreg.errors",
    "ValuesFileTypeError": "hpreg.errors",
    "ValueTypeError": "hpreg.errors",
    "get_manager": "hpreg.registry.managers",
    "managers": "hpreg.registry.managers",
    "HyperParameterManager": "hpreg.registry.manager",
    "EmptyValue": "hpreg.registry.occurrences",
    "HyperParameterDB": "hpreg.registry.occurrences",
    "HyperParameterOccurrence": "hpreg.registry.occurrences",
    "HyperParameterPriority": "hpreg.registry.occurrences",
    "HyperParamNode": "hpreg.registry.occurrences",
    "HyperParamTree": "hpreg.registry.occurrences",
    "P": "hpreg.registry.occurrences",
    "Provenance": "hpreg.registry.provenance",
    "parse_file": "hpreg.registry.all_managers",
    "parse_source": "hpreg.registry.all_managers",
    "SourceHelper": "hpreg.source_helper",
    "bind": "hpreg.binder.binding",
    "parse_args": "hpreg.binder.binding",
    "Sweep": "hpreg.sweep.algebra",
    "defaults": "hpreg.sweep.algebra",
    "from_function": "hpreg.sweep.algebra",
    "let": "hpreg.sweep.algebra",
    "override": "hpreg.sweep.algebra",
    "product": "hpreg.sweep.algebra",
    "table": "hpreg.sweep.algebra",
    "union": "hpreg.sweep.algebra",
    "value": "hpreg.sweep.algebra",
    "zip": "hpreg.sweep.algebra",
    "load_sweep": "hpreg.sweep.file",
    "parse_sweep": "hpreg.sweep.file",
    "parse_overrides": "hpreg.sweep.overrides",
    "validate": "hpreg.sweep.validate",
    "run": "hpreg.runner.api",
    "report": "hpreg.runner.report",
    "optimize": "hpreg.optimizer.api",
    "Pruned": "hpreg.errors",
    "SearchSpaceError": "hpreg.errors",
    "OptionalDependencyError": "hpreg.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError("module 'hpreg' has no attribute {!r}".format(name))
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
