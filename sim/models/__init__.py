"""Registry of the models tumorsim ships."""

from __future__ import annotations

from ..errors import InputError
from ..naming import closest
from . import depillis2005, irf7, kirschner1998, kuznetsov1994
from .base import Model, State

MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        irf7.MODEL,
        kuznetsov1994.MODEL,
        kuznetsov1994.MODEL_DIMENSIONLESS,
        depillis2005.MODEL,
        kirschner1998.MODEL,
    )
}


def get_model(name: str, where: str = "") -> Model:
    """Return the model called ``name``; unknown names raise InputError (prefixed by ``where``)."""
    try:
        return MODELS[name]
    except KeyError:
        prefix = f"{where}: " if where else ""
        raise InputError(f"{prefix}unknown model '{name}'{closest(name, MODELS)}; models: {', '.join(MODELS)}") from None


__all__ = ["MODELS", "Model", "State", "get_model"]
