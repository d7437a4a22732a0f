"""`alvh.scenario_grid`: the risk graph cubes against one-by-one pricing through
`alvh.bsm` / `alvh.black76` on `Market.bump`, P&L zero at the origin, Greeks against
finite differences, settlement of legs expiring inside the horizon, bad input, and
the two backends against each other."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import alvh
from alvh import Market, Position, SpxOption, VixFuture, VixFutures, VixOption
from alvh.book import analytics
from alvh.errors import InputTypeError, InvalidInputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AS_OF = dt.date(2025, 2, 3)
SPOT = 5994.57
FEB07 = dt.date(2025, 2, 7)  # SPX weekly, expires inside a 10-day horizon
MAR21 = dt.date(2025, 3, 21)
VIX_FEB = dt.date(2025, 2, 12)  # a VIX expiry inside a 10-day horizon
VIX_MAR = dt.date(2025, 3, 18)
DYNAMICS = ("sticky_moneyness", "sticky_strike", "parallel")

MOVES = np.array([-0.08, -0.03, -0.01, 0.0, 0.004, 0.02, 0.06])
SHIFTS = np.array([-4.0, 0.0, 2.5, 10.0])
DAYS = np.array([0, 1, 5, 10])


@pytest.fixture(scope="module")
def market() -> Market:
    """The example market's parameters at the condor's entry date, mean-reverting futures."""
    base = Market.from_toml(EXAMPLES / "market.toml")
    return replace(base, as_of=AS_OF, spot=SPOT, futures=VixFutures.mean_reverting())


@pytest.fixture(scope="module")
def listed_market(market) -> Market:
    """The same market with a listed VIX futures curve (sticky by expiry)."""
    curve = VixFutures.explicit({VIX_FEB: 16.4, VIX_MAR: 17.9, dt.date(2025, 4, 16): 18.6})
    return replace(market, futures=curve)


@pytest.fixture(scope="module")
def book() -> Position:
    """condor_vix_hedge.toml (SPX condor + VIX call) plus a short VIX future."""
    hedge = Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    return hedge.with_leg(VixFuture(VIX_MAR, -1, 17.5))


@pytest.fixture(scope="module")
def expiring_book() -> Position:
    """Legs that expire inside a 10-day horizon next to a live leg."""
    return Position(
        (
            SpxOption(FEB07, 6000, True, 2, 40.0),
            SpxOption(FEB07, 5900, False, -3, 12.0),
            VixOption(VIX_FEB, 16.0, True, 4, 1.1),
            VixFuture(VIX_FEB, 2, 16.5),
            SpxOption(MAR21, 5800, False, -1, 50.0),
        )
    )


# --------------------------------------------------------------------------- reference


def leg_value(leg, scen: Market) -> float:
    """$ value of one leg in the scenario market, priced alone (futures net of entry)."""
    n = leg.quantity * leg.multiplier
    t = (leg.expiry - scen.as_of).days / 365.0
    if isinstance(leg, SpxOption):
        if t <= 0.0:
            return n * max((scen.spot - leg.strike) * (1 if leg.is_call else -1), 0.0)
        vol = float(scen.spx_vol(leg.strike, leg.expiry))
        return n * float(
            alvh.bsm.price(
                is_call=leg.is_call,
                spot=scen.spot,
                strike=leg.strike,
                t=t,
                rate=scen.rate,
                div=scen.div,
                vol=vol,
            )
        )
    raise AssertionError("VIX legs go through vix_leg_value")


def vix_leg_value(leg, market: Market, move: float, shift: float, day: int, dynamics: str) -> float:
    scen = market.bump(spot_move=move, vix_shift=shift, days=day, dynamics=dynamics)
    n = leg.quantity * leg.multiplier
    t = (leg.expiry - scen.as_of).days / 365.0
    if leg.expiry < scen.as_of:  # settled on its expiry day
        settle = market.bump(vix_shift=shift, days=(leg.expiry - market.as_of).days, dynamics=dynamics)
        future = float(settle.vix_future(leg.expiry))
    else:
        future = float(scen.vix_future(leg.expiry))
    if isinstance(leg, VixFuture):
        return n * (future - leg.entry_price)
    if t <= 0.0:
        return n * max((future - leg.strike) * (1 if leg.is_call else -1), 0.0)
    return n * float(
        alvh.black76.price(
            is_call=leg.is_call,
            forward=future,
            strike=leg.strike,
            t=t,
            rate=scen.rate,
            vol=float(scen.vix_option_vol(leg.expiry)),
        )
    )


def book_value(position, market, move, shift, day, dynamics) -> float:
    scen = market.bump(spot_move=move, vix_shift=shift, days=day, dynamics=dynamics)
    total = 0.0
    for leg in position.legs:
        if isinstance(leg, SpxOption):
            total += leg_value(leg, scen)
        else:
            total += vix_leg_value(leg, market, move, shift, day, dynamics)
    return total


def sample_cells(shape, count=12, seed=7):
    rng = np.random.default_rng(seed)
    cells = {(0, 0, 0), tuple(s - 1 for s in shape)}
    while len(cells) < count:
        cells.add(tuple(int(rng.integers(s)) for s in shape))
    return sorted(cells)


# --------------------------------------------------------------------------- cells


@pytest.mark.parametrize("dynamics", DYNAMICS)
def test_every_sampled_cell_equals_one_by_one_pricing(backend, market, book, dynamics):
    grid = alvh.scenario_grid(book, market, spot_moves=MOVES, vol_shifts=SHIFTS, days=DAYS, dynamics=dynamics)
    assert grid.shape == (DAYS.size, SHIFTS.size, MOVES.size)
    assert grid.value.shape == grid.pnl.shape == grid.delta.shape == grid.shape
    base = book_value(book, market, 0.0, 0.0, 0, dynamics)
    assert grid.base_value == pytest.approx(base, rel=1e-12, abs=1e-8)
    for i, j, k in sample_cells(grid.shape, count=25):
        expected = book_value(book, market, MOVES[k], SHIFTS[j], int(DAYS[i]), dynamics)
        assert grid.value[i, j, k] == pytest.approx(expected, rel=1e-10, abs=1e-7), (i, j, k)
        assert grid.pnl[i, j, k] == pytest.approx(expected - base, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("dynamics", DYNAMICS)
def test_listed_curve_and_expiring_legs_match_one_by_one(
    backend, listed_market, expiring_book, book, dynamics
):
    position = expiring_book + book
    days = np.array([0, 4, 9, 12, 30])  # FEB07 (day 4), VIX_FEB (day 9) pass
    grid = alvh.scenario_grid(
        position, listed_market, spot_moves=MOVES, vol_shifts=SHIFTS, days=days, dynamics=dynamics
    )
    for i in range(days.size):
        for j, k in [(0, 0), (1, 3), (2, 5), (3, 6), (3, 1)]:
            expected = book_value(position, listed_market, MOVES[k], SHIFTS[j], int(days[i]), dynamics)
            assert grid.value[i, j, k] == pytest.approx(expected, rel=1e-10, abs=1e-7), (i, j, k)


def test_base_value_is_the_analytics_value(backend, market, book):
    grid = alvh.scenario_grid(book, market, spot_moves=[0.0], vol_shifts=[0.0], days=[0])
    assert grid.base_value == pytest.approx(analytics.summary(book, market).value, rel=1e-12)
    greeks = analytics.leg_greeks(book, market)
    # analytics reports Black-Scholes deltas: the grid's under sticky strike (under sticky
    # moneyness its delta and gamma are smile-adjusted, see the next tests).
    fixed = alvh.scenario_grid(
        book, market, spot_moves=[0.0], vol_shifts=[0.0], days=[0], dynamics="sticky_strike"
    )
    assert fixed.delta[0, 0, 0] == pytest.approx(greeks["delta_spx_points"].sum(), rel=1e-9)
    assert fixed.gamma_dollars_per_1pct[0, 0, 0] == pytest.approx(
        greeks["gamma_dollars_per_1pct"].sum(), rel=1e-9
    )
    assert grid.value[0, 0, 0] == pytest.approx(fixed.value[0, 0, 0], rel=1e-13)
    assert grid.vega_dollars_per_vol_point[0, 0, 0] == pytest.approx(
        greeks["vega_dollars_per_vol_point"].sum(), rel=1e-9
    )
    assert grid.theta_dollars_per_day[0, 0, 0] == pytest.approx(
        greeks["theta_dollars_per_day"].sum(), rel=1e-9
    )
    assert grid.vix_delta[0, 0, 0] == pytest.approx(greeks["delta_dollars_per_vix_point"].sum(), rel=1e-9)


@pytest.mark.parametrize("dynamics", DYNAMICS)
def test_pnl_is_zero_at_the_origin(backend, market, book, dynamics):
    grid = alvh.scenario_grid(
        book,
        market,
        spot_moves=np.linspace(-0.1, 0.1, 21),
        vol_shifts=[-3.0, 0.0, 5.0],
        days=[0, 3, 7],
        dynamics=dynamics,
    )
    assert grid.pnl[0, 1, 10] == 0.0
    assert grid.value[0, 1, 10] == grid.base_value


# --------------------------------------------------------------------------- Greeks


@pytest.mark.parametrize("dynamics", DYNAMICS)
def test_delta_and_gamma_match_finite_differences(backend, market, book, dynamics):
    # Along the grid's own spot axis: under sticky moneyness the smile moves with the
    # spot, and delta/gamma are the smile-adjusted (total) derivatives.
    h = 1e-4  # relative; the SPX moves by about 0.6 points
    centre = np.array([-0.05, -0.02, 0.0, 0.01, 0.04])
    moves = np.sort(np.concatenate([centre - h, centre, centre + h]))
    grid = alvh.scenario_grid(
        book,
        market,
        spot_moves=moves,
        vol_shifts=[-2.0, 0.0, 6.0],
        days=[0, 6, 20],
        dynamics=dynamics,
    )
    spots = grid.spots
    for c in range(centre.size):
        lo, mid, hi = 3 * c, 3 * c + 1, 3 * c + 2
        ds = spots[hi] - spots[mid]
        ds_lo = spots[mid] - spots[lo]
        value = grid.value
        fd_delta = (value[..., hi] - value[..., lo]) / (spots[hi] - spots[lo])
        fd_gamma = ((value[..., hi] - value[..., mid]) / ds - (value[..., mid] - value[..., lo]) / ds_lo) / (
            0.5 * (ds + ds_lo)
        )
        np.testing.assert_allclose(grid.delta[..., mid], fd_delta, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(grid.gamma[..., mid], fd_gamma, rtol=2e-3, atol=1e-3)


def test_vega_theta_and_vix_delta_match_finite_differences(backend, market):
    """Parallel dynamics move every SPX vol by ratio * shift / 100: vega = dV/dsigma."""
    spx_only = Position(
        (
            SpxOption(MAR21, 5800, False, -3, 0.0),
            SpxOption(MAR21, 6200, True, 2, 0.0),
        )
    )
    ratio = market.vol_model.atm_vix_ratio
    h = 0.01
    grid = alvh.scenario_grid(
        spx_only,
        market,
        spot_moves=[-0.02, 0.0, 0.03],
        vol_shifts=[1.0 - h, 1.0, 1.0 + h],
        days=[2],
        dynamics="parallel",
    )
    fd_vega = (grid.value[0, 2] - grid.value[0, 0]) / (ratio * 2 * h / 100.0)
    np.testing.assert_allclose(grid.vega[0, 1], fd_vega, rtol=1e-6)
    # VIX future legs: value linear in F with slope N.
    fut = Position((VixFuture(VIX_MAR, 3, 18.0),))
    g = alvh.scenario_grid(fut, market, spot_moves=[0.0], vol_shifts=[0.0], days=[0])
    assert g.vix_delta[0, 0, 0] == 3000.0
    assert g.delta[0, 0, 0] == g.gamma[0, 0, 0] == g.vega[0, 0, 0] == g.theta[0, 0, 0] == 0.0


def test_trader_units(backend, market, book):
    grid = alvh.scenario_grid(book, market, spot_moves=[-0.05, 0.0, 0.05], vol_shifts=[0.0, 3.0], days=[0, 5])
    s = SPOT * (1.0 + np.array([-0.05, 0.0, 0.05]))
    np.testing.assert_allclose(grid.spots, s, rtol=1e-15)
    np.testing.assert_allclose(grid.delta_dollars_per_1pct, 0.01 * s * grid.delta, rtol=1e-15)
    np.testing.assert_allclose(grid.gamma_dollars_per_1pct, grid.gamma * (0.01 * s) ** 2, rtol=1e-15)
    np.testing.assert_allclose(grid.vega_dollars_per_vol_point, grid.vega / 100.0, rtol=1e-15)
    np.testing.assert_allclose(grid.theta_dollars_per_day, grid.theta / 365.0, rtol=1e-15)
    assert grid.dates == (AS_OF, AS_OF + dt.timedelta(days=5))
    np.testing.assert_allclose(grid.vix_levels, market.vix + np.array([0.0, 3.0]))


# --------------------------------------------------------------------------- expiry


def test_leg_expiring_inside_the_horizon_is_worth_intrinsic(backend, market):
    call = SpxOption(FEB07, 6000, True, 1, 0.0)
    put = SpxOption(FEB07, 6000, False, -2, 0.0)
    vix_call = VixOption(VIX_FEB, 15.0, True, 3, 0.0)
    moves = np.array([-0.05, 0.0, 6000.0 / SPOT - 1.0, 0.03])
    shifts = np.array([-2.0, 0.0, 5.0])
    days = [4, 5, 12]  # the SPX legs expire on day 4, the VIX call on day 9
    grid = alvh.scenario_grid(Position((call, put)), market, spot_moves=moves, vol_shifts=shifts, days=days)
    assert (grid.gamma == 0.0).all() and (grid.vega == 0.0).all() and (grid.theta == 0.0).all()
    s = grid.spots
    payoff = 100 * np.maximum(s - 6000, 0) - 200 * np.maximum(6000 - s, 0)
    expected_delta = 100.0 * (s > 6000) + 200.0 * (s < 6000) + 150.0 * (s == 6000)
    for i in range(len(days)):
        for j in range(shifts.size):
            np.testing.assert_allclose(grid.value[i, j], payoff, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(grid.delta[i, j], expected_delta, rtol=1e-12)
    # At the strike exactly: delta is half of the in-the-money delta.
    at_strike = alvh.scenario_grid(
        Position((call, put)),
        market,
        spot_moves=[6000.0 / SPOT - 1.0],
        vol_shifts=[0.0],
        days=[4],
    )
    if at_strike.spots[0] == 6000.0:
        assert at_strike.delta[0, 0, 0] == 150.0

    vix_grid = alvh.scenario_grid(
        Position((vix_call,)), market, spot_moves=moves, vol_shifts=shifts, days=days
    )
    assert (vix_grid.vega[2] == 0.0).all() and (vix_grid.theta[2] == 0.0).all()
    assert (vix_grid.vega[:2] != 0.0).all()  # still live on days 4 and 5
    for j, shift in enumerate(shifts):
        # settled on its expiry day, in the market of that day
        settle = market.bump(vix_shift=float(shift), days=(VIX_FEB - AS_OF).days)
        future = float(settle.vix_future(VIX_FEB))
        intrinsic = 300 * max(future - 15.0, 0.0)
        np.testing.assert_allclose(vix_grid.value[2, j], intrinsic, rtol=1e-12)
        assert vix_grid.vix_delta[2, j, 0] == (300.0 if future > 15.0 else 0.0)


def test_expired_leg_is_an_error_naming_the_leg(backend, market, book):
    stale = book.with_leg(SpxOption(dt.date(2025, 1, 31), 6000, True, 1, 5.0))
    with pytest.raises(InvalidInputError, match=r"legs\[6\]") as info:
        alvh.scenario_grid(stale, market, spot_moves=[0.0], vol_shifts=[0.0], days=[0])
    assert info.value.arg == "legs[6]"


def test_vix_leg_without_a_listed_future_names_the_leg(backend, listed_market):
    orphan = Position((VixOption(dt.date(2025, 5, 21), 20.0, True, 1, 1.0),))
    with pytest.raises(InvalidInputError, match=r"legs\[0\].*no VIX futures price"):
        alvh.scenario_grid(orphan, listed_market, spot_moves=[0.0], vol_shifts=[0.0], days=[0])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"spot_moves": []}, "spot_moves"),
        ({"vol_shifts": []}, "vol_shifts"),
        ({"days": []}, "days"),
        ({"spot_moves": [0.0, float("nan")]}, "spot_moves"),
        ({"spot_moves": [float("inf")]}, "spot_moves"),
        ({"spot_moves": [0.0, -1.0]}, "spot_moves"),
        ({"spot_moves": [-1.5]}, "spot_moves"),
        ({"vol_shifts": [float("nan")]}, "vol_shifts"),
        ({"vol_shifts": [-40.0]}, "vol_shifts"),
        ({"days": [0, -1]}, "days"),
        ({"dynamics": "sticky_delta"}, "dynamics"),
    ],
)
def test_bad_values_name_the_argument(backend, market, book, kwargs, arg):
    args = {"spot_moves": [0.0], "vol_shifts": [0.0], "days": [0], **kwargs}
    with pytest.raises(InvalidInputError, match=arg) as info:
        alvh.scenario_grid(book, market, **args)
    assert info.value.arg == arg
    if kwargs.get(arg) and arg != "dynamics" and len(kwargs[arg]) > 0:
        assert f"{arg}[" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"spot_moves": 0.01}, "spot_moves"),
        ({"days": 10}, "days"),
        ({"days": [0.0, 5.0]}, "days"),
        ({"days": [True]}, "days"),
        ({"vol_shifts": ["up"]}, "vol_shifts"),
        ({"spot_moves": [[0.0, 0.1]]}, "spot_moves"),
    ],
)
def test_bad_types_name_the_argument(backend, market, book, kwargs, arg):
    args = {"spot_moves": [0.0], "vol_shifts": [0.0], "days": [0], **kwargs}
    with pytest.raises(InputTypeError, match=arg):
        alvh.scenario_grid(book, market, **args)


def test_listed_curve_limits_name_the_axis_entry(backend, listed_market, book):
    # A shift that pushes a listed future to or below zero.
    with pytest.raises(InvalidInputError, match=r"vol_shifts\[1\]") as info:
        alvh.scenario_grid(book, listed_market, spot_moves=[0.0], vol_shifts=[0.0, -17.9], days=[0])
    assert info.value.arg == "vol_shifts"
    # A day beyond the last listed future.
    with pytest.raises(InvalidInputError, match=r"days\[1\]") as info:
        alvh.scenario_grid(book, listed_market, spot_moves=[0.0], vol_shifts=[0.0], days=[0, 80])
    assert info.value.arg == "days"


def test_bad_position_and_market_types(market, book):
    with pytest.raises(InputTypeError, match="position"):
        alvh.scenario_grid("book", market, spot_moves=[0.0], vol_shifts=[0.0], days=[0])
    with pytest.raises(InputTypeError, match="market"):
        alvh.scenario_grid(book, "market", spot_moves=[0.0], vol_shifts=[0.0], days=[0])


def test_kernel_rejects_mismatched_lengths_and_bad_values(backend):
    kernels = alvh._core.backend.kernels()
    legs = dict(
        kind=np.array([0], dtype=np.uint8),
        is_call=np.array([True]),
        strike=np.array([5000.0]),
        weight=np.array([100.0]),
    )
    moves = np.array([0.0, 0.01])

    def call(**over):
        a = dict(
            legs,
            spot=5000.0,
            rate=0.04,
            div=0.01,
            spot_moves=moves,
            n_shifts=1,
            n_days=2,
            tau=np.array([0.1, 0.09]),
            vol=np.array([0.2, 0.2]),
            underlying=np.array([1.0, 1.0]),
            smile=None,
            out=[np.empty(4) for _ in range(6)],
        )
        a.update(over)
        kernels.scenario_grid(
            a["kind"],
            a["is_call"],
            a["strike"],
            a["weight"],
            a["spot"],
            a["rate"],
            a["div"],
            a["spot_moves"],
            a["n_shifts"],
            a["n_days"],
            a["tau"],
            a["vol"],
            a["underlying"],
            a["smile"],
            a["out"],
        )
        return a["out"]

    out = call()
    assert np.isfinite(out[0]).all()
    with pytest.raises(ValueError, match="tau"):
        call(tau=np.array([0.1]))
    with pytest.raises(ValueError, match="out"):
        call(out=[np.empty(3) for _ in range(6)])
    with pytest.raises(ValueError, match="vol"):
        call(vol=np.array([0.2, -0.2]))
    with pytest.raises(ValueError, match="strike"):
        call(strike=np.array([-5.0]))
    with pytest.raises(ValueError, match="spot_moves"):
        call(spot_moves=np.array([0.0, -1.0]))
    with pytest.raises(ValueError, match="spot"):
        call(spot=0.0)
    # an expired row does not use its vol
    out = call(tau=np.array([0.1, 0.0]), vol=np.array([0.2, 0.0]))
    assert out[0][2:] == pytest.approx([0.0, 100.0 * 50.0])


# --------------------------------------------------------------------------- frame, backends


def test_to_polars_long_form(backend, market, book):
    grid = alvh.scenario_grid(book, market, spot_moves=[-0.02, 0.0, 0.02], vol_shifts=[0.0, 4.0], days=[0, 3])
    frame = grid.to_polars()
    assert frame.height == 12
    assert frame.columns[:6] == ["day", "date", "vix_shift", "vix", "spot_move", "spot"]
    assert frame.schema["day"] == pl.Int64 and frame.schema["date"] == pl.Date
    row = frame.filter((pl.col("day") == 3) & (pl.col("vix_shift") == 4.0) & (pl.col("spot_move") == 0.02))
    assert row.height == 1
    assert row["pnl"][0] == grid.pnl[1, 1, 2]
    assert row["date"][0] == AS_OF + dt.timedelta(days=3)
    assert row["spot"][0] == pytest.approx(SPOT * 1.02)
    assert row["delta_dollars_per_1pct"][0] == grid.delta_dollars_per_1pct[1, 1, 2]
    assert row["theta_dollars_per_day"][0] == grid.theta_dollars_per_day[1, 1, 2]


def test_repr_is_short(backend, market, book):
    grid = alvh.scenario_grid(
        book, market, spot_moves=np.linspace(-0.1, 0.1, 201), vol_shifts=[0.0], days=[0]
    )
    text = repr(grid)
    assert "1 days x 1 VIX shifts x 201 spot moves" in text and len(text) < 300


def test_empty_position_is_a_zero_grid(backend, market):
    grid = alvh.scenario_grid(Position(), market, spot_moves=[0.0, 0.1], vol_shifts=[0.0], days=[0, 1])
    assert (grid.value == 0.0).all() and (grid.pnl == 0.0).all() and grid.base_value == 0.0


@pytest.mark.parametrize("dynamics", DYNAMICS)
def test_backends_agree(listed_market, expiring_book, book, dynamics):
    position = expiring_book + book
    args = dict(
        spot_moves=np.linspace(-0.1, 0.1, 41),
        vol_shifts=np.linspace(-5.0, 15.0, 9),
        days=[0, 2, 4, 5, 9, 10, 15],
        dynamics=dynamics,
    )
    with alvh.use_backend("native"):
        native = alvh.scenario_grid(position, listed_market, **args)
    with alvh.use_backend("python"):
        python = alvh.scenario_grid(position, listed_market, **args)
    assert native.backend == "native" and python.backend == "python"
    scale = np.abs(python.value).max()
    np.testing.assert_allclose(native.value, python.value, rtol=1e-11, atol=1e-11 * scale)
    np.testing.assert_allclose(native.pnl, python.pnl, rtol=1e-9, atol=1e-11 * scale)
    for name in ("delta", "gamma", "vega", "theta", "vix_delta"):
        a, b = getattr(native, name), getattr(python, name)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10 * max(np.abs(b).max(), 1.0), err_msg=name)


# --------------------------------------------------------------------------- fast path


@pytest.mark.parametrize("dynamics", DYNAMICS)
@pytest.mark.parametrize("curve", ["model", "listed"])
def test_vectorized_scenarios_equal_bumping_once_per_scenario(
    market, listed_market, book, expiring_book, dynamics, curve
):
    # The grid resolves the per-(leg, shift, day) market with one vectorized pass per
    # day; it must give the numbers of market.bump(...) scenario by scenario.
    from alvh.risk import grid as grid_module

    scenario_market = market if curve == "model" else listed_market
    position = expiring_book + book
    legs = position.legs
    kind = np.array(
        [0 if isinstance(leg, SpxOption) else 2 if isinstance(leg, VixOption) else 1 for leg in legs],
        dtype=np.uint8,
    )
    strike = np.array([float(getattr(leg, "strike", 1.0)) for leg in legs])
    expiry = np.array([leg.expiry for leg in legs], dtype="datetime64[D]")
    shifts = np.array([-6.0, -1.5, 0.0, 2.5, 12.0])
    days = np.array([0, 3, 4, 10, 15])
    fast = grid_module._fast_scenarios(scenario_market, kind, strike, expiry, shifts, days, dynamics)
    assert fast is not None, "the vectorized path declined an ordinary grid"
    slow = grid_module._scenario_arrays(
        position, scenario_market, kind, strike, expiry, shifts, days, dynamics
    )
    for name, got, want in zip(("tau", "vol", "underlying"), fast, slow):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, err_msg=name)


def test_vectorized_scenarios_defer_invalid_scenarios_to_the_checked_path(listed_market, book):
    # A VIX shift that takes the VIX to zero: the fast path declines, and the
    # per-scenario path raises the error naming the axis entry.
    with pytest.raises(InvalidInputError, match="vol_shifts"):
        alvh.scenario_grid(book, listed_market, spot_moves=[0.0], vol_shifts=[0.0, -100.0], days=[0])


@pytest.mark.parametrize("curve", ["model", "listed"])
def test_t_plus_breakevens_are_zeros_of_the_grid_with_vix_legs_settling_inside(
    backend, market, listed_market, curve
):
    # A condor hedged with a VIX call that expires on day 9: the analytics' T+10
    # breakevens settle that call as the grid does (its future on its own expiry day).
    scenario_market = market if curve == "model" else listed_market
    condor = Position.from_toml(EXAMPLES / "condor.toml")
    position = condor.with_leg(VixOption(VIX_FEB, 15.0, True, 5, 1.4))
    s = analytics.summary(position, scenario_market, breakeven_days=(10,))
    ((days, roots),) = s.breakevens_t_plus
    assert days == 10 and len(roots) == 2
    entry = math.fsum(leg.entry_cost for leg in position.legs)
    grid = alvh.scenario_grid(
        position,
        scenario_market,
        spot_moves=np.array(roots) / scenario_market.spot - 1.0,
        vol_shifts=[0.0],
        days=[10],
    )
    np.testing.assert_allclose(grid.value[0, 0] - entry, 0.0, atol=1e-6)


def test_smile_adjusted_delta_differs_from_black_scholes_delta_by_vega_times_smile_slope(backend, market):
    # One put under sticky moneyness at the origin: the grid's delta is the BS delta
    # plus vega * dsigma/dS; SSVI: sigma = sqrt(w(k) / t), k = ln(K/F), so
    # dsigma/dS = -w'(k) / (2 sigma t S), w'(k) = theta phi / 2 (rho + (phi k + rho) / root).
    put = SpxOption(MAR21, 5800, False, 1, 0.0)
    grid = alvh.scenario_grid(Position((put,)), market, spot_moves=[0.0], vol_shifts=[0.0], days=[0])
    t = float(market.t(MAR21))
    atm = float(market.atm_vol(MAR21))
    forward = float(market.forward(MAR21))
    vm = market.vol_model
    k = math.log(5800 / forward)
    theta = atm * atm * t
    phi = vm.eta / (theta**vm.gamma * (1 + theta) ** (1 - vm.gamma))
    root = math.sqrt((phi * k + vm.rho) ** 2 + 1 - vm.rho**2)
    w_k = theta * phi / 2 * (vm.rho + (phi * k + vm.rho) / root)
    sigma = float(market.spx_vol(5800, MAR21))
    g = alvh.bsm.greeks(
        is_call=False, spot=SPOT, strike=5800, t=t, rate=market.rate, div=market.div, vol=sigma
    )
    dsigma_ds = -w_k / (2 * sigma * t * SPOT)
    expected = 100 * (float(g.delta) + float(g.vega) * dsigma_ds)
    assert grid.delta[0, 0, 0] == pytest.approx(expected, rel=1e-12)
    assert grid.delta[0, 0, 0] > 100 * float(g.delta)  # the put skew: less negative


# -- issue 16, point 7: no size cap on the grid (MemoryError, endless runs, OverflowError) --


def test_a_grid_over_its_memory_budget_or_horizon_is_refused_before_allocating():
    from alvh.risk.grid import GRID_MEMORY_BUDGET, MAX_GRID_DAYS

    root = Path(__file__).resolve().parents[1] / "examples"
    market = Market.from_toml(root / "market_2025-02-03.toml")
    book = Position.from_toml(root / "condor.toml")
    with pytest.raises(InvalidInputError, match=r"days must be at most 3650") as err:
        alvh.scenario_grid(book, market, spot_moves=[0.0], vol_shifts=[0.0], days=[10**9])
    assert err.value.arg == "days" and MAX_GRID_DAYS == 3650
    moves = np.linspace(-0.1, 0.1, 200_001)
    with pytest.raises(
        InvalidInputError, match=r"spot_moves \(200,001\) x vol_shifts \(41\) x days \(11\)"
    ) as err:
        alvh.scenario_grid(book, market, spot_moves=moves, vol_shifts=np.linspace(-5, 5, 41), days=range(11))
    assert "GiB budget" in str(err.value) and GRID_MEMORY_BUDGET == 2 * 2**30


def test_the_cli_refuses_a_huge_axis_with_one_line(capsys):
    from alvh.cli import main

    root = Path(__file__).resolve().parents[1] / "examples"
    for count in ("1000000", "1e9"):
        code = main(
            [
                "grid",
                str(root / "condor.toml"),
                "--market",
                str(root / "market_2025-02-03.toml"),
                "--moves",
                "-0.1",
                "0.1",
                count,
            ]
        )
        assert code == 2
        out = capsys.readouterr().out
        assert "is above 100,001 points" in out and "Traceback" not in out
