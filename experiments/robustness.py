"""How sure can we be of the model's conclusions, when most of its numbers are guesses?

The model reproduces every finding of Bidwell et al. 2012 at its default
parameters, but many of those parameters were chosen for teaching, and so was
the schedule (surgery day, doses, depletion windows). This script asks whether
the findings survive other choices. The findings are declared as data in
sim/data/conclusions/bidwell2012.toml, as orderings ("this arm metastasises
before that one"), differences ("at least 0.4 more mice free on day 60") and
delays ("a median at least 2 days later"). Each is checked on cohorts of mice
with chance in the bone

  * at the defaults;
  * with every parameter halved, then doubled, one at a time;
  * over a Latin-hypercube sample of the plausible ranges declared next to the
    parameters in sim/data/parameters/irf7.toml and of the schedule's
    uncertainty declared in the conclusions file, all varied at once.

The orderings follow from how the model is wired (interferon only helps the
immune cells, a depletion only removes killers), so the report shows them but
does not count them as evidence. The sizes of the protection can fail.

What to try:
  * Slower growth in bone: CHANGES = {"bone_growth_rate": 0.3}. Which sizes
    of protection now hold, and why does NK depletion matter less?
  * No host interferon at all: CHANGES = {"host_ifn_production": 0,
    "basal_ifn_production": 0}. What happens to "Ifnar1-/- mice metastasise at
    least 2 days sooner", and where does the knockout's head start come from?
  * Weaker CD8+ T cells: CHANGES = {"cd8_kill_max": 0.3}. Which conclusions
    break, and which cannot?
  * Write your own conclusion: copy the conclusions file, add a [[difference]]
    with arm = "irf7-restored-nk-depleted", reference = "irf7-silenced",
    day = 40, at_least = 0.1, a claim and a source, and run
    `tumorsim robustness --conclusions my-conclusions.toml`.

Run:  python experiments/robustness.py            (128 samples x 100 mice, about 20 s on 2 cores)
      python experiments/robustness.py --n 256 --mice 200 --seed 2
"""

import argparse
import textwrap

from sim.plotting import add_out_option, house_style, plot_robustness, print_changes, run_script, save_script_figure
from sim.robustness import check_robustness

CHANGES = {}   # parameter changes applied to every arm first


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=128, help="samples of the parameter and schedule ranges (default 128)")
    parser.add_argument("--mice", type=int, default=100, help="mice per arm in each sample (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample (default 1)")
    add_out_option(parser)
    args = parser.parse_args()
    print_changes(CHANGES, "irf7-silenced")
    if args.n < 1 or args.mice < 1 or args.seed < 0:
        parser.error("--n and --mice must be at least 1 and --seed at least 0")

    result = check_robustness(n=args.n, mice=args.mice, seed=args.seed, changes=CHANGES)
    print(result.table())
    print()
    for line in result.sentences():
        print(textwrap.fill(line, 110, subsequent_indent="  "))

    with house_style():
        axes = plot_robustness(result)
    save_script_figure(axes[0].figure, args.out, "robustness")


if __name__ == "__main__":
    run_script(main)
