"""The scenario-grid kernel of the numpy backend: ``scenario_grid``, the contract
``alvh._native.scenario_grid`` implements (see `alvh.risk.grid` for the Python API).

A position flattened to leg arrays, valued over (days, VIX shifts, spot moves):
every leg's price and Greeks come from this backend's own BSM / Black-76 kernels
(`alvh._fallback.pricing.greeks`), one leg at a time over blocks of cells; legs
are summed in leg order, so a cell's value does not depend on the grid around it.

Arguments (all numpy arrays 1-D, C-contiguous, float64 unless said):

- legs (length ``L``): ``kind`` uint8 (0 = SPX option, 1 = VIX future, 2 = VIX
  option), ``is_call`` bool, ``strike`` (ignored for VIX futures), ``weight`` =
  signed quantity * multiplier ($ per unit of price);
- ``spot``, ``rate``, ``div``: floats of the unbumped market; ``spot_moves``
  (length ``M``): relative SPX moves, the scenario spot is ``spot * (1 + move)``;
- ``n_shifts`` (``V``), ``n_days`` (``D``): ints;
- per (leg, shift, day), length ``L*V*D``, index ``(leg * V + shift) * D + day``:
  ``tau`` (years to expiry; ``<= 0``: expired, valued at intrinsic), ``vol`` (SPX:
  the ATM vol when ``smile`` is given, else the leg's vol; VIX options: Black-76
  vol; VIX futures: ignored), ``underlying`` (VIX legs: the future of the leg's
  expiry; SPX legs: ignored);
- ``smile``: None or ``(rho, eta, gamma)``: the SSVI smile (Gatheral & Jacquier 2014,
  power-law ``phi``; `alvh.market.ssvi.SsviSurface`). The SPX vol of a live leg is then
  ``sqrt(w / tau)`` with ``w = theta/2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2))``,
  ``theta = atm^2 tau``, ``phi = eta / (theta^gamma (1 + theta)^(1 - gamma))`` and
  ``k = ln(K/F)``, ``F`` the forward of the scenario spot (sticky log-moneyness: ``theta``
  follows the ATM vol, ``k`` the spot);
- ``out``: 6 float64 arrays of length ``D*V*M`` (C-order cubes (days, shifts,
  moves)): value, delta, gamma, vega, theta, vix_delta, overwritten;
- ``svi`` (instead of ``smile``, default None): ``(shapes, floor_ratio,
  moneyness_limit)`` with ``shapes`` a float64 array of length ``6*L``, the raw SVI
  slice ``(a, b, rho, m, sigma, w0)`` of each leg (``w0 = w(0)``; ignored for VIX
  legs). The SPX vol of a live leg is then ``atm * max(sqrt(w(x sqrt(w0)) / w0),
  floor_ratio)`` with ``x = clip(ln(K/F) / (atm sqrt(tau)), -limit, limit)`` and
  ``w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))`` (`alvh.market.svi`).

Outputs: value = sum of weight * price (VIX futures: weight * F); delta and gamma
over SPX legs ($ per SPX point, per point^2; with ``smile`` or ``svi`` they are the total
derivatives along the spot axis, the vol moving with the smile:
``delta + vega*dsigma/dS`` and ``gamma + 2*vanna*dsigma/dS + volga*(dsigma/dS)^2 +
vega*d2sigma/dS2``); vega over option legs (per 1.00 vol);
theta over option legs (per year of calendar time); vix_delta over VIX legs
(Black-76 delta, 1 for futures). Expired legs: intrinsic value, delta +-1 in the
money, +-0.5 at the strike, 0 out; no gamma, vega or theta.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from alvh._core.types import FloatArray
from alvh._fallback import pricing
from alvh.errors import InvalidInputError, ShapeError

SPX_OPTION, VIX_FUTURE, VIX_OPTION = 0, 1, 2

#: Cells per block of one leg: bounds the temporaries of the pricing kernel.
_BLOCK_CELLS = 1 << 16

_OUT_NAMES = ("value", "delta", "gamma", "vega", "theta", "vix_delta")


# --------------------------------------------------------------------------- checks


def _invalid(arg: str, index: int | None, value: Any, requirement: str) -> InvalidInputError:

    shown = pricing._display(float(value)) if isinstance(value, (float, np.floating)) else repr(value)
    where = arg if index is None else f"{arg}[{index}]"
    err = InvalidInputError(f"{arg} must be {requirement}; got {where} = {shown}")
    err.arg, err.index = arg, index
    err.value = float(value) if isinstance(value, (int, float, np.number)) else None
    return err


def _shape_error(arg: str, length: int, expected: int, what: str) -> ShapeError:
    err = ShapeError(f"{arg} has length {length}, expected {expected} ({what})")
    err.arg, err.index, err.value = arg, 0, float(length)
    return err


def _array(arg: str, value: Any, dtype: type, length: int | None, what: str) -> NDArray[Any]:
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype == dtype):
        raise TypeError(
            f"{arg} must be a 1-D {np.dtype(dtype).name} array, got {type(value).__name__}"
            + (
                f" of dtype {value.dtype} and {value.ndim} dimensions"
                if isinstance(value, np.ndarray)
                else ""
            )
        )
    if not value.flags.c_contiguous:
        raise ValueError(f"{arg} must be C-contiguous")
    if length is not None and len(value) != length:
        raise _shape_error(arg, len(value), length, what)
    return value


def _float(arg: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{arg} must be a float, got {type(value).__name__}")
    return float(value)


def _count(arg: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{arg} must be an int, got bool")
    try:
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{arg} must be an int, got {type(value).__name__}") from None
    if count < 0:
        raise _invalid(arg, None, count, "zero or positive")
    return count


def _first_bad(arg: str, values: FloatArray, bad: NDArray[np.bool_], requirement: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _invalid(arg, i, float(values[i]), requirement)


def _smile(value: Any) -> tuple[float, float, float] | None:
    """The checked ``smile`` argument ``(rho, eta, gamma)`` (the core's checks, in its order)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 3:
        raise TypeError(f"smile must be None or a tuple (rho, eta, gamma), got {value!r}")
    rho, eta, gamma = (_float(n, v) for n, v in zip(("smile.rho", "smile.eta", "smile.gamma"), value))
    if not (math.isfinite(rho) and abs(rho) < 1.0):
        raise _invalid("smile.rho", None, rho, "finite and strictly between -1 and 1")
    if not (math.isfinite(eta) and eta >= 0.0):
        raise _invalid("smile.eta", None, eta, "zero or positive and finite")
    if not (0.0 < gamma <= 1.0):
        raise _invalid("smile.gamma", None, gamma, "in (0, 1]")
    return rho, eta, gamma


_SVI_NAMES = ("svi.a", "svi.b", "svi.rho", "svi.m", "svi.sigma", "svi.w0")


def _svi(value: Any, kind: NDArray[np.uint8]) -> tuple[FloatArray, float, float] | None:
    """The checked ``svi`` argument: shapes reshaped (legs, 6), the floor and the limit."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 3:
        raise TypeError(
            f"svi must be None or a tuple (shapes, floor_ratio, moneyness_limit), got {type(value).__name__}"
        )
    n_legs = len(kind)
    shapes = _array(
        "svi.shapes", value[0], np.float64, 6 * n_legs, "6 per leg: a, b, rho, m, sigma, w0"
    ).reshape(n_legs, 6)
    floor_ratio = _float("smile.floor_ratio", value[1])
    limit = _float("smile.moneyness_limit", value[2])
    for name, number in (("smile.floor_ratio", floor_ratio), ("smile.moneyness_limit", limit)):
        if not (math.isfinite(number) and number > 0.0):
            raise _invalid(name, None, number, "positive and finite")
    # The checks of the core, in its order, on SPX legs only.
    for leg in np.flatnonzero(kind == SPX_OPTION).tolist():
        a, b, rho, m, sigma, w0 = shapes[leg].tolist()
        for name, number in (("svi.a", a), ("svi.m", m)):
            if not math.isfinite(number):
                raise _invalid(name, leg, number, "finite")
        if not (b >= 0.0 and math.isfinite(b)):
            raise _invalid("svi.b", leg, b, "zero or positive and finite")
        if not abs(rho) < 1.0:
            raise _invalid("svi.rho", leg, rho, "strictly between -1 and 1")
        if not (sigma > 0.0 and math.isfinite(sigma)):
            raise _invalid("svi.sigma", leg, sigma, "positive and finite")
        if not a + b * sigma * math.sqrt(1.0 - rho * rho) >= 0.0:
            raise _invalid("svi.a", leg, a, "such that a + b sigma sqrt(1 - rho^2) >= 0 (w >= 0)")
        if not (w0 > 0.0 and math.isfinite(w0)):
            raise _invalid("svi.w0", leg, w0, "positive and finite (the ATM total variance)")
    return shapes, floor_ratio, limit


# --------------------------------------------------------------------------- kernel


def _expiry_delta(is_call: bool, under: FloatArray, strike: float) -> FloatArray:
    """+-1 in the money, +-0.5 at the strike, 0 out of the money."""
    itm = (under > strike) if is_call else (under < strike)
    delta = np.where(under == strike, 0.5, itm.astype(np.float64))
    return delta if is_call else -delta


def _intrinsic(is_call: bool, under: FloatArray, strike: float) -> FloatArray:
    diff = under - strike if is_call else strike - under
    return np.maximum(diff, 0.0)


def _option_greeks(
    model: str,
    is_call: bool,
    under: FloatArray,
    strike: float,
    tau: FloatArray,
    rate: float,
    div: float,
    vol: FloatArray,
) -> tuple[FloatArray, ...]:
    """(price, delta, gamma, vega, theta, vanna, volga) of one leg over cells (same shape)."""

    n = under.size
    out = [np.empty(n) for _ in range(9)]
    pricing.greeks(
        model,
        bool(is_call),
        np.ascontiguousarray(under.ravel()),
        float(strike),
        np.ascontiguousarray(tau.ravel()),
        rate,
        div,
        np.ascontiguousarray(vol.ravel()),
        out,
        True,
    )
    return tuple(a.reshape(under.shape) for a in (*out[:5], out[6], out[7]))


def scenario_grid(
    kind: Any,
    is_call: Any,
    strike: Any,
    weight: Any,
    spot: Any,
    rate: Any,
    div: Any,
    spot_moves: Any,
    n_shifts: Any,
    n_days: Any,
    tau: Any,
    vol: Any,
    underlying: Any,
    smile: Any,
    out: Any,
    svi: Any = None,
) -> None:
    """The position's value and Greeks over (days, shifts, moves) into ``out``
    (see the module docstring for the arguments)."""
    kind = _array("kind", kind, np.uint8, None, "")
    n_legs = len(kind)
    legs_what = "one entry per leg"
    is_call = _array("is_call", is_call, np.bool_, n_legs, legs_what)
    strike = _array("strike", strike, np.float64, n_legs, legs_what)
    weight = _array("weight", weight, np.float64, n_legs, legs_what)
    spot = _float("spot", spot)
    rate = _float("rate", rate)
    div = _float("div", div)
    moves = _array("spot_moves", spot_moves, np.float64, None, "")
    n_shifts = _count("n_shifts", n_shifts)
    n_days = _count("n_days", n_days)
    rows = n_legs * n_shifts * n_days
    rows_what = "legs * n_shifts * n_days, index (leg * n_shifts + shift) * n_days + day"
    tau = _array("tau", tau, np.float64, rows, rows_what)
    vol = _array("vol", vol, np.float64, rows, rows_what)
    underlying = _array("underlying", underlying, np.float64, rows, rows_what)
    params = _smile(smile)
    svi_params = _svi(svi, kind)
    if params is not None and svi_params is not None:
        raise ValueError("smile and svi are exclusive: give one or neither")
    n_moves = len(moves)
    cells = n_days * n_shifts * n_moves
    if isinstance(out, (str, bytes, np.ndarray)) or not isinstance(out, Sequence) or len(out) != 6:
        raise TypeError(
            "out must be a sequence of 6 float64 arrays (value, delta, gamma, vega, theta, vix_delta)"
        )
    cells_what = "n_days * n_shifts * len(spot_moves)"
    outs = [
        _array(f"out.{name}", array, np.float64, cells, cells_what) for name, array in zip(_OUT_NAMES, out)
    ]
    for name, array in zip(_OUT_NAMES, outs):
        if not array.flags.writeable:
            raise ValueError(f"out.{name} must be writeable")

    # -- validation: every value that is used
    if not (math.isfinite(spot) and spot > 0.0):
        raise _invalid("spot", None, spot, "positive and finite")
    for name, number in (("rate", rate), ("div", div)):
        if not math.isfinite(number):
            raise _invalid(name, None, number, "finite")
    _first_bad(
        "spot_moves",
        moves,
        ~(np.isfinite(moves) & (moves > -1.0)),
        "finite and greater than -1 (a relative move, -0.05 = -5 %)",
    )
    if n_legs:
        bad_kind = kind > VIX_OPTION
        if bad_kind.any():
            i = int(np.flatnonzero(bad_kind)[0])
            raise _invalid("kind", i, int(kind[i]), "0 (SPX option), 1 (VIX future) or 2 (VIX option)")
    option = kind != VIX_FUTURE
    _first_bad("strike", strike, option & ~(np.isfinite(strike) & (strike > 0.0)), "positive and finite")
    _first_bad("weight", weight, ~np.isfinite(weight), "finite")
    per_row_kind = np.repeat(kind, n_shifts * n_days)
    _first_bad("tau", tau, ~np.isfinite(tau), "finite (years)")
    live = tau > 0.0
    vol_used = live & (per_row_kind != VIX_FUTURE)
    _first_bad("vol", vol, vol_used & ~(np.isfinite(vol) & (vol > 0.0)), "positive and finite (1.0 = 100%)")
    vix_leg = per_row_kind != SPX_OPTION
    _first_bad(
        "underlying",
        underlying,
        vix_leg & ~(np.isfinite(underlying) & (underlying > 0.0)),
        "positive and finite (the VIX future of the leg's expiry)",
    )

    # -- computation: one leg at a time, blocks of (shift, day) rows by all moves
    for array in outs:
        array[...] = 0.0
    cubes = [array.reshape(n_days, n_shifts, n_moves) for array in outs]
    if n_legs == 0 or cells == 0:
        return
    scenario_spot = spot * (1.0 + moves)  # (M,)
    rows_per_block = max(1, _BLOCK_CELLS // max(n_moves, 1))
    with np.errstate(all="ignore"):
        for leg in range(n_legs):
            svi_leg = None
            if svi_params is not None:
                shapes, floor_ratio, limit = svi_params
                svi_leg = (shapes[leg], floor_ratio, limit)
            _add_leg(
                cubes,
                int(kind[leg]),
                bool(is_call[leg]),
                float(strike[leg]),
                float(weight[leg]),
                scenario_spot,
                rate,
                div,
                n_shifts,
                n_days,
                tau[leg * n_shifts * n_days : (leg + 1) * n_shifts * n_days],
                vol[leg * n_shifts * n_days : (leg + 1) * n_shifts * n_days],
                underlying[leg * n_shifts * n_days : (leg + 1) * n_shifts * n_days],
                params,
                svi_leg,
                rows_per_block,
            )


def _add_leg(
    cubes: list[FloatArray],
    kind: int,
    is_call: bool,
    strike: float,
    weight: float,
    scenario_spot: FloatArray,
    rate: float,
    div: float,
    n_shifts: int,
    n_days: int,
    tau: FloatArray,
    vol: FloatArray,
    underlying: FloatArray,
    params: tuple[float, float, float] | None,
    svi_leg: tuple[FloatArray, float, float] | None,
    rows_per_block: int,
) -> None:
    """Adds one leg's contribution to the cubes (days, shifts, moves)."""
    value, delta, gamma, vega, theta, vix_delta = cubes
    n_moves = scenario_spot.size
    # The leg's rows are ordered (shift, day); the cubes (day, shift, move).
    tau_ds = tau.reshape(n_shifts, n_days).T
    vol_ds = vol.reshape(n_shifts, n_days).T
    under_ds = underlying.reshape(n_shifts, n_days).T
    if kind == VIX_FUTURE:
        value += (weight * under_ds)[:, :, None]
        vix_delta += weight
        return
    flat_tau = np.ascontiguousarray(tau_ds).ravel()  # (D*V,) in cube order
    flat_vol = np.ascontiguousarray(vol_ds).ravel()
    flat_under = np.ascontiguousarray(under_ds).ravel()
    value_2d, delta_2d, gamma_2d, vega_2d, theta_2d, vix_delta_2d = (c.reshape(-1, n_moves) for c in cubes)
    for start in range(0, flat_tau.size, rows_per_block):
        block = slice(start, min(start + rows_per_block, flat_tau.size))
        t = flat_tau[block][:, None]
        shape = (t.shape[0], n_moves)
        if kind == SPX_OPTION:
            under = np.broadcast_to(scenario_spot[None, :], shape)
        else:
            under = np.broadcast_to(flat_under[block][:, None], shape)
        live = np.broadcast_to(t > 0.0, shape)
        price = np.zeros(shape)
        d = np.zeros(shape)
        g = np.zeros(shape)
        v = np.zeros(shape)
        th = np.zeros(shape)
        if live.any():
            t_live = np.broadcast_to(t, shape)[live]
            under_live = under[live]
            atm = np.broadcast_to(flat_vol[block][:, None], shape)[live]
            if kind == SPX_OPTION and svi_leg is not None:
                sigma, sigma_s, sigma_ss = _svi_vol(svi_leg, strike, under_live, t_live, rate, div, atm)
            elif kind == SPX_OPTION and params is not None:
                sigma, sigma_s, sigma_ss = _smile_vol(params, strike, under_live, t_live, rate, div, atm)
            else:
                sigma, sigma_s, sigma_ss = atm, np.zeros_like(atm), np.zeros_like(atm)
            model = "bsm" if kind == SPX_OPTION else "black76"
            leg_div = div if kind == SPX_OPTION else rate
            p, dl, gm, vg, tt, vanna, volga = _option_greeks(
                model, is_call, under_live, strike, t_live, rate, leg_div, sigma
            )
            # The smile-adjusted (total) delta and gamma along the spot axis, as native.
            dl = dl + vg * sigma_s
            gm = gm + 2.0 * vanna * sigma_s + (volga * sigma_s * sigma_s + vg * sigma_ss)
            price[live], d[live], g[live], v[live], th[live] = p, dl, gm, vg, tt
        dead = ~live
        if dead.any():
            price[dead] = _intrinsic(is_call, under[dead], strike)
            d[dead] = _expiry_delta(is_call, under[dead], strike)
        value_2d[block] += weight * price
        vega_2d[block] += weight * v
        theta_2d[block] += weight * th
        if kind == SPX_OPTION:
            delta_2d[block] += weight * d
            gamma_2d[block] += weight * g
        else:
            vix_delta_2d[block] += weight * d


def _svi_vol(
    params: tuple[FloatArray, float, float],
    strike: float,
    spot: FloatArray,
    tau: FloatArray,
    rate: float,
    div: float,
    atm: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The per-leg SVI smile at the forward of ``spot`` (live rows), as the core computes
    it, with its first and second derivatives in the spot (zero where ``x`` is clipped
    or the floor binds): with ``q(x) = w(x sqrt(w0)) / w0`` and ``R = sqrt(q)``,
    ``R' = q'/(2R)``, ``R'' = q''/(2R) - q'^2/(4R^3)``, ``q' = w'(k)/sqrt(w0)``,
    ``q'' = w''(k)``; ``dx/dS`` and ``d2x/dS2`` as in `_smile_vol`."""
    shape, floor_ratio, limit = params
    a, b, rho, m, sigma, w0 = shape.tolist()
    forward = spot * np.exp((rate - div) * tau)
    atm_sqrt_tau = atm * np.sqrt(tau)
    raw = np.log(strike / forward) / atm_sqrt_tau
    x = np.clip(raw, -limit, limit)
    sqrt_w0 = math.sqrt(w0)
    k = x * sqrt_w0 - m
    root = np.sqrt(k * k + sigma * sigma)
    w = a + b * (rho * k + root)
    ratio = np.sqrt(np.maximum(w, 0.0) / w0)
    sloped = (raw == x) & (ratio > floor_ratio)
    dq = b * (rho + k / root) / sqrt_w0
    d2q = b * sigma * sigma / (root * root * root)
    slope = np.where(sloped, dq / (2.0 * ratio), 0.0)
    bend = np.where(sloped, d2q / (2.0 * ratio) - dq * dq / (4.0 * ratio * ratio * ratio), 0.0)
    inv_spot = 1.0 / spot
    dx = -inv_spot / atm_sqrt_tau
    sigma_s = atm * slope * dx
    sigma_ss = atm * (bend * dx * dx - slope * dx * inv_spot)
    vol = np.asarray(atm * np.maximum(ratio, floor_ratio), dtype=np.float64)
    return vol, np.asarray(sigma_s), np.asarray(sigma_ss)


def _smile_vol(
    params: tuple[float, float, float],
    strike: float,
    spot: FloatArray,
    tau: FloatArray,
    rate: float,
    div: float,
    atm: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The SSVI smile (``smile`` in the module doc) at the forward of ``spot`` (live rows:
    tau > 0), as the core computes it, with its first and second derivatives in the spot:
    ``sigma_k = w_k / (2 sigma tau)``, ``sigma_kk = w_kk / (2 sigma tau) - w_k^2 / (4
    sigma^3 tau^2)``, ``dk/dS = -1/S``, ``d2k/dS2 = 1/S^2``."""
    rho, eta, gamma = params
    forward = spot * np.exp((rate - div) * tau)
    theta = atm * atm * tau
    phi = eta * np.exp(-gamma * np.log(theta) - (1.0 - gamma) * np.log(1.0 + theta))
    k = np.log(strike / forward)
    z = phi * k + rho
    root = np.sqrt(z * z + (1.0 - rho * rho))
    w = 0.5 * theta * (1.0 + rho * phi * k + root)
    sigma = np.sqrt(w / tau)
    w_k = 0.5 * theta * phi * (rho + z / root)
    w_kk = 0.5 * theta * phi * phi * (1.0 - rho * rho) / (root * root * root)
    sigma_k = w_k / (2.0 * sigma * tau)
    sigma_kk = w_kk / (2.0 * sigma * tau) - w_k * w_k / (4.0 * sigma**3 * tau * tau)
    sigma_s = -sigma_k / spot
    sigma_ss = (sigma_kk + sigma_k) / (spot * spot)
    return np.asarray(sigma, dtype=np.float64), np.asarray(sigma_s), np.asarray(sigma_ss)
