"""How likely each fate is: counts over replicate mice, with confidence intervals."""

from __future__ import annotations

from dataclasses import dataclass
from math import sqrt
from statistics import NormalDist


def wilson_interval(count: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a proportion ``count``/``n`` (Wilson's score interval: it stays inside [0, 1] and
    is not empty at 0 or n, unlike the normal approximation)."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    share = count / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class FateOdds:
    """How often each fate happened among ``n`` replicate mice that differ only in their chance draws.

    Attributes
    ----------
    counts : dict of str to int
        Mice of each fate ("metastasis", "culled", "free").
    n, seed : int
        Replicates, and the seed of their draws (replicate 0 is the run that was shown).
    """

    counts: dict
    n: int
    seed: int

    def share(self, fate: str) -> float:
        """Fraction of the replicates with this fate."""
        return self.counts[fate] / self.n

    def interval(self, fate: str, confidence: float = 0.95) -> tuple[float, float]:
        """Confidence interval of that fraction (Wilson)."""
        return wilson_interval(self.counts[fate], self.n, confidence)

    def to_dict(self) -> dict:
        return {"n": self.n, "seed": self.seed,
                "fates": {fate: {"count": count, "fraction": self.share(fate), "ci95": list(self.interval(fate))}
                          for fate, count in self.counts.items()}}
