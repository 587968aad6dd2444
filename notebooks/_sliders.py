"""Sliders for the lesson notebooks: a figure that is redrawn when a slider is let go.

Without ipywidgets the notebooks still run: ``sliders`` then prints one line on
how to get them (once per notebook) and draws the figure once, at the
sliders' starting values.

>>> sliders(draw_arms, irf7=Slider(0.0, 0.0, 1.0, 0.05, "Irf7 activity"))   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt

HINT = "For sliders, install the notebook extra: pip install -e '.[notebook]' (showing the figure at the starting values)."
_hinted = False


@dataclass(frozen=True)
class Slider:
    """A slider's starting value, range, step and label.

    A (start, stop) pair as ``value`` gives a range slider (a window of days);
    ``log=True`` a slider that moves in powers of ten (``step`` in decades).
    """

    value: float | int | tuple[int, int]
    low: float
    high: float
    step: float = 1
    label: str = ""
    log: bool = False


def sliders(draw: Callable[..., object], **controls: Slider) -> None:
    """Show ``controls`` and ``draw(**their values)`` beneath them, redrawn each time a slider is let go."""
    global _hinted

    def redraw(**values):
        draw(**values)
        plt.show()  # inside the slider's output area, and only the new figure

    try:
        import ipywidgets
        from IPython.display import display
    except ImportError:
        if not _hinted:
            print(HINT)
            _hinted = True
        redraw(**{name: control.value for name, control in controls.items()})
        return
    widgets = {name: widget(ipywidgets, control) for name, control in controls.items()}
    display(ipywidgets.VBox([*widgets.values(), ipywidgets.interactive_output(redraw, widgets)]))


def widget(ipywidgets, control: Slider):
    """The ipywidgets slider for ``control``; it reports a new value only when let go."""
    common = {"description": control.label, "continuous_update": False, "style": {"description_width": "14em"},
              "layout": ipywidgets.Layout(width="40em")}
    if control.log:
        return ipywidgets.FloatLogSlider(value=control.value, min=math.log10(control.low), max=math.log10(control.high),
                                         step=control.step, readout_format=".2g", **common)
    kind = (ipywidgets.IntRangeSlider if isinstance(control.value, tuple)
            else ipywidgets.IntSlider if isinstance(control.value, int) else ipywidgets.FloatSlider)
    return kind(value=control.value, min=control.low, max=control.high, step=control.step, **common)
