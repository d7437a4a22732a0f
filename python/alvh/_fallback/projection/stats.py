"""The P&L statistics of a projection (the twin of
``rust/core/src/projection/statistics.rs``; named ``stats`` so the module does not
shadow the `statistics` function the package exports): per (scenario, day) and of the
probability-weighted mixture per day, with the standard errors of the quantiles and
CVaRs. ``pnl_statistics`` is the kernel form (``alvh._native.pnl_statistics``'s
contract), ``statistics`` the same numbers as a dict.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from alvh._core.types import FloatArray
from alvh._fallback.grid import _array, _count, _first_bad, _invalid
from alvh._fallback.projection.checks import _out

#: The quantiles of `pnl_statistics`, in percent, and their keys.
QUANTILE_PERCENTS = (1, 5, 25, 50, 75, 95, 99)

STAT_KEYS = (
    "mean",
    "std",
    "q01",
    "q05",
    "q25",
    "q50",
    "q75",
    "q95",
    "q99",
    "var95",
    "var99",
    "cvar95",
    "cvar99",
    "p_profit",
    "q01_se",
    "q05_se",
    "q25_se",
    "q50_se",
    "q75_se",
    "q95_se",
    "q99_se",
    "cvar95_se",
    "cvar99_se",
)
#: Statistics per row of `pnl_statistics` (`STAT_KEYS`).
STATS = len(STAT_KEYS)


def pnl_statistics(
    pnl: Any, probability: Any, days: Any, paths: Any, per_scenario: Any, mixture: Any
) -> None:
    """The kernel form of `statistics` (``alvh._native.pnl_statistics``'s contract):
    fills ``per_scenario`` (length S*H*STATS, index ``(s*H + d)*STATS + k``) and
    ``mixture`` (length H*STATS, index ``d*STATS + k``), ``k`` over `STAT_KEYS`."""
    probs = np.asarray(probability, dtype=np.float64).reshape(-1)
    table = statistics(pnl, probs, probs.size, days, paths)
    n_days = int(days)
    per = _out("per_scenario", per_scenario, probs.size * n_days * STATS, f"S * days * {STATS}")
    mix = _out("mixture", mixture, n_days * STATS, f"days * {STATS}")
    per.reshape(probs.size, n_days, STATS)[...] = np.stack([table[key] for key in STAT_KEYS], axis=-1)
    mix.reshape(n_days, STATS)[...] = np.stack([table[f"mixture_{key}"] for key in STAT_KEYS], axis=-1)


def _rank(p: float, n: int) -> int:
    """The 0-based index of the inverted-CDF quantile at probability ``p`` of ``n``
    sorted samples: ``ceil(p n)`` clamped to 1..n, minus one."""
    return int(min(max(math.ceil(p * n), 1), n)) - 1


def statistics(pnl: Any, probability: Any, n_scenarios: Any, days: Any, paths: Any) -> dict[str, FloatArray]:
    """Statistics of the P&L cube ``pnl`` (length S*H*P, index ``(s*H + d-1)*P + p``)
    per (scenario, day), shape (S, H), and of the probability-weighted mixture per
    day, shape (H,), keys prefixed ``mixture_``.

    Keys: mean, std, q01, q05, q25, q50, q75, q95, q99, var95, var99, cvar95,
    cvar99, p_profit (and ``mixture_<key>``). Per (s, d), with ``x_(1) <= ... <=
    x_(P)`` the sorted sample:

    - ``mean = sum x / P``; ``std = sqrt(sum (x - mean)^2 / P)`` (population);
    - ``q_k = x_(ceil(k P / 100))`` for k in (1, 5, 25, 50, 75, 95, 99) (inverted
      CDF, numpy ``method="inverted_cdf"``; the rank in exact integer arithmetic);
    - ``var95 = -q05``, ``var99 = -q01``;
    - ``cvar_a = -(x_(1) + ... + x_(n) + f x_(n+1)) / (m P)`` with tail mass ``m = 1
      - a`` (0.05, 0.01), ``n = floor(m P)``, ``f = m P - n`` (exact: ``m P = k P /
      100`` in integers, ``k`` = 5 or 1): the mean of the worst ``m`` of the mass,
      the boundary sample counted fractionally;
    - ``p_profit = #{x > 0} / P``.

    Mixture on day d, sample (s, p) weighing ``w = probability[s] / P`` (scenarios of
    probability 0 left out): ``mean = sum_s probability[s] mean[s, d]``, ``std =
    sqrt(sum_s probability[s] (std[s, d]^2 + (mean[s, d] - mean)^2))``, ``p_profit =
    sum_s probability[s] p_profit[s, d]``. The samples are sorted by value (stable,
    ties in (s, p) order) and ``c_i`` is the running float64 sum of their weights in
    that order: ``q = x_i`` at the first ``i`` with ``c_i >= q`` (the last sample if
    rounding leaves ``c`` short of ``q``); ``var95 = -q05``, ``var99 = -q01``;
    ``cvar_a = -(sum_{j < i} w_j x_j + (m - c_{i-1}) x_i) / m`` at the first ``i``
    with ``c_i >= m`` (``m`` = 0.05, 0.01 as literals, never ``1 - a``).

    ``probability`` (length S) must be non-negative and sum to 1 within 1e-9.
    """
    n_scen = _count("n_scenarios", n_scenarios)
    n_days = _count("days", days)
    n_paths = _count("paths", paths)
    pnl = _array(
        "pnl",
        pnl,
        np.float64,
        n_scen * n_days * n_paths,
        "n_scenarios * days * paths, index (s * days + d - 1) * paths + p",
    )
    probability = _array("probability", probability, np.float64, n_scen, "one entry per scenario")
    if n_paths == 0:
        raise _invalid("paths", None, n_paths, "at least 1")
    _first_bad("pnl", pnl, ~np.isfinite(pnl), "finite")
    _first_bad(
        "probability",
        probability,
        ~(np.isfinite(probability) & (probability >= 0.0)),
        "zero or positive and finite",
    )
    total = float(probability.sum())
    if n_scen and abs(total - 1.0) > 1e-9:
        raise _invalid("probability", None, total, "a distribution (its sum is 1 within 1e-9)")

    cube = pnl.reshape(n_scen, n_days, n_paths)
    stats: dict[str, FloatArray] = {key: np.empty((n_scen, n_days)) for key in STAT_KEYS}
    ranks = [-(-pct * n_paths // 100) - 1 for pct in QUANTILE_PERCENTS]
    for s in range(n_scen):
        ordered = np.sort(cube[s], axis=1)  # (H, P)
        stats["mean"][s] = ordered.mean(axis=1)
        stats["std"][s] = ordered.std(axis=1)
        for pct, rank in zip(QUANTILE_PERCENTS, ranks):
            stats[f"q{pct:02d}"][s] = ordered[:, rank]
        for level, tail_pct in ((95, 5), (99, 1)):
            whole, rest = divmod(tail_pct * n_paths, 100)
            tail = ordered[:, :whole].sum(axis=1)
            if rest:
                tail = tail + (rest / 100.0) * ordered[:, whole]
            stats[f"cvar{level}"][s] = -tail / (tail_pct * n_paths / 100.0)
        stats["p_profit"][s] = (ordered > 0.0).sum(axis=1) / n_paths
        # Standard errors (as native): a quantile's is half the distance between the
        # order statistics at q -+ sqrt(q (1 - q) / P); CVaR's is sqrt(Var(U) / P) / m
        # with U = max(VaR point - x, 0).
        for pct in QUANTILE_PERCENTS:
            q = pct / 100.0
            z = math.sqrt(q * (1.0 - q) / n_paths)
            hi = _rank(q + z, n_paths)
            lo = _rank(q - z, n_paths)
            stats[f"q{pct:02d}_se"][s] = 0.5 * (ordered[:, hi] - ordered[:, lo])
        for level, tail_pct in ((95, 5), (99, 1)):
            v = stats[f"q{tail_pct:02d}"][s][:, None]
            u = np.maximum(v - ordered, 0.0)
            mean_u = u.sum(axis=1) / n_paths
            var_u = np.maximum((u * u).sum(axis=1) / n_paths - mean_u**2, 0.0)
            stats[f"cvar{level}_se"][s] = np.sqrt(var_u / n_paths) / (tail_pct / 100.0)
    stats["var95"] = -stats["q05"]
    stats["var99"] = -stats["q01"]

    mixture: dict[str, FloatArray] = {f"mixture_{key}": np.full(n_days, np.nan) for key in STAT_KEYS}
    present = np.flatnonzero(probability > 0.0)
    if present.size:
        prob = probability[present][:, None]  # (S', 1)
        mean = _over_scenarios(prob * stats["mean"][present])
        mixture["mixture_mean"] = mean
        spread = stats["std"][present] ** 2 + (stats["mean"][present] - mean) ** 2
        mixture["mixture_std"] = np.sqrt(_over_scenarios(prob * spread))
        mixture["mixture_p_profit"] = _over_scenarios(prob * stats["p_profit"][present])
        weights = np.repeat(probability[present] / n_paths, n_paths)
        for d in range(n_days):
            sample = cube[present, d, :].ravel()
            order = np.argsort(sample, kind="stable")
            x = sample[order]
            w = weights[order]
            cum = np.cumsum(w)
            for pct in QUANTILE_PERCENTS:
                i = min(int(np.searchsorted(cum, pct / 100.0, side="left")), x.size - 1)
                mixture[f"mixture_q{pct:02d}"][d] = x[i]
            for level, mass in ((95, 0.05), (99, 0.01)):
                i = min(int(np.searchsorted(cum, mass, side="left")), x.size - 1)
                before = float(cum[i - 1]) if i else 0.0
                tail = float(np.dot(w[:i], x[:i])) + (mass - before) * float(x[i])
                mixture[f"mixture_cvar{level}"][d] = -tail / mass
            # Standard errors, stratified by scenario (as native).
            columns = cube[present, d, :]
            weights_s = probability[present]
            for pct in QUANTILE_PERCENTS:
                at = mixture[f"mixture_q{pct:02d}"][d]
                f = (columns <= at).sum(axis=1) / n_paths
                z = math.sqrt(float((weights_s**2 * f * (1.0 - f)).sum()) / n_paths)
                q = pct / 100.0
                lo = min(int(np.searchsorted(cum, max(q - z, 5e-324), side="left")), x.size - 1)
                hi = min(int(np.searchsorted(cum, min(q + z, 1.0), side="left")), x.size - 1)
                mixture[f"mixture_q{pct:02d}_se"][d] = 0.5 * (x[hi] - x[lo])
            for level, tail_pct in ((95, 5), (99, 1)):
                v = mixture[f"mixture_q{tail_pct:02d}"][d]
                u = np.maximum(v - columns, 0.0)
                mean_u = u.sum(axis=1) / n_paths
                var_u = np.maximum((u * u).sum(axis=1) / n_paths - mean_u**2, 0.0)
                variance = float((weights_s**2 * var_u).sum()) / n_paths
                mixture[f"mixture_cvar{level}_se"][d] = math.sqrt(variance) / (tail_pct / 100.0)
        mixture["mixture_var95"] = -mixture["mixture_q05"]
        mixture["mixture_var99"] = -mixture["mixture_q01"]
    stats.update(mixture)
    return stats


def _over_scenarios(terms: FloatArray) -> FloatArray:
    """The sum over scenarios (axis 0) of ``terms`` ``(S, D)``, in scenario order for every
    day: ``terms.sum(axis=0)`` sums pairwise when ``D == 1`` but row by row otherwise, so a
    day's number would depend on how many days are in the run."""
    total = np.zeros(terms.shape[1:])
    for row in terms:
        total = total + row
    return total
