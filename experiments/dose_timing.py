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
  * A longer-lived interferon: CHANGES = {"ifn_clearance": 8}  (half-life 2 h instead of 1 h).
    Does dosing frequency still matter as much? The model clears the host's own
    interferon at the same rate, so the untreated mouse changes too; with
    {"ifn_clearance": 4} (4 h) it no longer metastasizes at all.
  * Start days around the surgery on day 14: STARTS = [1, 10, 14, 21]
  * Fewer memory CD8+ T cells: CHANGES = {"cd8_memory_formation": 0.005}. Which courses
    still prevent metastasis?
  * The same grid from the command line: `tumorsim doses --amounts 1e4,1e5,1e6 --intervals 1,2,3,7 --starts 1,7,15`

Run:  python experiments/dose_timing.py
"""

import argparse

import numpy as np

import sim
from sim.analysis import format_table
from sim.plotting import add_out_option, plot_dose_grid, print_changes, run_script, save_script_figure
from sim.scenarios import load_scenario
from sim.sweeps import dose_grid

CHANGES = {}                          # parameter changes for every course
AMOUNTS = [1e4, 1e5, 1e6]             # IU per injection
INTERVALS = [1, 2, 3, 7]              # days between doses
STARTS = [1, 7, 15]                   # day of the first dose (surgery is on day 14)


def more(treated, reference):
    """What one course buys over another [days of delay, inf: no metastasis within follow-up], as text."""
    if np.isinf(treated) and np.isinf(reference):
        return "makes no difference: both prevent detectable metastasis"
    if np.isinf(treated):
        return f"prevents detectable metastasis (instead of a {reference:.0f}-day delay)"
    if np.isinf(reference):
        return f"lets metastasis appear ({treated:+.0f} days instead of none)"
    if round(treated) == round(reference):
        return f"makes no difference (a {treated:.0f}-day delay either way)"
    return f"buys {treated - reference:.0f} more days" if treated > reference else f"buys {reference - treated:.0f} fewer days"


def course_cell(day, reference, follow_up):
    """A table cell: the delay over no interferon [days], or the metastasis day when the untreated mouse stays free."""
    if np.isnan(day):
        return f"no metastasis by day {follow_up:g}"
    return f"day {day:.0f}" if np.isnan(reference) else f"{day - reference:+.0f}"


def notice_delays(scenario, grid, gain):
    """What the grid shows when the untreated mouse has bone metastasis: sentences computed from the delays."""
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
    if STARTS[-1] <= surgery:
        return
    late, after = gain[-1], f"starting on day {STARTS[-1]}, after surgery on day {surgery:g},"
    if np.isinf(late).any():
        print(f"  * {np.isinf(late).sum()} of the {late.size} courses {after} prevent detectable metastasis.")
    elif late.max() < 0.5:
        print(f"  * No course {after} delays metastasis by even one day.")
    else:
        untreated = sim.run(scenario.with_changes(schedule=[e for e in scenario.schedule_entries
                                                            if e["event"] != "ifn-dose"]))
        tumour = np.interp(STARTS[-1], untreated.time, untreated["P"] + untreated["B"])
        half = scenario.parameters["cd8_antigen_half"].value
        why = (f": by then an untreated mouse carries {tumour:.2g} tumour cells,\n    far fewer than the {half:.0e} "
               "that give CD8+ T cells half their stimulation, so interferon has little to expand them against"
               if tumour < half / 10 else "")
        print(f"  * Courses {after} buy at most {late.max():.0f} days{why}.")


def notice_untreated_free(grid):
    """What the grid shows when the untreated mouse itself stays free: there is no delay to measure."""
    free = np.isnan(grid.metastasis_day)
    print(f"  * Without interferon the typical mouse has no bone metastasis within {grid.follow_up:g} days with these "
          f"parameters ({CHANGES or 'as shipped'}),\n    so no course can delay it: the table shows each course's "
          "metastasis day instead of a delay.")
    if free.all():
        print(f"  * Every one of the {free.size} courses leaves the mouse free as well.")
    else:
        days = grid.metastasis_day[~free]
        print(f"  * {(~free).sum()} of the {free.size} courses bring metastasis forward, to days {days.min():.0f}-"
              f"{days.max():.0f}: there the interferon does harm in this model.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_option(parser)
    out = parser.parse_args().out
    print_changes(CHANGES, "ifn-dosed")

    scenario = load_scenario("ifn-dosed").with_changes(parameters=CHANGES)
    grid = dose_grid(scenario, AMOUNTS, INTERVALS, STARTS)
    untreated_free = np.isnan(grid.untreated)

    rows = [[f"{start:g}", f"{interval:g}", f"{amount:.0e}", course_cell(grid.metastasis_day[k, j, m], grid.untreated,
                                                                           grid.follow_up)]
            for k, start in enumerate(grid.starts) for j, interval in enumerate(grid.intervals)
            for m, amount in enumerate(grid.amounts)]
    result = "day of bone metastasis" if untreated_free else "delay of bone metastasis (days)"
    print(format_table(("first dose (day)", "every (days)", "dose (IU)", result), rows))
    if untreated_free:
        print(f"\nNo interferon: no bone metastasis by day {grid.follow_up:g}, so there is no delay to measure.")
    else:
        print(f"\nDelay of bone metastasis compared with no interferon (metastasis on day {grid.untreated:.1f}).")

    print("\nWhat to notice:")
    if untreated_free:
        notice_untreated_free(grid)
    else:
        notice_delays(scenario, grid, np.where(np.isnan(grid.metastasis_day), np.inf,
                                               grid.metastasis_day - grid.untreated))

    axes = plot_dose_grid(grid)
    save_script_figure(np.ravel(axes)[0].figure, out, "dose_timing")


if __name__ == "__main__":
    run_script(main)
