"""Write tests/baseline.json: the metastasis day of every shipped scenario.

``tests/test_paper_results.py::test_metastasis_days_match_the_seeded_baseline``
compares every run with this file, so that any change to the model, its
parameters, the scenarios or the solver that moves a metastasis day shows up
as a failing test instead of passing silently.

Run it deliberately, and only to accept an intended change::

    python tests/make_baseline.py

then read ``git diff tests/baseline.json``, check that every moved day is the
change you meant (and that the paper's qualitative results still hold), and
commit the new file together with the change that caused it. Never run it just
to make a failing test pass.
"""

from __future__ import annotations

import json
from pathlib import Path

BASELINE = Path(__file__).with_name("baseline.json")


def compute() -> dict[str, float | None]:
    """Metastasis day [day] of each scenario's default run; None: none in follow-up."""
    import sim

    return {name: sim.run(name).metastasis_day for name in sim.scenario_names("irf7")}


def main() -> None:
    days = compute()
    BASELINE.write_text(json.dumps(days, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for name, day in days.items():
        print(f"{name:28s} {'none' if day is None else f'{day:.4f}'}")
    print(f"Wrote {BASELINE}")


if __name__ == "__main__":
    main()
