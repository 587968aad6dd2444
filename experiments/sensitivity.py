"""Which parameters decide when bone metastasis appears, and which uncertain number would be worth measuring first?

Most numbers in the model are guesses made for teaching (`tumorsim show NAME`,
column basis). Two questions tell us which guesses matter:

  * Local: nudge one parameter at a time by 1 % around the scenario's values.
    The normalised sensitivity S = (dM/M)/(dp/p) is the % change in the
    metastasis day M per 1 % rise in the parameter: S = -2 means 1 % more
    brings metastasis 2 % earlier. Cheap, but it only looks at one point.
  * Global (Sobol): let the uncertain parameters vary together over the
    ranges declared next to them in sim/data/parameters/irf7.toml (log-uniform
    over ranges wider than a factor 10, uniform otherwise) and ask what share
    of the spread (variance) in the metastasis day each one explains: alone
    (first-order index) and together with the others (total index).

A run without metastasis within the follow-up counts as metastasis on the last
day (a censored value): the analysis says how many runs that was.

What to try:
  * Another arm: SCENARIO = "irf7-restored". Its typical mouse stays free of
    metastasis, so a 1 % nudge has nothing to move and only the global analysis
    is shown: which parameters decide, over their ranges, whether restored mice
    stay free? Which parameters start to matter when the tumour makes interferon?
  * Weaker CD8+ T cells: CHANGES = {"cd8_kill_max": 0.2} (its range moves with it).
  * A sharper estimate: --n 2048 (about a minute). Do the top ranks change, or
    only the widths of the intervals?
  * Pretend you measured the top parameter: copy the parameter file, narrow its
    range (e.g. bone_growth_rate range = [0.45, 0.55]), point a copied scenario at
    it with parameter_file = "..." and run
    `tumorsim sensitivity my-scenario.toml --global`. What ranks first now?

Run:  python experiments/sensitivity.py            (512 base samples, about 10 s on 2 cores)
      python experiments/sensitivity.py --n 2048 --seed 2
"""

import argparse
import textwrap

import matplotlib.pyplot as plt

from sim.plotting import add_out_option, house_style, plot_sobol, plot_tornado, print_changes, run_script, save_script_figure
from sim.sensitivity import local_sensitivity, short_meaning, sobol_analysis

SCENARIO = "irf7-silenced"   # untreated 4T1.2: its typical mouse reaches bone, so a 1 % nudge moves the day
CHANGES = {}                 # parameter changes before the analyses, e.g. {"cd8_kill_max": 0.2}
TOP = 15                     # parameters shown in the tornado chart


def power_of_two(text):
    value = int(text)
    if value < 8 or value & (value - 1):
        raise argparse.ArgumentTypeError(f"must be a power of 2 of at least 8 (e.g. 256, 512, 1024), not {text}")
    return value


def kill_outpaces_growth(analysis):
    """Share of runs still metastasis-free at the end, with CD8 killing faster than bone growth and without."""
    kill, growth = analysis.samples["cd8_kill_max"], analysis.samples["bone_growth_rate"]
    free = analysis.metastasis_day >= analysis.follow_up
    faster = kill > growth
    return free[faster].mean(), free[~faster].mean(), faster.mean()


def notice(text):
    print(textwrap.fill(text, 110, initial_indent="  * ", subsequent_indent="    "))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=power_of_two, default=512,
                        help="base samples of the Sobol analysis, a power of 2 (default: 512; 16 for a quick look)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the Sobol samples (default: 1)")
    add_out_option(parser)
    args = parser.parse_args()
    print_changes(CHANGES, SCENARIO)
    if args.seed < 0:
        parser.error("--seed must be at least 0")

    local = local_sensitivity(SCENARIO, changes=CHANGES)
    moved = [e for e in local.entries if min(e.day_low, e.day_high) < local.follow_up]
    informative = not local.censored or bool(moved)  # else every index is 0: nothing to rank
    print(f"Local sensitivity of the day of bone metastasis in {SCENARIO} (each parameter changed by 1 %):\n")
    if informative:
        print(local.table(TOP))
        print()
        for line in local.sentences():
            print(line)
    else:
        print(f"The typical {SCENARIO} mouse has no bone metastasis within {local.follow_up:g} days, and changing any "
              "parameter by 1 % does not\nchange that: every local index is 0, so there is nothing to rank (no tornado "
              "chart). The global analysis below varies\nthe parameters over their whole ranges.")

    analysis = sobol_analysis(SCENARIO, changes=CHANGES, n=args.n, seed=args.seed, progress=True)
    print("\nGlobal sensitivity (Sobol indices) over the uncertain parameters' ranges, ranked by the total index:\n")
    print(analysis.table())
    print()
    for line in analysis.sentences():
        print(line)

    print("\nWhat to notice:")
    names = [e.name for e in analysis.entries]
    pair = analysis.entries[:2]
    if {e.name for e in pair} == {"cd8_kill_max", "bone_growth_rate"} and all(e.total_order > 1.5 * e.first_order
                                                                              for e in pair):
        held, not_held, share = kill_outpaces_growth(analysis)
        notice(f"The top two act as a pair: can CD8+ T cells kill bone tumour cells faster than the cells divide? In "
               f"the {share:.0%} of runs where the largest CD8 kill rate exceeds the growth rate in bone, {held:.0%} "
               f"stay free of metastasis to day {analysis.follow_up:g}; otherwise only {not_held:.0%} do. Neither "
               "number decides alone, which is why their total indices are much larger than their first-order ones.")
    if informative:
        uncertain = [e for e in local.entries if e.name in names]  # local ranking of the parameters with a range
        local_rank = {e.name: rank for rank, e in enumerate(uncertain, start=1)}
        climber = max(analysis.entries, key=lambda e: local_rank[e.name] - names.index(e.name))
        if local_rank[climber.name] - names.index(climber.name) - 1 >= 3:
            notice(f"Among the {len(names)} uncertain parameters, {climber.name} ranks {local_rank[climber.name]} "
                   f"locally (S = {local.index(climber.name):+.2f}) but {names.index(climber.name) + 1} globally: its "
                   f"range spans a factor {climber.high / climber.low:.0f}. Local sensitivity measures the slope at one "
                   "point; global sensitivity also weighs how uncertain each number is.")
        fixed = [e.name for e in local.entries[:6] if e.name not in names and e.index != 0]
        if fixed:
            notice(f"{', '.join(fixed)} rank among the top six locally but have no range in the parameter file, so the "
                   "global analysis holds them fixed. Give them a range to ask how much their uncertainty matters.")
    first = max(analysis.entries, key=lambda e: e.first_order)
    notice(f"The number to measure first is {first.name}, the {short_meaning(first.meaning)}: knowing it exactly "
           f"would remove about {first.first_order:.0%} of the spread in the predicted day on average (its "
           "first-order index). A parameter whose total index is near zero could be fixed anywhere in its range "
           "without changing the prediction.")

    with house_style():
        if informative:
            fig, axes = plt.subplots(2, 1, figsize=(10.5, 13.5), layout="constrained", gridspec_kw={
                "height_ratios": [min(TOP, len(local.entries)), len(analysis.entries)]})
            plot_tornado(local, ax=axes[0], top=TOP)
            plot_sobol(analysis, ax=axes[1])
            fig.suptitle("Which parameters decide when bone metastasis appears? Top: one parameter at a time (local); "
                         "\nbottom: all uncertain parameters together over their ranges (global, Sobol)", fontsize=12)
        else:
            fig, ax = plt.subplots(figsize=(10.5, 0.36 * len(analysis.entries) + 2.2), layout="constrained")
            plot_sobol(analysis, ax=ax)
            fig.suptitle(f"Which parameters decide when bone metastasis appears? All uncertain parameters together over "
                         f"their ranges\n(global, Sobol; no local analysis: the typical {SCENARIO} mouse stays free)",
                         fontsize=12)

    save_script_figure(fig, args.out, "sensitivity")


if __name__ == "__main__":
    run_script(main)
