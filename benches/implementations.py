"""Everything the benchmarks time: alvh (native, fallback), the naive numpy reference,
and each peer package, behind one small interface.

An implementation returns, per task, a `Run`: the zero-argument ``call`` that is
timed, the options it covers (the whole data set or, for slow loops, a prefix), and
an untimed ``convert`` that turns the raw result into a dict of arrays **in alvh's
units and option order** (vega per 1.00 of vol, theta per year of calendar time,
rho per 1.00 of rate, charm = d(delta)/dt per year; Greeks w.r.t. the spot).

What is inside the timed call, for every peer: the call of its public vectorized
API and nothing else. Input preparation its API needs (one flag per call, so the
data pre-split into calls and puts; arrays instead of scalars; the forward,
discount factors or dividend-adjusted spot) is done once, outside the timing,
which favours the peer. Output conversion to our units is untimed too.

Each peer is used through the API its own documentation presents as vectorized;
the conventions below were read from its installed source and checked against
alvh on the data set (the ``max_rel_diff`` the benchmarks record).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

import reference
from dataset import OptionSet

#: The options a Python-level loop (QuantLib) is timed on; reported per option.
LOOP_SUBSET = 20_000


class Unavailable(Exception):  # noqa: N818 - a signal to skip, not an error
    """This implementation cannot run this task here; the message says why."""


@dataclass
class Run:
    call: Callable[[], Any]
    convert: Callable[[Any], dict[str, np.ndarray]]
    options: OptionSet
    note: str = ""


def distribution_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _scatter(length: int, parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Reassemble per-flag results into option order."""
    out = np.empty(length)
    for index, values in parts:
        out[index] = values
    return out


class Implementation:
    """Base class: a name for the tables, the PyPI distribution for its version."""

    name = ""
    distribution = ""
    module = ""
    notes = ""

    def load(self) -> Any:
        try:
            return import_module(self.module)
        except Exception as exc:  # ImportError, or a broken extension (OSError, ...)
            raise Unavailable(f"import {self.module} failed: {type(exc).__name__}: {exc}") from None

    @property
    def slug(self) -> str:
        """The pytest id: the name in lower case, runs of other characters as one '-'."""
        return re.sub(r"[^a-z0-9_]+", "-", self.name.lower()).strip("-")

    def version(self) -> str | None:
        return distribution_version(self.distribution) if self.distribution else None

    def price(self, data: OptionSet) -> Run:
        raise Unavailable("no vectorized price API")

    def greeks(self, data: OptionSet) -> Run:
        raise Unavailable("no vectorized Greeks API")

    def implied_vol(self, data: OptionSet) -> Run:
        raise Unavailable("no vectorized implied-vol API")

    def price_out(self, data: OptionSet) -> Run:
        raise Unavailable("no caller-provided output buffers")

    def greeks_out(self, data: OptionSet) -> Run:
        raise Unavailable("no caller-provided output buffers")


# --------------------------------------------------------------------------- alvh


class AlvhNative(Implementation):
    name = "alvh native"
    distribution = "alvh"
    module = "alvh"
    backend = "native"

    def load(self) -> Any:
        alvh = super().load()
        try:
            with alvh.use_backend(self.backend):
                alvh._core.backend.kernels()
        except Exception as exc:
            raise Unavailable(
                f"alvh backend {self.backend!r} not available: {type(exc).__name__}: {exc}"
            ) from None
        return alvh

    def _in_backend(self, alvh: Any, function: Callable[[], Any]) -> Callable[[], Any]:
        def call() -> Any:
            with alvh.use_backend(self.backend):
                return function()

        return call

    def price(self, data: OptionSet) -> Run:
        alvh = self.load()
        kwargs = data.alvh_kwargs()
        return Run(self._in_backend(alvh, lambda: alvh.bsm.price(**kwargs)), lambda p: {"price": p}, data)

    def price_out(self, data: OptionSet) -> Run:
        alvh = self.load()
        kwargs = data.alvh_kwargs()
        buffer = np.zeros(len(data))
        return Run(
            self._in_backend(alvh, lambda: alvh.bsm.price(**kwargs, out=buffer)),
            lambda p: {"price": p},
            data,
            note="out= buffer reused",
        )

    def greeks(self, data: OptionSet) -> Run:
        alvh = self.load()
        kwargs = data.alvh_kwargs()
        return Run(self._in_backend(alvh, lambda: alvh.bsm.greeks(**kwargs)), _alvh_greeks, data)

    def greeks_out(self, data: OptionSet) -> Run:
        alvh = self.load()
        kwargs = data.alvh_kwargs()
        buffers = alvh.Greeks.empty(len(data))
        for array in buffers.arrays():
            array.fill(0.0)  # touch the pages once, as a reused buffer would be
        return Run(
            self._in_backend(alvh, lambda: alvh.bsm.greeks(**kwargs, out=buffers)),
            _alvh_greeks,
            data,
            note="out=Greeks.empty(n) reused",
        )

    def implied_vol(self, data: OptionSet) -> Run:
        alvh = self.load()
        kwargs = {k: v for k, v in data.alvh_kwargs().items() if k != "vol"}
        return Run(
            self._in_backend(alvh, lambda: alvh.bsm.implied_vol(price=data.price, **kwargs, errors="nan")),
            lambda v: {"vol": v},
            data,
        )


def _alvh_greeks(g: Any) -> dict[str, np.ndarray]:
    return {name: getattr(g, name) for name in reference.OUTPUTS}


class AlvhFallback(AlvhNative):
    name = "alvh fallback (numpy)"
    backend = "python"


class AlvhNativeSimd(AlvhNative):
    """alvh native pinned to a lower SIMD path (``alvh._native.set_simd``), to show
    what the run-time dispatch buys on this CPU."""

    def __init__(self, level: str) -> None:
        self.level = level
        self.name = f"alvh native, {level} path pinned"

    def _in_backend(self, alvh: Any, function: Callable[[], Any]) -> Callable[[], Any]:
        native = alvh._native

        def call() -> Any:
            best = native.set_simd("avx512")  # the best the CPU has
            if native.set_simd(self.level) != self.level.replace("avx2", "avx2+fma"):
                native.set_simd(best)
                raise Unavailable(f"this CPU has no {self.level} path")
            try:
                with alvh.use_backend("native"):
                    return function()
            finally:
                native.set_simd(best)

        return call


# ------------------------------------------------------------ naive numpy reference


class NumpyReference(Implementation):
    name = "numpy+scipy reference"
    distribution = "scipy"
    module = "scipy.special"
    notes = "benches/reference.py: textbook formulas, scipy.special.ndtr; bracketed Newton for IV"

    def price(self, data: OptionSet) -> Run:
        self.load()
        args = (data.is_call, data.spot, data.strike, data.t, data.rate, data.div, data.vol)
        return Run(lambda: reference.price(*args), lambda p: {"price": p}, data)

    def greeks(self, data: OptionSet) -> Run:
        self.load()
        args = (data.is_call, data.spot, data.strike, data.t, data.rate, data.div, data.vol)
        return Run(lambda: reference.greeks(*args), lambda g: g, data)

    def implied_vol(self, data: OptionSet) -> Run:
        self.load()
        args = (data.price, data.is_call, data.spot, data.strike, data.t, data.rate, data.div)
        return Run(lambda: reference.implied_vol(*args), lambda v: {"vol": v}, data)


# ------------------------------------------------------------------------ QuantLib


class QuantLibLoop(Implementation):
    name = "QuantLib (Python loop)"
    distribution = "QuantLib"
    module = "QuantLib"
    notes = (
        f"a Python loop over {LOOP_SUBSET:,} options through ql.BlackCalculator (the calculator "
        "AnalyticEuropeanEngine uses; cheaper than building instruments) and "
        "ql.blackFormulaImpliedStdDev(accuracy=1e-12, maxIterations=100); forward, discount "
        "and stdDev = vol*sqrt(T) fed exactly. Units already ours (theta per year, vega and rho "
        "per 1.00). volga is QuantLib 1.44's BlackCalculator.volga unchanged: it is off by a "
        "factor sqrt(T), a bug, and shows as such"
    )

    @staticmethod
    def _rows(data: OptionSet) -> list[tuple]:
        return list(
            zip(
                data.is_call.tolist(),
                data.strike.tolist(),
                data.forward.tolist(),
                (data.vol * np.sqrt(data.t)).tolist(),
                data.rate_discount.tolist(),
                data.t.tolist(),
            )
        )

    def price(self, data: OptionSet) -> Run:
        ql = self.load()
        data = data.subset(LOOP_SUBSET)
        rows = self._rows(data)
        call_type, put_type = ql.Option.Call, ql.Option.Put
        black_formula = ql.blackFormula

        def call() -> list[float]:
            return [
                black_formula(call_type if is_call else put_type, strike, forward, std_dev, discount)
                for is_call, strike, forward, std_dev, discount, _ in rows
            ]

        return Run(call, lambda p: {"price": np.asarray(p)}, data, note="ql.blackFormula loop")

    def greeks(self, data: OptionSet) -> Run:
        ql = self.load()
        data = data.subset(LOOP_SUBSET)
        rows = self._rows(data)
        spot = data.spot
        call_type, put_type = ql.Option.Call, ql.Option.Put
        payoff, calculator = ql.PlainVanillaPayoff, ql.BlackCalculator

        def call() -> list[tuple[float, ...]]:
            out = []
            for is_call, strike, forward, std_dev, discount, t in rows:
                c = calculator(payoff(call_type if is_call else put_type, strike), forward, std_dev, discount)
                out.append(
                    (
                        c.value(),
                        c.delta(spot),
                        c.gamma(spot),
                        c.vega(t),
                        c.theta(spot, t),
                        c.rho(t),
                        c.vanna(spot, t),
                        c.volga(t),
                    )
                )
            return out

        def convert(raw: list[tuple[float, ...]]) -> dict[str, np.ndarray]:
            table = np.asarray(raw)
            names = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga")
            return {name: table[:, i] for i, name in enumerate(names)}

        return Run(call, convert, data, note="ql.BlackCalculator loop")

    def implied_vol(self, data: OptionSet) -> Run:
        ql = self.load()
        data = data.subset(LOOP_SUBSET)
        rows = list(
            zip(
                data.is_call.tolist(),
                data.strike.tolist(),
                data.forward.tolist(),
                data.price.tolist(),
                data.rate_discount.tolist(),
                data.t.tolist(),
            )
        )
        call_type, put_type = ql.Option.Call, ql.Option.Put
        solve, no_guess = ql.blackFormulaImpliedStdDev, ql.nullDouble()

        def call() -> list[float]:
            out = []
            for is_call, strike, forward, option_price, discount, t in rows:
                try:
                    std_dev = solve(
                        call_type if is_call else put_type,
                        strike,
                        forward,
                        option_price,
                        discount,
                        0.0,
                        no_guess,
                        1e-12,
                        100,
                    )
                    out.append(std_dev / math.sqrt(t))
                except RuntimeError:  # QuantLib raises when it cannot solve
                    out.append(math.nan)
            return out

        return Run(call, lambda v: {"vol": np.asarray(v)}, data, note="ql.blackFormulaImpliedStdDev loop")


# ------------------------------------------------------------------------- pyvolr


class Pyvolr(Implementation):
    name = "pyvolr"
    distribution = "pyvolr"
    module = "pyvolr.bs"
    notes = (
        "pyvolr.bs.price / greeks / implied_vol(on_error='ignore') with numpy arrays, scalars "
        "broadcast, flags as an int8 array of +1/-1 (its documented numeric form; a 'c'/'p' "
        "string array costs a Python-level loop per call, ~0.3 s per million options here). Units (its "
        "docstring): vega per 1.00, theta per year calendar, rho per 1.00 - ours, no conversion. "
        "greeks() gives delta, gamma, theta, vega, rho"
    )

    def price(self, data: OptionSet) -> Run:
        bs = self.load()
        flags = data.flag_signs
        return Run(
            lambda: bs.price(flags, data.spot, data.strike, data.t, data.rate, data.vol, data.div),
            lambda p: {"price": p},
            data,
        )

    def greeks(self, data: OptionSet) -> Run:
        bs = self.load()
        flags = data.flag_signs

        def call() -> tuple[Any, Any]:
            return (
                bs.price(flags, data.spot, data.strike, data.t, data.rate, data.vol, data.div),
                bs.greeks(flags, data.spot, data.strike, data.t, data.rate, data.vol, data.div),
            )

        def convert(raw: tuple[Any, Any]) -> dict[str, np.ndarray]:
            return {"price": raw[0], **{k: raw[1][k] for k in ("delta", "gamma", "vega", "theta", "rho")}}

        return Run(call, convert, data, note="price() + greeks()")

    def implied_vol(self, data: OptionSet) -> Run:
        bs = self.load()
        flags = data.flag_signs
        return Run(
            lambda: bs.implied_vol(
                data.price, flags, data.spot, data.strike, data.t, data.rate, data.div, on_error="ignore"
            ),
            lambda v: {"vol": v},
            data,
        )


# --------------------------------------------------------------------- opengreeks


class OpenGreeks(Implementation):
    name = "opengreeks"
    distribution = "opengreeks"
    module = "opengreeks.black_scholes_merton"
    notes = (
        "opengreeks.black_scholes_merton.*_array(flag, S, K, t, r, sigma, q): one flag string "
        "and scalar r, q per call, so calls and puts are two calls each (data pre-split); "
        "single-threaded loop. Units: vega x0.01 and rho x0.01 (per 1 %), theta /365 (per "
        "day) -> multiplied back; charm is d(delta)/d(T) (per year of expiry) -> negated; "
        "vanna, vomma raw. Install: its PyPI wheels (0.1.0, 0.2.0; tagged cp39-abi3) fail to import "
        "on Python 3.11 with 'undefined symbol: PyErr_SetRaisedException' (a CPython 3.12 API), so "
        "it is built from its sdist (PIP_NO_BINARY=opengreeks), which works"
    )
    _OUTPUTS = {
        "price": "black_scholes_merton_array",
        "delta": "delta_array",
        "gamma": "gamma_array",
        "vega": "vega_array",
        "theta": "theta_array",
        "rho": "rho_array",
        "vanna": "vanna_array",
        "volga": "vomma_array",
        "charm": "charm_array",
    }
    _TO_OURS = {"vega": 100.0, "theta": 365.0, "rho": 100.0, "charm": -1.0}

    def _split(self, data: OptionSet) -> list[tuple[str, np.ndarray, tuple]]:
        return [
            (flag, index, (data.spot_array[index], data.strike[index], data.t[index], data.vol[index]))
            for flag, index in (("c", data.calls), ("p", data.puts))
        ]

    def _run(self, data: OptionSet, outputs: tuple[str, ...]) -> Run:
        og = self.load()
        functions = {name: getattr(og, self._OUTPUTS[name]) for name in outputs}
        parts = self._split(data)
        rate, div = data.rate, data.div

        def call() -> dict[str, list]:
            return {
                name: [
                    (index, function(flag, spot, strike, t, rate, vol, div))
                    for flag, index, (spot, strike, t, vol) in parts
                ]
                for name, function in functions.items()
            }

        def convert(raw: dict[str, list]) -> dict[str, np.ndarray]:
            return {
                name: _scatter(len(data), pieces) * self._TO_OURS.get(name, 1.0)
                for name, pieces in raw.items()
            }

        return Run(call, convert, data, note="2 flags x one call per output")

    def price(self, data: OptionSet) -> Run:
        return self._run(data, ("price",))

    def greeks(self, data: OptionSet) -> Run:
        return self._run(data, tuple(self._OUTPUTS))

    def implied_vol(self, data: OptionSet) -> Run:
        og = self.load()
        parts = [
            (flag, index, (data.price[index], data.spot_array[index], data.strike[index], data.t[index]))
            for flag, index in (("c", data.calls), ("p", data.puts))
        ]

        def call() -> list:
            return [
                (index, og.implied_volatility_array(p, s, k, t, data.rate, data.div, flag))
                for flag, index, (p, s, k, t) in parts
            ]

        return Run(call, lambda raw: {"vol": _scatter(len(data), raw)}, data)


# --------------------------------------------------------------------- polars-vol


class PolarsVol(Implementation):
    name = "polars-vol"
    distribution = "polars-vol"
    module = "polars_vol"
    notes = (
        "polars expression plugin: black_scholes / black_scholes_with_greeks / implied_vol on a "
        "DataFrame built once outside the timing. No dividend yield: fed the dividend-adjusted "
        "spot S e^{-qT} (exact for price, vega, rho and IV); delta x e^{-qT}, gamma x e^{-2qT}, "
        "theta + q S e^{-qT} delta' convert back. Units already per 1.00 / per year. Its normal "
        "CDF is Abramowitz-Stegun (its docs: IV good to ~1e-7)"
    )

    def _frame(self, data: OptionSet, with_price: bool = False) -> Any:
        import polars as pl

        columns = {
            "strike": data.strike,
            "spot": data.dividend_adjusted_spot,
            "vol": data.vol,
            "t": data.t,
            "rate": data.rate_array,
            "is_call": data.is_call,
        }
        if with_price:
            columns["price"] = data.price
        return pl.DataFrame(columns)

    def price(self, data: OptionSet) -> Run:
        pv = self.load()
        frame = self._frame(data)
        expression = pv.black_scholes("strike", "spot", "vol", "t", "rate", "is_call").alias("price")
        return Run(lambda: frame.select(expression), lambda r: {"price": r["price"].to_numpy()}, data)

    def greeks(self, data: OptionSet) -> Run:
        pv = self.load()
        frame = self._frame(data)
        expression = pv.black_scholes_with_greeks("strike", "spot", "vol", "t", "rate", "is_call").alias("g")

        def convert(result: Any) -> dict[str, np.ndarray]:
            columns = {name: result[name].to_numpy() for name in result.columns}
            div_discount = data.div_discount
            return {
                "price": columns["model_price"],
                "delta": div_discount * columns["delta"],
                "gamma": div_discount**2 * columns["gamma"],
                "vega": columns["vega"],
                "theta": columns["theta"] + data.div * data.dividend_adjusted_spot * columns["delta"],
                "rho": columns["rho"],
            }

        return Run(lambda: frame.select(expression).unnest("g"), convert, data)

    def implied_vol(self, data: OptionSet) -> Run:
        pv = self.load()
        frame = self._frame(data, with_price=True)
        expression = pv.implied_vol("price", "strike", "spot", "t", "rate", "is_call").alias("vol")
        return Run(
            lambda: frame.select(expression),
            lambda r: {"vol": r["vol"].to_numpy()},
            data,
            note="method='newton' (default)",
        )


# ---------------------------------------------------------------------- iv-engine


class IvEngine(Implementation):
    name = "iv-engine"
    distribution = "iv-engine"
    module = "iv_engine"
    notes = (
        "iv_engine.batch (rayon): black_scholes_prices(spot, strike, maturity, rate, dividend, vol, "
        "is_call) - one flag per call, so calls and puts separately; its vectorized Greeks "
        "(deltas, gammas, vegas, vannas, vommas) are undiscounted Black-76 w.r.t. the forward, "
        "converted with F = S e^{(r-q)T}, D = e^{-rT}: delta x D F/S, gamma x D (F/S)^2, vega x D, "
        "vanna x D F/S, volga x D; no vectorized theta or rho. implied_volatilities takes the "
        "undiscounted price price/D and the forward"
    )

    def _parts(self, data: OptionSet) -> list[tuple[bool, np.ndarray]]:
        return [(True, data.calls), (False, data.puts)]

    def price(self, data: OptionSet) -> Run:
        ie = self.load()
        parts = [
            (flag, index, data.strike[index], data.t[index], data.vol[index])
            for flag, index in self._parts(data)
        ]

        def call() -> list:
            return [
                (index, ie.black_scholes_prices(data.spot, k, t, data.rate, data.div, v, flag))
                for flag, index, k, t, v in parts
            ]

        return Run(call, lambda raw: {"price": _scatter(len(data), raw)}, data)

    def greeks(self, data: OptionSet) -> Run:
        ie = self.load()
        parts = [
            (flag, index, data.forward[index], data.strike[index], data.t[index], data.vol[index])
            for flag, index in self._parts(data)
        ]

        def call() -> list:
            out = []
            for flag, index, f, k, t, v in parts:
                out.append(
                    (
                        index,
                        {
                            "price": ie.black_scholes_prices(data.spot, k, t, data.rate, data.div, v, flag),
                            "delta": ie.deltas(f, k, t, v, flag),
                            "gamma": ie.gammas(f, k, t, v),
                            "vega": ie.vegas(f, k, t, v),
                            "vanna": ie.vannas(f, k, t, v),
                            "volga": ie.vommas(f, k, t, v),
                        },
                    )
                )
            return out

        def convert(raw: list) -> dict[str, np.ndarray]:
            columns = {
                name: _scatter(len(data), [(index, values[name]) for index, values in raw])
                for name in raw[0][1]
            }
            discount = data.rate_discount
            forward_per_spot = data.forward / data.spot
            return {
                "price": columns["price"],
                "delta": discount * forward_per_spot * columns["delta"],
                "gamma": discount * forward_per_spot**2 * columns["gamma"],
                "vega": discount * columns["vega"],
                "vanna": discount * forward_per_spot * columns["vanna"],
                "volga": discount * columns["volga"],
            }

        return Run(call, convert, data, note="2 flags x 6 calls")

    def implied_vol(self, data: OptionSet) -> Run:
        ie = self.load()
        undiscounted = data.price / data.rate_discount
        parts = [
            (flag, index, undiscounted[index], data.forward[index], data.strike[index], data.t[index])
            for flag, index in self._parts(data)
        ]

        def call() -> list:
            return [(index, ie.implied_volatilities(p, f, k, t, flag)) for flag, index, p, f, k, t in parts]

        return Run(call, lambda raw: {"vol": _scatter(len(data), raw)}, data)


# -------------------------------------------------------------------------- lbriv


class Lbriv(Implementation):
    name = "lbriv"
    distribution = "lbriv"
    module = "lbriv"
    notes = (
        "Black-76 at T = 1, r = 0 in total vol. Price: black76_undiscounted(forward, strike, "
        "total_vol, q) - numpy + scipy.ndtr, scalar forward - fed the forward-normalized "
        "strike K/F and sigma sqrt(T), result x F e^{-rT}. IV: the compiled (Cython, nogil, "
        "single thread) vectorized_implied_vol_strikes(price, forward, strikes, q) on the "
        "normalized price price/(F e^{-rT}), F = 1, strikes K/F; total vol / sqrt(T). "
        "One flag per call. Only scalar Greeks (and a trade-level IV + Greeks routine)"
    )

    def _parts(self, data: OptionSet) -> list[tuple[int, np.ndarray]]:
        return [(1, data.calls), (-1, data.puts)]

    def price(self, data: OptionSet) -> Run:
        lb = self.load()
        strikes = data.strike / data.forward
        total_vol = data.vol * np.sqrt(data.t)
        parts = [(flag, index, strikes[index], total_vol[index]) for flag, index in self._parts(data)]

        def call() -> list:
            return [(index, lb.black76_undiscounted(1.0, k, v, flag)) for flag, index, k, v in parts]

        def convert(raw: list) -> dict[str, np.ndarray]:
            return {"price": _scatter(len(data), raw) * data.forward * data.rate_discount}

        return Run(call, convert, data)

    def implied_vol(self, data: OptionSet) -> Run:
        lb = self.load()
        normalized = data.price / (data.forward * data.rate_discount)
        strikes = data.strike / data.forward
        parts = [(flag, index, normalized[index], strikes[index]) for flag, index in self._parts(data)]

        def call() -> list:
            return [
                (index, lb.vectorized_implied_vol_strikes(p, 1.0, k, flag)) for flag, index, p, k in parts
            ]

        return Run(call, lambda raw: {"vol": _scatter(len(data), raw) / np.sqrt(data.t)}, data)


# -------------------------------------------------------------------- fast-vollib


class FastVollib(Implementation):
    distribution = "fast-vollib"
    module = "fast_vollib"
    backend = "numpy"
    _TO_OURS = {"vega": 100.0, "theta": 365.0, "rho": 100.0}

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"fast-vollib ({self.backend} backend)"

    @property
    def notes(self) -> str:  # type: ignore[override]
        return (
            f"fast_black_scholes_merton / get_all_greeks / fast_implied_volatility(model="
            f"'black_scholes_merton', return_as='numpy'/'dict', backend='{self.backend}'), "
            "'c'/'p' flag array. py_vollib units: vega and rho per 1 % (x100), theta per day "
            "(x365). get_all_greeks gives delta, gamma, theta, rho, vega"
            + (
                "; 'auto' picks numpy when neither torch nor jax is installed"
                if self.backend == "numpy"
                else ""
            )
        )

    def load(self) -> Any:
        fv = super().load()
        if self.backend != "numpy":
            from fast_vollib import backends

            if not backends.get_module(self.backend).is_available():
                raise Unavailable(f"fast-vollib backend {self.backend!r} not available")
        return fv

    def price(self, data: OptionSet) -> Run:
        fv = self.load()
        flags = data.flag_letters
        return Run(
            lambda: fv.fast_black_scholes_merton(
                flags,
                data.spot,
                data.strike,
                data.t,
                data.rate,
                data.vol,
                data.div,
                return_as="numpy",
                backend=self.backend,
            ),
            lambda p: {"price": np.ravel(p)},
            data,
        )

    def greeks(self, data: OptionSet) -> Run:
        fv = self.load()
        flags = data.flag_letters

        def call() -> tuple[Any, Any]:
            args = (flags, data.spot, data.strike, data.t, data.rate, data.vol, data.div)
            return (
                fv.fast_black_scholes_merton(*args, return_as="numpy", backend=self.backend),
                fv.get_all_greeks(
                    *args, model="black_scholes_merton", return_as="dict", backend=self.backend
                ),
            )

        def convert(raw: tuple[Any, Any]) -> dict[str, np.ndarray]:
            out = {"price": np.ravel(raw[0])}
            for name in ("delta", "gamma", "vega", "theta", "rho"):
                out[name] = np.ravel(raw[1][name]) * self._TO_OURS.get(name, 1.0)
            return out

        return Run(call, convert, data, note="price + get_all_greeks")

    def implied_vol(self, data: OptionSet) -> Run:
        fv = self.load()
        flags = data.flag_letters
        return Run(
            lambda: fv.fast_implied_volatility(
                data.price,
                data.spot,
                data.strike,
                data.t,
                data.rate,
                flags,
                data.div,
                model="black_scholes_merton",
                return_as="numpy",
                on_error="ignore",
                backend=self.backend,
            ),
            lambda v: {"vol": np.ravel(v)},
            data,
        )


class FastVollibNumba(FastVollib):
    backend = "numba"


# ----------------------------------------------------------- py_vollib_vectorized


class PyVollibVectorized(Implementation):
    name = "py_vollib_vectorized"
    distribution = "py_vollib_vectorized"
    module = "py_vollib_vectorized"
    notes = (
        "vectorized_black_scholes_merton / get_all_greeks / vectorized_implied_volatility "
        "(model='black_scholes_merton', return_as='numpy'). py_vollib units: vega and rho per 1 % "
        "(x100), theta per day (x365); its Greeks are finite differences. Installs and imports on "
        "Python 3.11, but its numba kernels fail to compile on first use (reason under 'Not "
        "measured'); not patched"
    )
    _TO_OURS = {"vega": 100.0, "theta": 365.0, "rho": 100.0}
    _smoke_error: str | None = None
    _smoke_done = False

    def load(self) -> Any:
        pvv = super().load()
        cls = type(self)
        if not cls._smoke_done:
            cls._smoke_done = True
            try:  # its numba kernels compile on the first call, and that is where it breaks
                pvv.vectorized_black_scholes_merton(
                    np.array(["c"]),
                    np.array([100.0]),
                    np.array([100.0]),
                    np.array([0.5]),
                    np.array([0.04]),
                    np.array([0.2]),
                    np.array([0.01]),
                    return_as="numpy",
                )
            except Exception as exc:
                cls._smoke_error = _first_error_lines(exc)
        if cls._smoke_error:
            raise Unavailable(cls._smoke_error)
        return pvv

    def price(self, data: OptionSet) -> Run:
        pvv = self.load()
        flags = data.flag_letters
        return Run(
            lambda: pvv.vectorized_black_scholes_merton(
                flags, data.spot, data.strike, data.t, data.rate, data.vol, data.div, return_as="numpy"
            ),
            lambda p: {"price": np.ravel(p)},
            data,
        )

    def greeks(self, data: OptionSet) -> Run:
        pvv = self.load()
        flags = data.flag_letters

        def call() -> tuple[Any, Any]:
            args = (flags, data.spot, data.strike, data.t, data.rate, data.vol, data.div)
            return (
                pvv.vectorized_black_scholes_merton(*args, return_as="numpy"),
                pvv.get_all_greeks(*args, model="black_scholes_merton", return_as="dict"),
            )

        def convert(raw: tuple[Any, Any]) -> dict[str, np.ndarray]:
            out = {"price": np.ravel(raw[0])}
            for name in ("delta", "gamma", "vega", "theta", "rho"):
                out[name] = np.ravel(raw[1][name]) * self._TO_OURS.get(name, 1.0)
            return out

        return Run(call, convert, data)

    def implied_vol(self, data: OptionSet) -> Run:
        pvv = self.load()
        flags = data.flag_letters
        return Run(
            lambda: pvv.vectorized_implied_volatility(
                data.price,
                data.spot,
                data.strike,
                data.t,
                data.rate,
                flags,
                data.div,
                model="black_scholes_merton",
                return_as="numpy",
                on_error="ignore",
            ),
            lambda v: {"vol": np.ravel(v)},
            data,
        )


def _first_error_lines(exc: BaseException) -> str:
    """A one-line account of a failure: its class and the telling lines of the message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    telling = [line for line in lines if "recursion" in line or line.startswith("File ")][:2]
    # 'File "<site-packages>/pkg/mod.py", line 75:' -> 'pkg/mod.py line 75'
    telling = [
        re.sub(r'File "(?:[^"]*/)?([^/"]+/[^/"]+)", line (\d+):?', r"at \1 line \2", line) for line in telling
    ]
    summary = "; ".join(telling or lines[:2])
    cls = type(exc)
    extra = ""
    if cls.__module__.startswith("numba"):
        import numba

        extra = f" (numba {numba.__version__})"
    return f"fails on first call{extra}: {cls.__module__}.{cls.__name__}: {summary}"


#: Every implementation, in table order.
IMPLEMENTATIONS: list[Implementation] = [
    AlvhNative(),
    AlvhFallback(),
    NumpyReference(),
    QuantLibLoop(),
    Pyvolr(),
    OpenGreeks(),
    PolarsVol(),
    IvEngine(),
    Lbriv(),
    FastVollib(),
    FastVollibNumba(),
    PyVollibVectorized(),
]

PEER_DISTRIBUTIONS = (
    "QuantLib",
    "pyvolr",
    "opengreeks",
    "polars-vol",
    "iv-engine",
    "lbriv",
    "fast-vollib",
    "py_vollib_vectorized",
    "numba",
    "numpy",
    "scipy",
    "polars",
    "pytest-benchmark",
)
