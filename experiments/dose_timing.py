"""When and how often should interferon be given?

Interferon courses compared by dose, interval between doses and start day.

Interferon is cleared from the blood within hours (half-life about 1 h), while
the signalling it switches on in immune cells fades over about a day. So the
dose given matters less than how often it comes back, and doses help most
while the primary tumour is still there to prime CD8+ T cells. This script
gives four-week interferon courses of different sizes, frequencies and start
days to Irf7-silenced 4T1.2 tumours and shows how many metastasis-free days
each buys.

What to try (edit the lines under the imports, then run again):
  * A longer-lived drug: CHANGES = {"ifn_clearance": 1.7}  (half-life 10 h instead of 1 h).
    Does dosing frequency still matter as much?
  * Start days around the surgery on day 14: STARTS = [1, 10, 14, 21]
  * Fewer memory CD8+ T cells: CHANGES = {"cd8_memory_formation": 0.005}. Which courses
    still prevent metastasis?
  * The same grid from the command line: `tumorsim doses --amounts 1e4,1e5,1e6 --intervals 1,2,3,7 --starts 1,7,15`

Run:  python experiments/dose_timing.py
"""

import argparse
from pathlib import Path

import numpy as np

import sim
from sim.analysis import format_table
from sim.plotting import plot_dose_grid, save_figure_set
from sim.scenarios import load_scenario
from sim.sweeps import dose_grid

CHANGES = {}                          # parameter changes for every course
AMOUNTS = [1e4, 1e5, 1e6]             # IU per injection
INTERVALS = [1, 2, 3, 7]              # days between doses
STARTS = [1, 7, 15]                   # day of the first dose (surgery is on day 14)

FIGURES = Path(__file__).resolve().parent.parent / "figures"


def more(treated, reference):
    """What one course buys over another [days of delay, inf: no metastasis within follow-up], as text."""
    if np.isinf(treated) and np.isinf(reference):
        return "makes no difference: both prevent detectable metastasis"
    if np.isinf(treated):
        return f"prevents detectable metastasis (instead of {reference:+.0f} days)"
    if np.isinf(reference):
        return f"lets metastasis appear ({treated:+.0f} days instead of none)"
    return f"buys {treated - reference:.0f} more days" if treated >= reference else f"buys {reference - treated:.0f} fewer days"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIGURES, help="folder for the figure files (default: figures/)")
    out = parser.parse_args().out

    scenario = load_scenario("ifn-dosed").with_changes(parameters=CHANGES)
    grid = dose_grid(scenario, AMOUNTS, INTERVALS, STARTS)
    gain = np.where(np.isnan(grid.metastasis_day), np.inf, grid.metastasis_day - grid.untreated)

    rows = [[f"{start:g}", f"{interval:g}", f"{amount:.0e}",
             "none by day 120" if np.isinf(gain[k, j, m]) else f"+{gain[k, j, m]:.0f}"]
            for k, start in enumerate(grid.starts) for j, interval in enumerate(grid.intervals)
            for m, amount in enumerate(grid.amounts)]
    print(format_table(("first dose (day)", "every (days)", "dose (IU)", "days of delay"), rows))
    print(f"\nDelay of bone metastasis compared with no interferon (metastasis on day {grid.untreated:.1f}).")

    print("\nWhat to notice:")
    often, weekly, big = gain[0, -2, 0], gain[0, -1, 0], gain[0, -1, -1]  # first start day: smallest dose, biggest
    print(f"  * Starting on day {STARTS[0]} with {AMOUNTS[0]:.0e} IU, dosing every {INTERVALS[-2]} days instead of "
          f"every {INTERVALS[-1]} {more(often, weekly)};\n    a {AMOUNTS[-1] / AMOUNTS[0]:.0f}-fold larger dose every "
          f"{INTERVALS[-1]} days {more(big, weekly)}.")
    if often > big:  # inf (no metastasis) ranks above every delay
        half_life = np.log(2) / scenario.parameters["ifn_clearance"].value * 24
        print(f"    Interferon is cleared with a half-life of about {half_life:.0f} h, so how often a dose returns "
              "matters more than how big it is.")
    if np.isinf(gain[0, 0]).all():
        every = "every day" if INTERVALS[0] == 1 else f"every {INTERVALS[0]} days"
        print(f"  * Doses {every} from day {STARTS[0]} prevent detectable metastasis within follow-up at every dose "
              "tried.")
    surgery = next(event["day"] for event in scenario.schedule_entries if event["event"] == "resection")
    if STARTS[-1] > surgery:
        untreated = sim.run(scenario.with_changes(schedule=[e for e in scenario.schedule_entries
                                                            if e["event"] != "ifn-dose"]))
        tumour = np.interp(STARTS[-1], untreated.time, untreated["P"] + untreated["B"])
        half = scenario.parameters["cd8_antigen_half"].value
        late = gain[-1]
        if np.isinf(late).any():
            print(f"  * Even some courses starting on day {STARTS[-1]}, after surgery on day {surgery:g}, prevent "
                  "detectable metastasis.")
        else:
            why = (f": by then an untreated mouse carries {tumour:.2g} tumour cells,\n    far fewer than the {half:.0e} "
                   "that give CD8+ T cells half their stimulation, so interferon has little to expand them against"
                   if tumour < half / 10 else "")
            print(f"  * Courses starting on day {STARTS[-1]}, after surgery on day {surgery:g}, buy at most "
                  f"{late.max():.0f} days{why}.")

    axes = plot_dose_grid(grid)
    png = save_figure_set(np.ravel(axes)[0].figure, out, "dose_timing")
    print(f"\nFigure saved to {png} and .svg")


if __name__ == "__main__":
    main()
