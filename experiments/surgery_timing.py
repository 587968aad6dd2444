"""When should the primary tumour be removed, and does a later operation ever help?

In the experiments the primary tumour is removed some days after the tumour
cells are injected; until then it sheds cells into the blood, some of which
seed bone. A mouse whose primary is never removed is culled when the tumour
reaches the humane endpoint (about 1.5 cm^3). This script moves the surgery
from day 7 to day 24 (and drops it) for three arms: Irf7 silenced, Irf7
restored and interferon-dosed. Left: the typical mouse. Right: the fraction of
virtual mice still metastasis-free and not culled on day 60.

Two things to look for. For an Irf7-silenced tumour a later operation should
never help: the tumour sheds longer and its growing burden expands MDSCs that
blunt NK and CD8+ T cells. For an Irf7-expressing tumour a later operation
can help: the primary and its interferon act as a vaccine while it is in place
(in-situ vaccination; the "concomitant immunity" by which a primary tumour
restrains metastases, reviewed by Janssen et al. 2017, J Immunother Cancer
5:79). The help is bounded: later still, seeding and MDSCs win, and without
surgery the mouse reaches the humane endpoint.

What to try:
  * A slower tumour: CHANGES = {"primary_growth_rate": 0.07}. Does the best day move?
  * No MDSCs: CHANGES = {"mdsc_expansion": 0}. Does late surgery still stop helping?
  * Weaker memory: CHANGES = {"cd8_memory_formation": 0.005}.

Run:  python experiments/surgery_timing.py            (200 mice per point, about 10 s on 2 cores)
      python experiments/surgery_timing.py --n 50 --seed 3
"""

import argparse

import numpy as np

from sim.analysis import format_table
from sim.plotting import add_out_option, house_style, plot_surgery_timing, print_changes, run_script, save_script_figure
from sim.scenarios import load_scenario
from sim.sweeps import surgery_timing

ARMS = ["irf7-silenced", "irf7-restored", "ifn-dosed"]
SURGERY_DAYS = [7, 10, 14, 18, 21, 24, None]   # None: the primary is never removed
CHANGES = {}                                    # parameter changes applied to every arm
WINDOW = 60                                     # day on which the cohorts are read


def day_text(day):
    return "free through follow-up" if np.isinf(day) else f"day {day:.1f}"


def percent(fraction):
    """A share in whole percent that never rounds a part up to all (99.5 % prints as '>99%')."""
    return ">99%" if 0.99 < fraction < 1 else "<1%" if 0 < fraction < 0.01 else f"{fraction:.0%}"


def event_text(fate, metastasis, endpoint):
    if fate == "metastasis":
        return f"met. day {metastasis:.1f}"
    return f"culled day {endpoint:.1f}" if fate == "culled" else "free"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="mice per arm and surgery day (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the cohorts (default 1)")
    add_out_option(parser)
    args = parser.parse_args()
    print_changes(CHANGES, "irf7-silenced")
    if args.n < 1 or args.seed < 0:
        parser.error("--n must be at least 1 and --seed at least 0")

    arms = [load_scenario(name).with_changes(parameters=CHANGES) if CHANGES else name for name in ARMS]
    timing = surgery_timing(arms, SURGERY_DAYS, cohort_n=args.n, seed=args.seed, window=WINDOW)
    labels = ["no surgery" if day is None else f"day {day}" for day in SURGERY_DAYS]
    rows = []
    for i, name in enumerate(timing.scenarios):
        rows.append([name, *(event_text(*cell) for cell in zip(timing.fate[i], timing.metastasis_day[i],
                                                                 timing.endpoint_day[i]))])
    print("Typical mouse, by day of surgery:\n")
    print(format_table(["arm", *labels], rows))
    print(f"met. day N: bone metastasis detected on day N; culled: the primary reached the humane endpoint first; "
          f"free: neither by day {timing.follow_up:g}.")
    print(f"\nFraction of {args.n} mice per point metastasis-free and not culled on day {WINDOW} (seed {args.seed}):\n")
    print(format_table(["arm", *labels], [[name, *(float(f) for f in timing.free_fraction[i])]
                                          for i, name in enumerate(timing.scenarios)]))

    print("\nWhat the runs show:")
    operated = ~np.isnan(timing.resection_days)
    for i, name in enumerate(timing.scenarios):
        days = np.where(np.isnan(timing.metastasis_day[i]), np.inf, timing.metastasis_day[i])[operated]
        later_helps = [(a, b) for a, b, d1, d2 in zip(timing.resection_days[operated], timing.resection_days[operated][1:],
                                                      days, days[1:]) if d2 > d1]
        free = timing.free_fraction[i][operated]
        best = timing.resection_days[operated][int(np.argmax(free))]
        share = (f"the largest share still free on day {WINDOW} comes with surgery on day {best:g} "
                 f"({percent(free.max())})" if free.max() > 0 else f"no mouse is still free on day {WINDOW}")
        if later_helps:
            steps = ", ".join(f"day {a:g} to {b:g}" for a, b in later_helps)
            print(f"  * {name}: moving surgery later delays the typical mouse's metastasis ({steps}); {share}.")
        else:
            print(f"  * {name}: a later operation never delays the typical mouse's metastasis "
                  f"({day_text(days[0])} with surgery on day {timing.resection_days[0]:g}, "
                  f"{day_text(days[-1])} with surgery on day {timing.resection_days[operated][-1]:g}); {share}.")
        if not operated.all():
            fate = timing.fate[i][~operated][0]
            when = timing.endpoint_day[i][~operated][0] if fate == "culled" else timing.metastasis_day[i][~operated][0]
            print(f"    Without surgery: {fate} on day {when:.1f}.")

    with house_style():
        axes = plot_surgery_timing(timing)
        axes[0].figure.suptitle("When should the primary tumour be removed? Surgery day against bone metastasis "
                                "and the humane endpoint", fontsize=12)
    save_script_figure(axes[0].figure, args.out, "surgery_timing")


if __name__ == "__main__":
    run_script(main)
