"""Tables as pandas DataFrames, for users who work in pandas (an optional import)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def dataframe(columns: Mapping[str, Any], attrs: Mapping[str, Any]):
    """A pandas DataFrame of ``columns`` (name -> values), with ``attrs`` (units, provenance) attached."""
    try:
        pandas = importlib.import_module("pandas")
    except ImportError:
        from .errors import InputError

        raise InputError("DataFrames need pandas: pip install pandas (or pip install -e '.[sbml]')") from None
    frame = pandas.DataFrame(dict(columns))
    frame.attrs.update(attrs)
    return frame
