"""Statistics for `--seeds K`: mean, sample std, a Student-t 95 % interval and the smallest difference between
two methods that K seeds each could tell from seed noise. The t quantile is computed (regularised incomplete
beta by continued fraction, then bisection): no scipy."""
from __future__ import annotations

import math
from dataclasses import dataclass


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with df degrees of freedom."""
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError("need 0 < p < 1 and df > 0")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


@dataclass
class SeedSummary:
    values: list[float]
    mean: float
    std: float  # sample standard deviation (n - 1)
    low: float  # Student-t 95 % interval of the mean
    high: float
    t: float
    min_detectable: float  # two methods, n seeds each, two-sided 5 % test with 80 % power

    def to_json(self) -> dict:
        return {"values": self.values, "mean": self.mean, "std": self.std, "ci95": [self.low, self.high],
                "t_quantile": self.t, "min_detectable_difference": self.min_detectable,
                "n": len(self.values)}


def summarise(values: list[float], confidence: float = 0.95, alpha: float = 0.05, power: float = 0.8) -> SeedSummary:
    n = len(values)
    if n < 2:
        raise ValueError("at least two values")
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    t = t_quantile(0.5 + confidence / 2.0, n - 1)
    half = t * std / math.sqrt(n)
    df = 2 * n - 2
    detectable = (t_quantile(1.0 - alpha / 2.0, df) + t_quantile(power, df)) * std * math.sqrt(2.0 / n)
    return SeedSummary(list(values), mean, std, mean - half, mean + half, t, detectable)
