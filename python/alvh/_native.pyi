# Hand-written stub of the compiled module alvh._native (rust/py/src/lib.rs);
# CI checks it with mypy.stubtest.
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "build_info", "greeks", "implied_vol", "monte_carlo", "pnl_statistics", "price", "scenario_grid",
    "set_parallel", "set_simd",
]

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
    smile: tuple[float, float, float, float] | None,
    out: list[NDArray[np.float64]],
    svi: tuple[NDArray[np.float64], float, float] | None = None,
) -> None: ...
def monte_carlo(
    kind: NDArray[np.uint8],
    is_call: NDArray[np.bool_],
    strike: NDArray[np.float64],
    weight: NDArray[np.float64],
    expiry_day: NDArray[np.int64],
    spot: float,
    rate: float,
    div: float,
    vix: float,
    base_value: float,
    drift: NDArray[np.float64],
    diffusion_vol: NDArray[np.float64],
    vix_beta: NDArray[np.float64],
    vol_of_vix: NDArray[np.float64],
    vix_kappa: NDArray[np.float64],
    vix_theta: NDArray[np.float64],
    atm_vix_ratio: float,
    jump_mean: NDArray[np.float64],
    jump_std: NDArray[np.float64],
    vix_jump_mean: NDArray[np.float64],
    vix_jump_std: NDArray[np.float64],
    days: int,
    paths: int,
    seed: int,
    greek_paths: int,
    vix_lo: float,
    vix_step: float,
    n_nodes: int,
    table_atm: NDArray[np.float64],
    table_change: NDArray[np.float64],
    table_vvol: NDArray[np.float64],
    fut_a: NDArray[np.float64],
    fut_b: NDArray[np.float64],
    dynamics: int,
    smile: tuple[float, float, float, float],
    base_vol: NDArray[np.float64],
    barrier_low: float,
    barrier_high: float,
    pnl_out: NDArray[np.float64],
    touch_sum_out: NDArray[np.float64],
    touch_sumsq_out: NDArray[np.float64],
    greek_sum_out: NDArray[np.float64],
    greek_sumsq_out: NDArray[np.float64],
    spot_out: NDArray[np.float64] | None = None,
    vix_out: NDArray[np.float64] | None = None,
    scenario_offset: int = 0,
    svi: tuple[NDArray[np.float64], float, float] | None = None,
    first_valued_day: int = 1,
) -> None: ...
def pnl_statistics(
    pnl: NDArray[np.float64],
    probability: NDArray[np.float64],
    days: int,
    paths: int,
    per_scenario: NDArray[np.float64],
    mixture: NDArray[np.float64],
) -> None: ...
