"""hpman compatibility: ``hpman.hpm_db`` names (the occurrence database and ``L``)."""

from hpreg.registry.occurrences import (
    HyperParameterDB,
    HyperParameterDBLambdas,
    HyperParameterOccurrence,
    HyperParameterPriority,
    HyperParamNode,
    HyperParamTree,
    L,
    P,
)

__all__ = [
    "HyperParameterDB",
    "HyperParameterDBLambdas",
    "HyperParameterOccurrence",
    "HyperParameterPriority",
    "HyperParamNode",
    "HyperParamTree",
    "L",
    "P",
]
