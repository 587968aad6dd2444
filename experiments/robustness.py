"""How sure can we be of the model's conclusions, when most of its numbers are guesses?

The model reproduces every finding of Bidwell et al. 2012 at its default
parameters, but many of those parameters were chosen for teaching. This
script asks whether the findings survive other choices. The findings are
declared as data in sim/data/conclusions/bidwell2012.toml ("this arm
metastasizes before that one"); each is checked

  * at the defaults;
  * with every parameter halved, then doubled, one at a time;
  * over a Latin-hypercube sample of the plausible ranges declared next to the
    parameters in sim/data/parameters/irf7.toml, all varied at once.

It also reports how many days Irf7 and interferon buy, as a median with a
90 % range over the samples, instead of one number that holds only at the
defaults. A tie counts as a failure.

What to try:
  * Slower growth in bone: CHANGES = {"bone_growth_rate": 0.3}. Which
    conclusion breaks even at the defaults, and why does CD8 killing alone now
    hold the metastasis?
  * No host interferon at all: CHANGES = {"host_ifn_production": 0,
    "basal_ifn_production": 0}. What happens to "losing host Ifnar1 speeds
    metastasis of Irf7-silenced tumours", and what does that say about where
    the knockout's head start comes from?
  * Weaker CD8+ T cells: CHANGES = {"cd8_kill_max": 0.3}. Does anything
    break, and why is the NK-depletion finding now even more robust?
  * Write your own conclusion: copy the conclusions file, add
    [[conclusion]] earlier = "irf7-restored-nk-depleted", later =
    "irf7-restored-cd8-depleted", claim = "...", and run
    `tumorsim robustness --conclusions my-conclusions.toml`.

Run:  python experiments/robustness.py            (256 samples, about 10 s on 2 cores)
      python experiments/robustness.py --n 1024 --seed 2
"""

import argparse
import textwrap

from sim.plotting import add_out_option, house_style, plot_robustness, print_changes, run_script, save_script_figure
from sim.robustness import check_robustness

CHANGES = {}   # parameter changes applied to every arm first


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="samples of the parameter ranges (default 256)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample (default 1)")
    add_out_option(parser)
    args = parser.parse_args()
    print_changes(CHANGES, "irf7-silenced")
    if args.n < 1 or args.seed < 0:
        parser.error("--n must be at least 1 and --seed at least 0")

    result = check_robustness(n=args.n, seed=args.seed, changes=CHANGES)
    print(result.table())
    print()
    for line in result.sentences():
        print(textwrap.fill(line, 110, subsequent_indent="  "))

    with house_style():
        axes = plot_robustness(result)
    save_script_figure(axes[0].figure, args.out, "robustness")


if __name__ == "__main__":
    run_script(main)
