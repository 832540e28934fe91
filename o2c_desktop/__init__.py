"""O2C Desktop: the credit collector's workbench."""

from __future__ import annotations

__version__ = "0.1.0"
