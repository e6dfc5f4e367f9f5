"""``hpreg lint``: every problem in hyperparameter declarations, compiler style."""

from hpreg.lint.linter import LintProblem, lint_paths, looks_like_typo

__all__ = ["LintProblem", "lint_paths", "looks_like_typo"]
