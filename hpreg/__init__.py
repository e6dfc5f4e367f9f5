"""hpreg: declare hyperparameters where you use them, manage them as a whole."""

from .errors import HpregError, ScanWarning

__version__ = "0.1.0"
__all__ = ["HpregError", "ScanWarning", "__version__"]
