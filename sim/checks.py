"""Checks of the numbers a user gives (sizes, seeds, tolerances): the value, or a one-line error naming the option."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import InputError

RTOL_RANGE = (1e-13, 0.1)
ATOL_RANGE = (1e-14, 1e-2)
"""Sensible tolerances: tighter ones cannot be met in double precision (the solver crawls), looser ones
let a state of a few cells count as noise (a tolerance of 1e300 "finds" metastasis on day 23)."""


def check_size(n: Any, flag: str = "--n", maximum: int | None = None, what: str = "") -> int:
    """Return ``n`` as a whole number from 1 to ``maximum``, else raise InputError naming ``flag``.

    ``what`` says, in the error, what the limit protects and how to go beyond it.
    """
    value = _whole_number(n)
    if value is None or value < 1:
        raise InputError(f"{flag} must be a whole number >= 1, not {n!r:.40}")
    if maximum is not None and value > maximum:
        raise InputError(f"{flag} = {value:,} is more than {maximum:,}{what}")
    return value


def check_seed(seed: Any, flag: str = "--seed") -> int:
    """Return ``seed`` as a whole number >= 0, else raise InputError naming ``flag``."""
    value = _whole_number(seed)
    if value is None:
        raise InputError(f"{flag} must be a whole number >= 0, not {seed!r}")
    return value


def _whole_number(raw: Any) -> int | None:
    """``raw`` as a non-negative int if it is one (int or plain ASCII digits), else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, np.integer)):
        return int(raw) if raw >= 0 else None
    text = str(raw).strip()
    return int(text) if text.isascii() and text.isdigit() else None


def check_tolerances(rtol: Any, atol: Any, flags: tuple[str, str] = ("rtol (--rtol)", "atol (--atol)")) -> tuple[float, float]:
    """``rtol`` and ``atol`` as floats within RTOL_RANGE and ATOL_RANGE, else InputError naming them by ``flags``."""
    checked = []
    for flag, raw, (low, high) in ((flags[0], rtol, RTOL_RANGE), (flags[1], atol, ATOL_RANGE)):
        value = None if isinstance(raw, (bool, str)) else _float(raw)
        if value is None or not low <= value <= high:
            raise InputError(f"{flag} must be a number from {low:g} to {high:g}, not {raw!r:.40}")
        checked.append(value)
    return checked[0], checked[1]


def _float(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None
