"""Leg valuation on a day's paths (the twin of ``rust/core/src/projection/valuation.rs``):
each leg's value (BSM on the SPX, Black-76 on the leg's VIX future, the future itself)
or its settlement on its expiry day, and the per-path Greeks on the first paths, with
the SPX vol from the VIX tables and the dynamics' smile.

Greeks: SPX legs give delta and gamma ($ per SPX point, per point^2; under sticky
moneyness the smile-adjusted total derivatives along the spot, as the grid's), option
legs vega (per 1.00 vol) and theta (per year), VIX legs vix_delta (Black-76 delta
w.r.t. the leg's own future, 1 for a future). A leg settled (day >= its expiry day) is
cash: no Greeks. Legs are added in leg order, vectorized over the paths of a block.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from alvh._core.types import FloatArray
from alvh._fallback import pricing
from alvh._fallback.grid import SPX_OPTION, VIX_FUTURE, _intrinsic, _smile_vol, _svi_vol
from alvh._fallback.projection.checks import Dynamics, LegArrays, TableArrays
from alvh._fallback.projection.constants import GREEKS, STICKY_MONEYNESS
from alvh.errors import InvalidInputError

#: A position along the VIX axis per path: node index and weight (`Tables.position`).
Where = tuple[NDArray[np.intp], FloatArray]


class Tables:
    """The revaluation tables (views per day and leg) and their interpolation in V."""

    def __init__(self, tables: TableArrays, n_legs: int) -> None:
        n_nodes = tables.n_nodes
        self.atm = tables.atm.reshape(-1, n_legs, n_nodes)
        self.change = tables.change.reshape(-1, n_legs, n_nodes)
        self.vvol = tables.vvol.reshape(-1, n_legs, n_nodes)
        self.fut_a = tables.fut_a.reshape(-1, n_legs)
        self.fut_b = tables.fut_b.reshape(-1, n_legs)
        self.n_nodes = n_nodes
        self.vix_lo = tables.vix_lo
        self.vix_step = tables.vix_step
        self.vix_hi = tables.vix_lo + (n_nodes - 1) * tables.vix_step

    def position(self, vix: FloatArray) -> Where:
        """Node index ``i`` (0 <= i <= n_nodes - 2) and weight ``w`` in [0, 1] of each V:
        the table value is ``t[i] + w * (t[i+1] - t[i])``."""
        if self.n_nodes == 1:
            return np.zeros(vix.shape, dtype=np.intp), np.zeros(vix.shape)
        x = (np.clip(vix, self.vix_lo, self.vix_hi) - self.vix_lo) / self.vix_step
        node = np.minimum(np.floor(x), self.n_nodes - 2).astype(np.intp)
        return node, x - node

    def interpolate(self, table: FloatArray, day: int, leg: int, where: Where) -> FloatArray:
        node, weight = where
        row = table[day - 1, leg]
        if self.n_nodes == 1:
            return np.full(node.shape, row[0])
        low = row[node]
        return low + weight * (row[node + 1] - low)

    def future(self, day: int, leg: int, vix: FloatArray) -> FloatArray:
        return self.fut_a[day - 1, leg] + self.fut_b[day - 1, leg] * vix


class Today(NamedTuple):
    """One day of a block of paths, as the legs are valued on it."""

    day: int
    spot: FloatArray
    vix: FloatArray
    where: Where  # the VIX's position on the tables' axis
    n_greek: int  # the block's first paths that carry Greeks
    scenario: int  # for the error of a non-positive VIX future


class Book:
    """The legs (as Python scalars, read once per leg and day), the tables and the vol
    dynamics: `value` adds every leg on a day's paths."""

    def __init__(
        self,
        legs: LegArrays,
        tables: TableArrays,
        dynamics: Dynamics,
        rate: float,
        div: float,
        first_valued_day: int,
    ) -> None:
        self.n = len(legs.kind)
        self.kind = [int(k) for k in legs.kind]
        self.is_call = [bool(c) for c in legs.is_call]
        self.strike = [float(k) for k in legs.strike]
        self.weight = [float(w) for w in legs.weight]
        self.expiry_day = [int(e) for e in legs.expiry_day]
        self.base_vol = [float(v) for v in dynamics.base_vol]
        self.tables = Tables(tables, self.n)
        self.dynamics = dynamics.kind
        self.smile = dynamics.smile
        self.floor_ratio = dynamics.floor_ratio
        self.svi = dynamics.svi
        self.rate = rate
        self.div = div
        self.first_valued_day = first_valued_day

    def value(
        self,
        day: int,
        spot: FloatArray,
        vix: FloatArray,
        settled: list[FloatArray | None],
        n_greek: int,
        scenario: int,
    ) -> tuple[FloatArray, FloatArray]:
        """The book's value on every path of the block on ``day`` and its Greeks on the
        first ``n_greek`` (shape (GREEKS, n_greek)). ``settled`` holds each leg's
        settlement (price level, per path) once it has expired: kept by the caller
        from day to day. Before ``first_valued_day`` only settlements are booked."""
        today = Today(day, spot, vix, self.tables.position(vix), n_greek, scenario)
        value = np.zeros(spot.size)
        greeks = np.zeros((GREEKS, n_greek))
        for leg in range(self.n):
            if day < self.first_valued_day and day < self.expiry_day[leg]:
                continue  # live and not valued today
            self._add_leg(leg, today, settled, value, greeks)
        return value, greeks

    def _add_leg(
        self,
        leg: int,
        today: Today,
        settled: list[FloatArray | None],
        value: FloatArray,
        greeks: FloatArray,
    ) -> None:
        """Adds leg ``leg``'s value to ``value`` and its Greeks to ``greeks``."""
        weight, expiry, d = self.weight[leg], self.expiry_day[leg], today.day
        if d > expiry:  # settled on an earlier day: a constant
            held = settled[leg]
            assert held is not None
            value += weight * held
            return
        if d == expiry:  # settles today, at intrinsic / on the future with tenor 0
            price = self._settlement(leg, today)
            settled[leg] = price
            value += weight * price
            return
        tau = (expiry - d) / 365.0
        kind = self.kind[leg]
        if kind == VIX_FUTURE:
            value += weight * self.tables.future(d, leg, today.vix)
            greeks[4] += weight
        elif kind == SPX_OPTION:
            self._add_spx_option(leg, today, tau, value, greeks)
        else:
            self._add_vix_option(leg, today, tau, value, greeks)

    def _settlement(self, leg: int, today: Today) -> FloatArray:
        """The leg's price level on its expiry day: intrinsic on the SPX or on the VIX
        future of tenor 0, or that future."""
        kind, is_call, strike = self.kind[leg], self.is_call[leg], self.strike[leg]
        if kind == SPX_OPTION:
            return _intrinsic(is_call, today.spot, strike)
        future = self.tables.future(today.day, leg, today.vix)
        if kind == VIX_FUTURE:
            return future
        return _intrinsic(is_call, future, strike)

    def _add_vix_option(
        self, leg: int, today: Today, tau: float, value: FloatArray, greeks: FloatArray
    ) -> None:
        d, weight = today.day, self.weight[leg]
        future = self.tables.future(d, leg, today.vix)
        if not (future > 0.0).all():
            i = int(np.flatnonzero(~(future > 0.0))[0])
            err = InvalidInputError(
                f"fut_a/fut_b must give a positive VIX future for a VIX option; got "
                f"{float(future[i])!r} for leg {leg} on day {d} (scenario {today.scenario}, "
                f"VIX {float(today.vix[i])!r})"
            )
            err.arg, err.index, err.value = "fut_a", (d - 1) * self.n + leg, float(future[i])
            raise err
        vol = self.tables.interpolate(self.tables.vvol, d, leg, today.where)
        price, out = _priced(
            "black76",
            self.is_call[leg],
            future,
            self.strike[leg],
            tau,
            self.rate,
            self.rate,
            vol,
            today.n_greek,
        )
        value += weight * price
        if out is not None:
            greeks[2] += weight * out[3]
            greeks[3] += weight * out[4]
            greeks[4] += weight * out[1]

    def _add_spx_option(
        self, leg: int, today: Today, tau: float, value: FloatArray, greeks: FloatArray
    ) -> None:
        weight, n_g = self.weight[leg], today.n_greek
        vol, vol_s, vol_ss = self._spx_vol(leg, today, tau)
        price, out = _priced(
            "bsm", self.is_call[leg], today.spot, self.strike[leg], tau, self.rate, self.div, vol, n_g
        )
        value += weight * price
        if out is None:
            return
        delta, gamma, vega, theta = out[1], out[2], out[3], out[4]
        if vol_s is not None and vol_ss is not None:
            # Sticky moneyness: total derivatives along the spot, the vol moving with the smile.
            vanna, volga = out[6], out[7]
            sig_s, sig_ss = vol_s[:n_g], vol_ss[:n_g]
            delta = delta + vega * sig_s
            gamma = gamma + 2.0 * vanna * sig_s + (volga * sig_s * sig_s + vega * sig_ss)
        greeks[0] += weight * delta
        greeks[1] += weight * gamma
        greeks[2] += weight * vega
        greeks[3] += weight * theta

    def _spx_vol(
        self, leg: int, today: Today, tau: float
    ) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
        """The leg's vol on every path and, under sticky moneyness, its first and second
        derivatives in the spot (None under additive dynamics)."""
        atm = self.tables.interpolate(self.tables.atm, today.day, leg, today.where)
        strike, spot = self.strike[leg], today.spot
        if self.dynamics != STICKY_MONEYNESS:
            change = self.tables.interpolate(self.tables.change, today.day, leg, today.where)
            return np.maximum(self.base_vol[leg] + change, self.floor_ratio * atm), None, None
        tau_arr = np.full(spot.shape, tau)
        if self.svi is not None:
            shapes, floor_ratio, limit = self.svi
            return _svi_vol(
                (shapes[leg], floor_ratio, limit), strike, spot, tau_arr, self.rate, self.div, atm
            )
        return _smile_vol(self.smile, strike, spot, tau_arr, self.rate, self.div, atm)


def _priced(
    model: str,
    is_call: bool,
    under: FloatArray,
    strike: float,
    tau: float,
    rate: float,
    div: float,
    vol: FloatArray,
    n_g: int,
) -> tuple[FloatArray, list[FloatArray] | None]:
    """Prices of every path; the nine outputs of `kernels.greeks` for the first ``n_g``."""

    n = under.size
    prices = np.empty(n)
    out: list[FloatArray] | None = None
    if n_g:
        out = [np.empty(n_g) for _ in range(9)]
        pricing.greeks(
            model,
            is_call,
            np.ascontiguousarray(under[:n_g]),
            strike,
            tau,
            rate,
            div,
            np.ascontiguousarray(vol[:n_g]),
            out,
            False,
        )
        prices[:n_g] = out[0]
    if n_g < n:
        pricing.price(
            model,
            is_call,
            np.ascontiguousarray(under[n_g:]),
            strike,
            tau,
            rate,
            div,
            np.ascontiguousarray(vol[n_g:]),
            prices[n_g:],
            False,
        )
    return prices, out
