"""Holdout arithmetic, pure functions: lift of enrolled vs held-out accounts with 95% confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959963984540054


def proportion_diff(success_a: int, n_a: int, success_b: int, n_b: int) -> dict:
    """Difference of two proportions (a − b) with a Wald 95% interval; None when a group is empty."""
    if not n_a or not n_b:
        return {"a": None, "b": None, "diff": None, "low": None, "high": None}
    pa, pb = success_a / n_a, success_b / n_b
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    diff = pa - pb
    return {"a": pa, "b": pb, "diff": diff, "low": diff - Z95 * se, "high": diff + Z95 * se}


def mean_diff(a: Sequence[float], b: Sequence[float]) -> dict:
    """Difference of means (a − b) with a Welch 95% interval (normal approximation)."""
    if len(a) < 2 or len(b) < 2:
        ma = float(np.mean(a)) if len(a) else None
        mb = float(np.mean(b)) if len(b) else None
        return {"a": ma, "b": mb, "diff": None if ma is None or mb is None else ma - mb, "low": None, "high": None}
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = xa.mean() - xb.mean()
    se = math.sqrt(xa.var(ddof=1) / len(xa) + xb.var(ddof=1) / len(xb))
    return {
        "a": float(xa.mean()),
        "b": float(xb.mean()),
        "diff": float(diff),
        "low": diff - Z95 * se,
        "high": diff + Z95 * se,
    }


def ratio_diff(
    num_a: Sequence[float],
    den_a: Sequence[float],
    num_b: Sequence[float],
    den_b: Sequence[float],
    *,
    seed: int = 7,
    n_boot: int = 2000,
) -> dict:
    """Difference of pooled ratios (Σnum/Σden, e.g. NRR) with a bootstrap 95% interval over accounts."""
    na, da, nb, db = (np.asarray(x, dtype=float) for x in (num_a, den_a, num_b, den_b))
    if not len(na) or not len(nb) or da.sum() <= 0 or db.sum() <= 0:
        return {"a": None, "b": None, "diff": None, "low": None, "high": None}
    ra, rb = na.sum() / da.sum(), nb.sum() / db.sum()
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, len(na), (n_boot, len(na)))
    ib = rng.integers(0, len(nb), (n_boot, len(nb)))
    with np.errstate(divide="ignore", invalid="ignore"):
        boots = na[ia].sum(1) / da[ia].sum(1) - nb[ib].sum(1) / db[ib].sum(1)
    boots = boots[np.isfinite(boots)]
    low, high = np.percentile(boots, [2.5, 97.5]) if len(boots) else (None, None)
    return {"a": float(ra), "b": float(rb), "diff": float(ra - rb), "low": _f(low), "high": _f(high)}


def _f(x) -> float | None:
    return None if x is None else float(x)


def significant(result: dict) -> bool:
    """Whether the 95% interval excludes zero."""
    return result.get("low") is not None and (result["low"] > 0 or result["high"] < 0)
