"""How much Irf7 does a tumour need to hold bone metastasis back?

The paper's arms sit at the two ends of a scale: 4T1.2 with Irf7 silenced and
4T1.2-Irf7 with it restored. This script sweeps the tumour's Irf7 activity
from 0 to 1 in wild-type and Ifnar1-/- mice, with the metastasis day of one
typical mouse and the median metastasis-free survival of a virtual cohort at
each step.

What to try (edit the lines under the imports, then run again):
  * Weaker CD8+ T cells: CHANGES = {"cd8_kill_max": 0.2}. Does the curve still bend
    upwards, and does any activity keep the typical mouse free?
  * Less tumour interferon per cell: CHANGES = {"tumor_ifn_production": 1e-6}
  * Fewer memory CD8+ T cells: CHANGES = {"cd8_memory_formation": 0.005}
  * The same sweep from the command line:
    `tumorsim sweep irf7-silenced irf7-silenced-ifnar-ko --parameter irf7_activity --from 0 --to 1 --steps 11`

Run:  python experiments/irf7_sweep.py   (add --n 0 to skip the cohorts)
"""

import argparse

import numpy as np

from sim.analysis import format_table
from sim.plotting import add_out_option, plot_sweep, print_changes, run_script, save_script_figure
from sim.scenarios import load_scenario
from sim.sweeps import parameter_sweep

CHANGES = {}                       # parameter changes in both hosts
ACTIVITIES = np.linspace(0, 1, 11)


def shape_sentences(activities, days, follow_up):
    """How the wild-type metastasis day [day, NaN: none within follow-up] rises with Irf7 activity, in words."""
    reached = ~np.isnan(days)
    lines = []
    if reached.sum() >= 3:
        first, last = np.flatnonzero(reached)[[0, -1]]
        steps = np.diff(days[reached]) / np.diff(activities[reached])  # days per unit of activity
        if (steps > 0).all():
            shape = ("faster and faster" if steps[-1] > 1.5 * steps[0] else
                     "more and more slowly" if steps[-1] < steps[0] / 1.5 else "steadily")
            lines.append(f"In wild-type mice metastasis comes later the more Irf7 the tumour has, {shape}: from day "
                         f"{days[first]:.1f} at an activity of {activities[first]:.1f}\n    to day {days[last]:.1f} at "
                         f"{activities[last]:.1f} ({steps[0] / 10:.1f} days per 0.1 of activity at the low end, "
                         f"{steps[-1] / 10:.1f} at the high end).")
        else:
            lines.append(f"In wild-type mice the metastasis day does not rise steadily with Irf7 activity: it goes from "
                         f"day {days[first]:.1f} at {activities[first]:.1f} to day {days[last]:.1f} at "
                         f"{activities[last]:.1f}, with dips between.")
    if not reached.all():
        free = activities[~reached]
        if (~reached[activities >= free.min()]).all():
            where = f"From an activity of {free.min():.1f} on,"
        else:
            where = f"At activities {', '.join(f'{a:.1f}' for a in free)}"
        lines.append(f"{where} the typical mouse has no detectable metastasis within {follow_up:g} days.")
    return lines


def day_cell(day, text):
    """A table cell: the day [day], or `text` where there is none (NaN)."""
    return text if np.isnan(day) else float(day)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_option(parser)
    parser.add_argument("--n", type=int, default=100, help="virtual mice per point for the survival medians (0: none)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the cohorts")
    args = parser.parse_args()
    print_changes(CHANGES, "irf7-silenced")

    hosts = [load_scenario(name).with_changes(parameters=CHANGES) for name in ("irf7-silenced", "irf7-silenced-ifnar-ko")]
    sweep = parameter_sweep(hosts, "irf7_activity", ACTIVITIES, cohort_n=args.n, seed=args.seed)

    none = f"no metastasis by day {sweep.follow_up:g}"
    rows = [[float(activity), *(day_cell(d, none) for d in sweep.metastasis_day[:, k])]
            for k, activity in enumerate(sweep.values)]
    if sweep.median_survival is not None:
        rows = [row + [day_cell(sweep.median_survival[0, k], "not reached")] for k, row in enumerate(rows)]
    header = ["Irf7 activity", "wild type: metastasis day", "Ifnar1-/-: metastasis day"]
    print(format_table(header + (["wild type: median day of a cohort"] if sweep.median_survival is not None else []), rows))

    print("\nWhat to notice:")
    for line in shape_sentences(sweep.values, sweep.metastasis_day[0], sweep.follow_up):
        print(f"  * {line}")
    if sweep.median_survival is not None:
        split = [k for k in range(len(sweep.values))
                 if np.isnan(sweep.metastasis_day[0, k]) and not np.isnan(sweep.median_survival[0, k])]
        if split:
            k = split[0]
            print(f"  * At an activity of {sweep.values[k]:.1f} the typical mouse stays free, yet half of {args.n} mice "
                  f"had metastasis by day {sweep.median_survival[0, k]:.0f}:\n    the mice of a cohort differ in "
                  f"{' and '.join(sorted(hosts[0].variability))}, so a cohort and its typical mouse can disagree.")
    knockout = sweep.metastasis_day[1]
    if np.isnan(knockout).any():
        print("  * In Ifnar1-/- mice some activities prevented detectable metastasis.")
    else:
        spread = np.ptp(knockout)
        moved = "less than 0.1 days" if spread < 0.1 else f"{spread:.1f} days"
        print(f"  * In Ifnar1-/- mice the metastasis day moves by {moved} across the sweep (day {np.mean(knockout):.1f}): "
              "the tumour's interferon\n    only helps through the host's receptor.")

    ax = plot_sweep(sweep, marks={"4T1.2 (Irf7 silenced)": 0.0, "4T1.2-Irf7 (Irf7 restored)": 1.0},
                    title="How much Irf7 does a tumour need? Bone metastasis across tumour Irf7 activity",
                    labels={"irf7-silenced": "wild-type host", "irf7-silenced-ifnar-ko": "Ifnar1-/- host"})
    ax.set_xlabel("tumour Irf7 activity (0 silenced, 1 fully restored)")
    ax.set_ylim(0, sweep.follow_up * 1.2)  # room for the line labels above the 'none' triangles
    out = args.out
    save_script_figure(ax.figure, out, "irf7_sweep")


if __name__ == "__main__":
    run_script(main)
