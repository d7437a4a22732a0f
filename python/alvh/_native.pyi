# Hand-written stub of the compiled module alvh._native (rust/py/src: lib.rs, pricing.rs,
# grid.rs, projection.rs); CI checks it with mypy.stubtest.
from typing import Final

import numpy as np
from numpy.typing import NDArray

from alvh._core.kernel_inputs import ProjectionBuffers, ProjectionInputs

__all__ = [
    "ADDITIVE",
    "GREEKS",
    "STATS",
    "STICKY_MONEYNESS",
    "TOUCH_KINDS",
    "build_info",
    "greeks",
    "implied_vol",
    "model_vix",
    "monte_carlo",
    "pnl_statistics",
    "price",
    "scenario_grid",
    "set_parallel",
    "set_simd",
]

# The kernels' constants (alvh._fallback.kernels defines the same).
TOUCH_KINDS: Final[int]
GREEKS: Final[int]
STATS: Final[int]
STICKY_MONEYNESS: Final[int]
ADDITIVE: Final[int]

_Num = float | NDArray[np.float64]
_Flag = bool | NDArray[np.bool_]

def price(
    model: str,
    is_call: _Flag,
    spot: _Num,
    strike: _Num,
    t: _Num,
    rate: _Num,
    div: _Num,
    vol: _Num,
    out: NDArray[np.float64],
    errors_nan: bool,
) -> None: ...
def greeks(
    model: str,
    is_call: _Flag,
    spot: _Num,
    strike: _Num,
    t: _Num,
    rate: _Num,
    div: _Num,
    vol: _Num,
    out: list[NDArray[np.float64]],
    errors_nan: bool,
) -> None: ...
def implied_vol(
    model: str,
    price: _Num,
    is_call: _Flag,
    spot: _Num,
    strike: _Num,
    t: _Num,
    rate: _Num,
    div: _Num,
    out: NDArray[np.float64],
    errors_nan: bool,
) -> None: ...
def build_info() -> dict[str, object]: ...
def set_parallel(enabled: bool) -> None: ...
def set_simd(level: str) -> str: ...
def scenario_grid(
    kind: NDArray[np.uint8],
    is_call: NDArray[np.bool_],
    strike: NDArray[np.float64],
    weight: NDArray[np.float64],
    spot: float,
    rate: float,
    div: float,
    spot_moves: NDArray[np.float64],
    n_shifts: int,
    n_days: int,
    tau: NDArray[np.float64],
    vol: NDArray[np.float64],
    underlying: NDArray[np.float64],
    smile: tuple[float, float, float] | None,
    out: list[NDArray[np.float64]],
    svi: tuple[NDArray[np.float64], float, float] | None = None,
) -> None: ...
def model_vix(
    spot: float,
    rate: float,
    div: float,
    strikes: NDArray[np.float64],
    near: tuple[float, float, float],
    next: tuple[float, float, float],
    smile: tuple[float, float, float],
    tick: float,
) -> float: ...
def monte_carlo(inputs: ProjectionInputs, out: ProjectionBuffers) -> None: ...
def pnl_statistics(
    pnl: NDArray[np.float64],
    probability: NDArray[np.float64],
    days: int,
    paths: int,
    per_scenario: NDArray[np.float64],
    mixture: NDArray[np.float64],
) -> None: ...
