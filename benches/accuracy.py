"""How far an implementation's numbers are from alvh's, on the data it was timed on.

Prices and Greeks: per output, max |x - x_alvh| / max(|x_alvh|, 1e-6 x scale), the
scale being the output's natural size (S for price, vega, theta, rho, volga; 1 for
delta, vanna, charm; 1/S for gamma). That is the relative difference wherever the
value matters (>= 1e-6 of its scale, the accuracy domain of issue 2) and an
absolute one, in units of 1e-6 x scale, below. A NaN where alvh has a number is
counted, not hidden.

Implied vol, against the vols the prices were made from: max |sigma - sigma_true|
where vega > 0.01 (per 1.00 of vol; well-conditioned options), the number of
failures (NaN / inf / <= 0) overall and among those options, the number of wrong
vols there (off by more than 1e-6), the failures on solvable prices (inside the
no-arbitrage bounds by more than their rounding), and the worst repricing error of
a returned vol, |price(sigma) - price| / (S e^{-qT} + K e^{-rT}), priced by alvh.
"""

from __future__ import annotations

import numpy as np

from dataset import OptionSet

WELL_CONDITIONED_VEGA = 0.01
WRONG_VOL = 1e-6


def natural_scale(output: str, spot: float) -> float:
    if output == "gamma":
        return 1.0 / spot
    if output in ("delta", "vanna", "charm"):
        return 1.0
    return spot


def differences(
    outputs: dict[str, np.ndarray],
    truth: dict[str, np.ndarray],
    data: OptionSet,
) -> dict[str, object]:
    """Per-output and overall max relative difference against alvh (see module doc)."""
    by_output: dict[str, float] = {}
    nan_count = 0
    for name, values in outputs.items():
        expected = truth[name][data.rows]
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        finite = np.isfinite(values)
        nan_count += int(np.count_nonzero(~finite & np.isfinite(expected)))
        floor = 1e-6 * natural_scale(name, data.spot)
        relative = np.abs(values[finite] - expected[finite]) / np.maximum(np.abs(expected[finite]), floor)
        by_output[name] = float(relative.max()) if relative.size else float("nan")
    worst = max(by_output, key=lambda n: by_output[n]) if by_output else None
    return {
        "max_rel_diff": by_output[worst] if worst else None,
        "worst_output": worst,
        "max_rel_diff_by_output": by_output,
        "nan_count": nan_count,
    }


def implied_vol_accuracy(vol: np.ndarray, truth_vega: np.ndarray, data: OptionSet) -> dict[str, object]:
    import alvh

    vol = np.asarray(vol, dtype=np.float64).reshape(-1)
    well_conditioned = truth_vega[data.rows] > WELL_CONDITIONED_VEGA
    failed = ~np.isfinite(vol) | (vol <= 0.0)
    error = np.abs(vol - data.vol)
    considered = well_conditioned & ~failed
    solved = ~failed
    # A price whose distance to the no-arbitrage bounds is within their rounding
    # (4 ulp of S e^{-qT} + K e^{-rT}) carries no vol information: a NaN there is
    # right. Every other failure is a solver failure.
    spot_leg = data.spot * data.div_discount
    strike_leg = data.strike * data.rate_discount
    margin = 4.0 * np.finfo(np.float64).eps * (spot_leg + strike_leg)
    intrinsic = np.maximum(np.where(data.is_call, spot_leg - strike_leg, strike_leg - spot_leg), 0.0)
    ceiling = np.where(data.is_call, spot_leg, strike_leg)
    solvable = (data.price > intrinsic + margin) & (data.price < ceiling - margin)
    with alvh.use_backend("native"):
        repriced = alvh.bsm.price(
            is_call=data.is_call[solved],
            spot=data.spot,
            strike=data.strike[solved],
            t=data.t[solved],
            rate=data.rate,
            div=data.div,
            vol=vol[solved],
            errors="nan",
        )
    scale = data.spot * data.div_discount[solved] + data.strike[solved] * data.rate_discount[solved]
    reprice_error = np.abs(repriced - data.price[solved]) / scale
    return {
        "iv_max_abs_error": float(error[considered].max()) if considered.any() else None,
        "iv_well_conditioned": int(np.count_nonzero(well_conditioned)),
        "iv_failures": int(np.count_nonzero(failed)),
        "iv_unsolvable": int(np.count_nonzero(~solvable)),
        "iv_failures_solvable": int(np.count_nonzero(failed & solvable)),
        "iv_failures_well_conditioned": int(np.count_nonzero(failed & well_conditioned)),
        "iv_wrong_well_conditioned": int(np.count_nonzero(considered & (error > WRONG_VOL))),
        "iv_max_reprice_error": float(np.nanmax(reprice_error)) if reprice_error.size else None,
    }
