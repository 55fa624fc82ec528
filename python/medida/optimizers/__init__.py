"""Sparse regression optimizers, PySINDy-shaped: `STLSQ` (PySINDy 2.1's, faster) and `RVM` (with
posterior uncertainty). Both are PySINDy optimizers when PySINDy is installed."""

from .rvm import RVM
from .stlsq import STLSQ

__all__ = ["STLSQ", "RVM"]
