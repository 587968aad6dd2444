"""Can interferon injections make up for the interferon that Irf7-silenced tumours no longer make, and does timing matter?

4T1.2 tumours have silenced Irf7 and make almost no type I interferon.
Bidwell et al. 2012 gave mice recombinant interferon and saw less bone
metastasis. This script compares no treatment, ten doses every 3 days from
day 1 (the ifn-dosed scenario, surgery on day 14), and the very same ten doses
started only after surgery. The late arm is built from the ifn-dosed scenario
by changing one line of its schedule: the day of the first dose.

What to try (edit the lines under the imports, then run again):
  * Start the late doses later still: FIRST_LATE_DOSE = 30
  * Signalling that lasts longer after each dose: CHANGES = {"signal_off": 0.2}
    (the same as `tumorsim compare irf7-silenced ifn-dosed --set signal_off=0.2`)
  * A longer late course: in late_doses() below, write
    dict(event, start=first_day, every=2, count=15) instead of dict(event, start=first_day)

Run:  python experiments/interferon_therapy.py
"""

import argparse
import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import sim
from sim.analysis import compare_table, when_text
from sim.plotting import house_style, plot_burden, plot_state, save_figure_set

CHANGES = {}          # parameter changes applied to every arm
FIRST_LATE_DOSE = 15  # day of the first dose in the late arm (surgery is on day 14)

FIGURES = Path(__file__).resolve().parent.parent / "figures"


def late_doses(first_day):
    """The ifn-dosed scenario with the same doses, the first one given on `first_day`."""
    early = sim.load_scenario("ifn-dosed")
    schedule = [dict(event, start=first_day) if event["event"] == "ifn-dose" else event
                for event in early.schedule_entries]
    late = early.with_changes(schedule=schedule)
    return dataclasses.replace(late, name=f"ifn-from-day-{first_day:g}",
                               description=f"4T1.2 given the ifn-dosed doses from day {first_day:g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIGURES, help="folder for the figure files (default: figures/)")
    out = parser.parse_args().out

    results = sim.compare(["irf7-silenced", "ifn-dosed", late_doses(FIRST_LATE_DOSE)], parameters=CHANGES)
    untreated, early, late = results

    print(compare_table(results))
    print()
    print(f"No interferon: {when_text(untreated)}.")
    print(f"Ten doses from day 1: {when_text(early)}.")
    print(f"The same ten doses from day {FIRST_LATE_DOSE:g}: {when_text(late)}.")
    if None not in (untreated.metastasis_day, early.metastasis_day, late.metastasis_day):
        print(f"Early doses delayed bone metastasis by {round(early.metastasis_day - untreated.metastasis_day)} days, "
              f"late doses by {round(late.metastasis_day - untreated.metastasis_day)} days.")
    day = FIRST_LATE_DOSE + 15  # two weeks into the late course
    cd8 = [np.interp(day, r.time, r["L"]) for r in results]
    print(f"Why timing matters: on day {day:g}, tumour-specific CD8+ T cells numbered {cd8[1]:.0f} after early doses, "
          f"{cd8[2]:.0f} after late doses and {cd8[0]:.0f} untreated.\nInterferon lets CD8+ T cells expand only "
          f"where they meet tumour antigen, and after surgery the primary tumour's antigen is gone.")

    with house_style():
        fig, axes = plt.subplot_mosaic([["burden"], ["signal"], ["cd8"]], figsize=(10, 11), height_ratios=[3, 2, 2],
                                       sharex=True, layout="constrained")
        plot_burden(results, ax=axes["burden"])
        plot_state(results, "S", ax=axes["signal"],
                   title="Interferon signalling in host immune cells: each dose switches it on for about a day")
        plot_state(results, "L", ax=axes["cd8"], title="Tumour-specific CD8+ T cells (same colours): interferon "
                   "expands them only where there is enough tumour to see")
        axes["signal"].set(ylim=(0, 1), ylabel="fraction of maximum (0-1)")  # shorter labels than the defaults
        axes["cd8"].set_ylabel("cells")
        axes["cd8"].get_legend().remove()  # the same three arms as the panels above
        for ax in (axes["burden"], axes["signal"]):
            ax.set_xlabel("")  # the shared time axis is labelled on the bottom panel
        fig.suptitle("Can interferon injections replace the tumour's missing interferon? Does timing matter?",
                     fontsize=13)

    png = save_figure_set(fig, out, "interferon_therapy")
    print(f"\nFigure saved to {png} and .svg")


if __name__ == "__main__":
    main()
