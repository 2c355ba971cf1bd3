"""Two methods' per-seed values compared: each side's mean, std and Student-t interval (the probe's `summarise`),
the difference with its Welch interval and p-value, the smallest difference these seeds can detect, the seeds
that would detect a given difference, and a verdict in words. The t distribution is the probe's (no scipy)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..probe.stats import SeedSummary, summarise, t_cdf, t_quantile

ALPHA, POWER, CONFIDENCE = 0.05, 0.8, 0.95
MAX_SEEDS = 100_000
# Name tokens that say which way a metric improves (a name with tokens of both kinds gets no direction).
HIGHER = {"acc", "accuracy", "top1", "top5", "f1", "auc", "auroc", "auprc", "ap", "map", "bleu", "rouge", "psnr",
          "ssim", "precision", "recall", "iou", "miou", "dice", "reward", "return", "score", "r2", "mcc", "ndcg",
          "mrr", "hits", "em", "exact", "correct", "win", "meteor", "chrf", "spearman", "pearson", "kappa"}
LOWER = {"loss", "error", "err", "perplexity", "ppl", "wer", "cer", "fid", "kid", "mse", "mae", "rmse", "nll",
         "bpd", "bpc", "lpips", "regret", "latency", "eer", "ter", "distance", "divergence", "kl"}


def guess_direction(metric: str) -> str | None:
    """'higher', 'lower' or None, from the words of a metric's name (`val/top1_acc`, `test_loss`)."""
    tokens = set(re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", metric).lower()))
    higher, lower = bool(tokens & HIGHER), bool(tokens & LOWER)
    if higher == lower:
        return None
    return "higher" if higher else "lower"


@dataclass
class Side:
    n: int
    mean: float
    std: float
    low: float
    high: float
    values: list[float]

    @classmethod
    def of(cls, values: list[float]) -> "Side":
        s: SeedSummary = summarise(values, confidence=CONFIDENCE)
        return cls(len(values), s.mean, s.std, s.low, s.high, list(values))

    def to_json(self) -> dict:
        return {"n": self.n, "mean": self.mean, "std": self.std, "ci95": [self.low, self.high], "values": self.values}


@dataclass
class Comparison:
    metric: str
    a: Side
    b: Side
    direction: str | None  # "higher" / "lower" is better, or unknown
    direction_from: str | None  # "option" or "name"
    difference: float  # mean(A) - mean(B)
    low: float  # Welch 95 % interval of the difference
    high: float
    se: float
    t: float | None
    df: float | None
    p: float | None
    detectable: float  # the smallest |difference| these n seeds detect (two-sided 5 %, 80 % power)
    effect: float  # the difference the seed count below is for: --effect, else the observed one
    seeds_needed: int | None  # per side, for `effect`
    pairs: dict = field(default_factory=dict)  # single-seed comparisons: A's run against B's run
    better: str | None = None  # "A", "B" or None
    verdict: str = ""

    def to_json(self) -> dict:
        return {
            "metric": self.metric, "direction": self.direction, "direction_from": self.direction_from,
            "a": self.a.to_json(), "b": self.b.to_json(), "difference": self.difference,
            "ci95": [self.low, self.high], "standard_error": self.se, "t": self.t, "df": self.df,
            "p_value": self.p, "min_detectable_difference": self.detectable, "effect": self.effect,
            "seeds_needed": self.seeds_needed, "single_seed_pairs": self.pairs, "better": self.better,
            "verdict": self.verdict,
        }


def welch_df(va: float, vb: float, na: int, nb: int) -> float:
    """Welch-Satterthwaite degrees of freedom from the squared standard errors va = sA²/nA, vb = sB²/nB."""
    denominator = va * va / (na - 1) + vb * vb / (nb - 1)
    return (va + vb) ** 2 / denominator if denominator > 0 else float(na + nb - 2)


def detectable(se: float, df: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The difference a two-sided level-alpha t test detects with the given power (normal-shift approximation,
    as the probe's --seeds figure)."""
    return (t_quantile(1.0 - alpha / 2.0, df) + t_quantile(power, df)) * se


def seeds_needed(std_a: float, std_b: float, effect: float) -> int | None:
    """Seeds per side for `effect` to be detectable with these stds; None when it cannot be (no effect, no noise),
    MAX_SEEDS + 1 when more than MAX_SEEDS would be needed."""
    effect = abs(effect)
    total = std_a ** 2 + std_b ** 2
    if effect == 0 or total == 0:
        return None

    def enough(n: int) -> bool:
        va, vb = std_a ** 2 / n, std_b ** 2 / n
        return detectable(math.sqrt(va + vb), welch_df(va, vb, n, n)) <= effect

    if enough(2):
        return 2
    low, high = 2, 4
    while not enough(high):
        if high > MAX_SEEDS:
            return MAX_SEEDS + 1
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def _pairs(a: list[float], b: list[float], direction: str | None) -> dict:
    sign = -1.0 if direction == "lower" else 1.0
    wins = sum(1 for x in a for y in b if sign * (x - y) > 0)
    losses = sum(1 for x in a for y in b if sign * (x - y) < 0)
    return {"a_better" if direction else "a_higher": wins, "b_better" if direction else "b_higher": losses,
            "ties": len(a) * len(b) - wins - losses, "total": len(a) * len(b)}


def compare(metric: str, a: list[float], b: list[float], direction: str | None = None,
            direction_from: str | None = None, effect: float | None = None,
            labels: tuple[str, str] = ("A", "B")) -> Comparison:
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"{metric}: at least two values per side (got {len(a)} and {len(b)})")
    side_a, side_b = Side.of(a), Side.of(b)
    va, vb = side_a.std ** 2 / side_a.n, side_b.std ** 2 / side_b.n
    se = math.sqrt(va + vb)
    df = welch_df(va, vb, side_a.n, side_b.n)
    difference = side_a.mean - side_b.mean
    half = t_quantile(0.5 + CONFIDENCE / 2.0, df) * se
    if se > 0:
        t = difference / se
        p = min(1.0, 2.0 * t_cdf(-abs(t), df))  # the lower tail directly: no 1 - cdf cancellation
    else:  # every seed gave the same value on each side
        t, p = None, (1.0 if difference == 0 else 0.0)
    wanted = abs(effect) if effect is not None else abs(difference)
    result = Comparison(metric, side_a, side_b, direction, direction_from, difference, difference - half,
                        difference + half, se, t, df if se > 0 else None, p, detectable(se, df), wanted,
                        seeds_needed(side_a.std, side_b.std, wanted), _pairs(a, b, direction))
    result.better, result.verdict = verdict(result, labels)
    return result


def number(value: float, digits: int = 3) -> str:
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    return f"{value:.{digits}g}" if abs(value) >= 10 ** -(digits + 1) else f"{value:.{digits - 1}e}"


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def seeds_text(c: Comparison) -> str:
    return f"{c.a.n} seeds each" if c.a.n == c.b.n else f"{c.a.n} and {c.b.n} seeds"


def verdict(c: Comparison, labels: tuple[str, str] = ("A", "B")) -> tuple[str | None, str]:
    """Who is better ("A", "B" or None) and why, in words: a significant Welch test names the side (or, with no
    known direction, the higher one); otherwise how many seeds would tell the effect from noise."""
    gap = abs(c.difference)
    name = {"A": labels[0], "B": labels[1]}
    if c.p is not None and c.p < ALPHA:
        higher = "A" if c.difference > 0 else "B"
        low, high = (c.low, c.high) if c.difference > 0 else (-c.high, -c.low)  # the gap's interval, sign dropped
        interval = f"95 % interval {number(low)} to {number(high)}"
        noise = "no seed variation on either side" if c.se == 0 else f"{interval}, {p_text(c.p)}"
        if c.direction is None:
            return None, (f"{name[higher]} is higher by {number(gap)} ({noise}); say which way is better with "
                          f"--higher-is-better or --lower-is-better")
        better = higher if c.direction == "higher" else ("B" if higher == "A" else "A")
        way = "higher" if (better == higher) else "lower"
        return better, f"{name[better]} is better: {number(gap)} {way} ({noise})"
    if c.se == 0:
        return None, "no difference: every seed gave the same value on both sides"
    text = f"no detectable difference with {seeds_text(c)} ({p_text(c.p)})"
    if c.seeds_needed is None:
        return None, text + f"; differences under {number(c.detectable)} cannot be told from seed noise"
    if c.seeds_needed > MAX_SEEDS:
        return None, text + f"; a difference of {number(c.effect)} is below what even {MAX_SEEDS} seeds would detect"
    return None, text + f"; about {c.seeds_needed} seeds each would detect {number(c.effect)}"
