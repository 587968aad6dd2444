"""Checks of whole numbers a user gives (sizes, seeds): the value, or a one-line error naming the option."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError


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
