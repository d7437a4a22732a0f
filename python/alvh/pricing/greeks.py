"""`Greeks`: price and eight Greeks of a batch of options, with unit-safe views.

The arrays hold raw derivatives (DESIGN.md units): vega per 1.00 of vol, theta per
year of calendar time, rho per 1.00 of rate, charm per year. The ``*_per_point`` /
``*_per_day`` properties give the trader units, so nobody has to remember the
scaling.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from alvh._core.types import FloatArray

if TYPE_CHECKING:  # polars is imported on first use: it costs ~0.1 s of `import alvh`
    import polars as pl

__all__ = ["NAMES", "RAW_UNITS", "Greeks"]


#: Output names in the order the kernels write them.
NAMES = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")

#: What each raw array measures.
RAW_UNITS = {
    "price": "currency per unit of underlying",
    "delta": "dV/dS",
    "gamma": "d2V/dS2",
    "vega": "dV/dvol per 1.00 (100 vol points)",
    "theta": "dV/dt per year of calendar time",
    "rho": "dV/drate per 1.00 (100%)",
    "vanna": "d2V/dS dvol per 1.00 vol",
    "volga": "d2V/dvol2 per 1.00 vol squared",
    "charm": "d(delta)/dt per year",
}


@dataclass(frozen=True, eq=False)
class Greeks:
    """Price and Greeks; every array has the broadcast shape of the inputs."""

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    rho: FloatArray
    vanna: FloatArray
    volga: FloatArray
    charm: FloatArray

    @classmethod
    def empty(cls, shape: int | tuple[int, ...]) -> Greeks:
        """Preallocated buffers, for ``greeks(..., out=Greeks.empty(n))`` in a loop."""
        return cls(*(np.empty(shape, dtype=np.float64) for _ in NAMES))

    def arrays(self) -> tuple[FloatArray, ...]:
        """The nine arrays in kernel order (price first)."""
        return tuple(getattr(self, f.name) for f in fields(self))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.price.shape)

    # Trader units.
    @property
    def vega_per_point(self) -> FloatArray:
        """Value change for a 1 vol-point (0.01) rise in vol."""
        return self.vega / 100.0

    @property
    def theta_per_day(self) -> FloatArray:
        """Value change over one calendar day (ACT/365)."""
        return self.theta / 365.0

    @property
    def rho_per_point(self) -> FloatArray:
        """Value change for a 1 percentage-point (0.01) rise in the rate."""
        return self.rho / 100.0

    @property
    def vanna_per_point(self) -> FloatArray:
        """Delta change for a 1 vol-point rise in vol."""
        return self.vanna / 100.0

    @property
    def volga_per_point(self) -> FloatArray:
        """Vega-per-point change for a 1 vol-point rise in vol."""
        return self.volga / 10_000.0

    @property
    def charm_per_day(self) -> FloatArray:
        """Delta change over one calendar day."""
        return self.charm / 365.0

    def to_polars(self, units: str = "raw") -> pl.DataFrame:
        """One row per option. ``units="trader"`` gives the per-point / per-day columns."""
        if units == "raw":
            columns = {name: getattr(self, name) for name in NAMES}
        elif units == "trader":
            columns = {
                "price": self.price,
                "delta": self.delta,
                "gamma": self.gamma,
                "vega_per_point": self.vega_per_point,
                "theta_per_day": self.theta_per_day,
                "rho_per_point": self.rho_per_point,
                "vanna_per_point": self.vanna_per_point,
                "volga_per_point": self.volga_per_point,
                "charm_per_day": self.charm_per_day,
            }
        else:
            from alvh.errors import InvalidInputError

            raise InvalidInputError(f"units must be 'raw' or 'trader', got {units!r}")
        import polars as pl

        return pl.DataFrame({k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in columns.items()})

    def __repr__(self) -> str:
        return f"Greeks(shape={self.shape}, price={np.array2string(self.price, threshold=6)})"
