"""The benchmark data set of issue 2, item 9: SPX-like European options.

S = 4500, K ~ U[3000, 6000], T ~ U[1/365, 1], vol ~ U[0.08, 0.80], r = 0.04,
q = 0.015, exactly half calls (shuffled), from ``numpy.random.default_rng(20261124)``.
Prices for the implied-vol benchmark are alvh's native prices at the true vols.

Spot, rate and dividend yield are the same for every option, so they are kept as
scalars (APIs that broadcast get scalars); the ``*_array`` properties give the full
arrays for APIs that insist on one value per option. Every derived array is built
here, once, outside any timed region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

SEED = 20261124
OPTIONS = 1_000_000
SPOT = 4500.0
RATE = 0.04
DIV = 0.015


@dataclass(frozen=True, eq=False)
class OptionSet:
    """A batch of BSM options; ``rows`` are the indices into the full set it came from."""

    is_call: np.ndarray  # bool
    strike: np.ndarray
    t: np.ndarray
    vol: np.ndarray
    price: np.ndarray  # alvh native prices at ``vol``
    rows: np.ndarray
    spot: float = SPOT
    rate: float = RATE
    div: float = DIV

    def __len__(self) -> int:
        return len(self.strike)

    def subset(self, count: int) -> OptionSet:
        """The first ``count`` options (the draws are i.i.d., so any prefix is a fair sample)."""
        if count >= len(self):
            return self
        return OptionSet(
            is_call=self.is_call[:count],
            strike=self.strike[:count],
            t=self.t[:count],
            vol=self.vol[:count],
            price=self.price[:count],
            rows=self.rows[:count],
            spot=self.spot,
            rate=self.rate,
            div=self.div,
        )

    def take(self, index: np.ndarray) -> OptionSet:
        return OptionSet(
            is_call=self.is_call[index],
            strike=self.strike[index],
            t=self.t[index],
            vol=self.vol[index],
            price=self.price[index],
            rows=self.rows[index],
            spot=self.spot,
            rate=self.rate,
            div=self.div,
        )

    def alvh_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``alvh.bsm.price`` / ``greeks`` (scalars broadcast)."""
        return {
            "is_call": self.is_call,
            "spot": self.spot,
            "strike": self.strike,
            "t": self.t,
            "rate": self.rate,
            "div": self.div,
            "vol": self.vol,
        }

    # Derived arrays for peers' APIs (computed once, never inside a timed call).
    @cached_property
    def calls(self) -> np.ndarray:
        """Positions of the calls in this set (for APIs that take one flag per call)."""
        return np.flatnonzero(self.is_call)

    @cached_property
    def puts(self) -> np.ndarray:
        return np.flatnonzero(~self.is_call)

    @cached_property
    def spot_array(self) -> np.ndarray:
        return np.full(len(self), self.spot)

    @cached_property
    def rate_array(self) -> np.ndarray:
        return np.full(len(self), self.rate)

    @cached_property
    def div_array(self) -> np.ndarray:
        return np.full(len(self), self.div)

    @cached_property
    def rate_discount(self) -> np.ndarray:
        """e^{-rT}."""
        return np.exp(-self.rate * self.t)

    @cached_property
    def div_discount(self) -> np.ndarray:
        """e^{-qT}."""
        return np.exp(-self.div * self.t)

    @cached_property
    def forward(self) -> np.ndarray:
        """S e^{(r-q)T}."""
        return self.spot * self.div_discount / self.rate_discount

    @cached_property
    def dividend_adjusted_spot(self) -> np.ndarray:
        """S e^{-qT}: a BSM option with yield q is a BS option (q = 0) on this spot."""
        return self.spot * self.div_discount

    @cached_property
    def flag_signs(self) -> np.ndarray:
        """+1 call / -1 put per option, int8."""
        return np.where(self.is_call, 1, -1).astype(np.int8)

    @cached_property
    def flag_letters(self) -> np.ndarray:
        """'c' / 'p' per option (py_vollib-style APIs)."""
        return np.where(self.is_call, "c", "p").astype("<U1")


def make_spx_options(count: int = OPTIONS, seed: int = SEED) -> OptionSet:
    """The data set of the issue; prices come from alvh's native backend."""
    import alvh

    rng = np.random.default_rng(seed)
    strike = rng.uniform(3000.0, 6000.0, count)
    t = rng.uniform(1.0 / 365.0, 1.0, count)
    vol = rng.uniform(0.08, 0.80, count)
    is_call = rng.permutation(np.arange(count) < count // 2)
    with alvh.use_backend("native"):
        price = alvh.bsm.price(
            is_call=is_call,
            spot=SPOT,
            strike=strike,
            t=t,
            rate=RATE,
            div=DIV,
            vol=vol,
        )
    return OptionSet(
        is_call=is_call,
        strike=strike,
        t=t,
        vol=vol,
        price=price,
        rows=np.arange(count),
    )
