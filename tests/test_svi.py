"""SVI per expiry (`alvh.market.svi`, `alvh.market.fit.fit_svi`): the slice formula against
hand-computed values, the butterfly check on Axel Vogt's arbitrageable slice, the
calendar check, parameter validation, fits (of one slice and of a chain generated from
known slices), the surface's ATM ratio and nearest-slice rules, its dynamics in a
`Market`, the grid against leg-by-leg pricing on both backends, and the market TOML."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alvh
from alvh import Market, Position, SpxOption, VixFutures, VixOption
from alvh.book import analytics
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.fit import REASON_FEW_ROWS, fit_svi
from alvh.market.svi import SviSlice, SviSurface, calendar_check, fit_slice, svi_smile
from alvh.risk.projection import project

#: A clean equity-like slice (total variance at ~1 month: ATM vol ~16 %).
CLEAN = SviSlice(a=0.0012, b=0.03, rho=-0.65, m=0.015, sigma=0.06)

#: Axel Vogt's slice, T = 1 (Gatheral & Jacquier 2014, "Arbitrage-free SVI volatility
#: surfaces", section 5.1): a butterfly arbitrage, g(k) < 0 around k ~ 0.9.
VOGT = SviSlice(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)


# --------------------------------------------------------------------------- the slice


def test_total_variance_matches_hand_computed_values():
    s = SviSlice(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
    # k = m: w = a + b*sigma = 0.04 + 0.08.
    # k = 0: k-m = -0.1, sqrt(0.01 + 0.04) = 0.2236068, w = 0.04 + 0.4*(0.04 + 0.2236068).
    # k = -0.9: k-m = -1, sqrt(1.04) = 1.0198039, w = 0.04 + 0.4*(0.4 + 1.0198039).
    # k = 1.1: k-m = 1, w = 0.04 + 0.4*(-0.4 + 1.0198039).
    got = s.total_variance([0.1, 0.0, -0.9, 1.1])
    np.testing.assert_allclose(got, [0.12, 0.14544272, 0.60792156, 0.28792156], atol=1e-8)
    assert s.w0 == pytest.approx(0.14544272, abs=1e-8)
    assert s.min_total_variance == pytest.approx(0.04 + 0.4 * 0.2 * math.sqrt(1 - 0.16))
    assert float(s.implied_vol(0.1, 0.5)) == pytest.approx(math.sqrt(0.12 / 0.5))


def test_derivatives_match_finite_differences():
    k = np.linspace(-0.5, 0.4, 7)
    h = 1e-4  # central differences: truncation ~h**2, rounding ~1e-16 * w / h**2
    w, dw, d2w = CLEAN.derivatives(k)
    num_dw = (CLEAN.total_variance(k + h) - CLEAN.total_variance(k - h)) / (2 * h)
    num_d2w = (CLEAN.total_variance(k + h) - 2 * w + CLEAN.total_variance(k - h)) / h**2
    np.testing.assert_allclose(dw, num_dw, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(d2w, num_d2w, rtol=1e-4, atol=1e-7)


def test_butterfly_check_flags_vogts_slice_and_passes_a_clean_one():
    vogt = VOGT.butterfly_check()
    assert not vogt.arbitrage_free
    assert vogt.min_g < 0.0
    assert vogt.k_range is not None and vogt.k_range[0] < 0.9 < vogt.k_range[1]
    clean = CLEAN.butterfly_check()
    assert clean.arbitrage_free and clean.k_range is None and clean.min_g > 0.0
    # A grid that misses the violation does not invent one.
    assert VOGT.butterfly_check(np.linspace(-0.5, 0.5, 201)).arbitrage_free


def test_calendar_check_flags_total_variance_falling_with_expiry():
    early, late = dt.date(2025, 3, 21), dt.date(2025, 4, 17)
    ok = calendar_check({early: CLEAN, late: SviSlice(a=0.003, b=0.03, rho=-0.65, m=0.015, sigma=0.06)})
    assert len(ok) == 1 and ok[0].arbitrage_free and ok[0].max_drop < 0.0
    # The later slice has flatter wings: below the earlier one far out.
    bad = calendar_check({early: CLEAN, late: SviSlice(a=0.003, b=0.01, rho=-0.65, m=0.015, sigma=0.06)})
    assert not bad[0].arbitrage_free and bad[0].max_drop > 0.0
    assert (bad[0].earlier, bad[0].later) == (early, late)
    assert abs(bad[0].k_at_max) > 0.3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("b", -0.01),
        ("rho", 1.0),
        ("rho", -1.0),
        ("sigma", 0.0),
        ("a", -0.5),
        ("atm_ratio", 0.0),
        ("m", math.nan),
    ],
)
def test_bad_slice_parameters_name_the_field(field, value):
    params = dict(a=0.0012, b=0.03, rho=-0.65, m=0.015, sigma=0.06, atm_ratio=1.0)
    params[field] = value
    with pytest.raises(InvalidInputError, match=rf"\b{field}\b") as info:
        SviSlice(**params)
    assert info.value.arg == field


def test_a_slice_with_zero_atm_variance_is_refused():
    # min w = 0 exactly at k = 0 (m = 0, rho = 0, a = -b*sigma): no ATM vol to scale by.
    with pytest.raises(InvalidInputError, match="w\\(0\\)"):
        SviSlice(a=-0.003, b=0.03, rho=0.0, m=0.0, sigma=0.1)


def test_non_numbers_are_type_errors():
    with pytest.raises(InputTypeError, match="b"):
        SviSlice(a=0.001, b="0.03", rho=-0.5, m=0.0, sigma=0.1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- fit of one slice


def test_fit_slice_recovers_the_parameters_of_noise_free_vols():
    tau = 0.12
    k = np.linspace(-0.35, 0.12, 25)
    true = SviSlice(a=0.002, b=0.05, rho=-0.6, m=0.02, sigma=0.08)
    fit = fit_slice(k, true.implied_vol(k, tau), tau)
    assert fit.success
    np.testing.assert_allclose(fit.slice.params(), true.params(), atol=1e-6)
    np.testing.assert_allclose(fit.slice.implied_vol(k, tau), true.implied_vol(k, tau), rtol=0, atol=1e-8)


def test_fit_slice_with_noise_stays_close():
    tau = 0.3
    k = np.linspace(-0.5, 0.2, 40)
    true = SviSlice(a=0.004, b=0.08, rho=-0.7, m=0.03, sigma=0.12)
    noise = np.random.default_rng(3).normal(0.0, 0.002, k.size)  # 0.2 vol point
    fit = fit_slice(k, true.implied_vol(k, tau) + noise, tau)
    error = fit.slice.implied_vol(k, tau) - true.implied_vol(k, tau)
    assert np.sqrt(np.mean(error**2)) < 0.001  # the fit averages the noise out


def test_fit_slice_needs_five_points():
    with pytest.raises(InvalidInputError, match="at least 5 points"):
        fit_slice([-0.1, 0.0, 0.1, 0.2], [0.2, 0.18, 0.17, 0.17], 0.1)


# --------------------------------------------------------------------------- the surface

E1, E2, E3 = dt.date(2025, 3, 21), dt.date(2025, 4, 17), dt.date(2025, 6, 20)


@pytest.fixture(scope="module")
def surface() -> SviSurface:
    return SviSurface(
        {
            E2: SviSlice(a=0.003, b=0.035, rho=-0.6, m=0.02, sigma=0.08, atm_ratio=1.10),
            E1: SviSlice(a=0.0012, b=0.03, rho=-0.65, m=0.015, sigma=0.06, atm_ratio=0.90),
            E3: SviSlice(a=0.006, b=0.045, rho=-0.55, m=0.03, sigma=0.12, atm_ratio=1.00),
        }
    )


def test_surface_orders_slices_and_interpolates_the_atm_ratio_by_date(surface):
    assert surface.expiries == (E1, E2, E3)
    mid = E1 + (E2 - E1) / 3  # 9 of 27 days
    got = surface.atm_ratio(
        np.array([E1, mid, E2, dt.date(2025, 3, 1), dt.date(2026, 1, 1)], dtype="datetime64[D]")
    )
    np.testing.assert_allclose(got, [0.90, 0.90 + 0.2 / 3, 1.10, 0.90, 1.00], rtol=1e-14)


def test_surface_takes_the_smile_of_the_nearest_slice_ties_to_the_later(surface):
    before_tie = E1 + dt.timedelta(days=13)  # 13 days after E1, 14 before E2
    after_tie = E1 + dt.timedelta(days=14)  # 14 and 13
    index = surface.nearest_slice_index([E1, before_tie, after_tie, dt.date(2030, 1, 1)])
    assert index.tolist() == [0, 0, 1, 2]
    # E2 to E3 is 64 days: day 32 is a tie and goes to E3.
    assert surface.nearest_slice_index(E2 + dt.timedelta(days=32)).tolist() == 2
    shapes = surface.shapes([E1, E3])
    assert shapes.shape == (2, 6)
    assert shapes[1, :5].tolist() == list(surface.slices[E3].params())
    assert shapes[1, 5] == surface.slices[E3].w0


def test_surface_smile_at_its_own_atm_is_the_svi_vol(surface):
    # atm * sqrt(tau) = sqrt(w0): the sticky-moneyness smile is the slice itself.
    s, tau, forward = surface.slices[E2], 0.2, 5000.0
    strikes = np.linspace(4200.0, 5400.0, 13)
    atm = math.sqrt(s.w0 / tau)
    got = surface.smile(strike=strikes, forward=forward, tau=tau, atm=atm, expiry=E2)
    np.testing.assert_allclose(got, s.implied_vol(np.log(strikes / forward), tau), rtol=1e-13)


def test_surface_is_read_only_hashable_and_pickles(surface):
    import copy
    import pickle

    with pytest.raises(TypeError):
        surface.slices[E1] = CLEAN  # type: ignore[index]
    assert hash(surface) == hash(SviSurface(dict(surface.slices)))
    assert pickle.loads(pickle.dumps(surface)) == surface
    assert copy.deepcopy(surface) == surface


def test_surface_validation():
    with pytest.raises(InvalidInputError, match="at least one slice"):
        SviSurface({})
    with pytest.raises(InputTypeError, match="SviSlice"):
        SviSurface({E1: (0.1, 0.2)})  # type: ignore[dict-item]
    with pytest.raises(InputTypeError, match="date"):
        SviSurface({"2025-03-21": CLEAN})  # type: ignore[dict-item]
    with pytest.raises(InputTypeError, match="base"):
        SviSurface({E1: CLEAN}, base="flat")  # type: ignore[arg-type]


@given(
    a=st.floats(0.0005, 0.02),
    b=st.floats(0.005, 0.2),
    rho=st.floats(-0.95, 0.95),
    m=st.floats(-0.1, 0.1),
    sigma=st.floats(0.01, 0.5),
    steps=st.lists(st.floats(0.0, 0.01), min_size=1, max_size=4),
    atm=st.floats(0.03, 1.5),
    strike=st.floats(0.3, 3.0),
)
def test_a_surface_growing_in_level_is_calendar_free_and_its_vols_positive(
    a, b, rho, m, sigma, steps, atm, strike
):
    # Each later slice adds a non-negative constant to w: w never falls with expiry.
    level = a
    slices = {}
    for i, step in enumerate([0.0, *steps]):
        level += step
        slices[E1 + dt.timedelta(days=30 * i)] = SviSlice(a=level, b=b, rho=rho, m=m, sigma=sigma)
    surface = SviSurface(slices)
    assert all(c.arbitrage_free for c in surface.calendar_checks())
    for expiry in surface.expiries:
        vol = surface.smile(strike=strike, forward=1.0, tau=0.25, atm=atm, expiry=expiry)
        assert np.isfinite(vol) and vol >= surface.floor_ratio * atm > 0.0


# --------------------------------------------------------------------------- grid kernel


def _kernel_args(**over):
    """Two SPX legs (put, call) with SVI smiles, a VIX future; 2 shifts x 2 days x 5 moves."""
    kind = np.array([0, 0, 1], dtype=np.uint8)
    shapes = np.array(
        [(*CLEAN.params(), CLEAN.w0), (0.004, 0.06, -0.4, -0.02, 0.15, 0.0), (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)]
    )
    shapes[1, 5] = SviSlice(*shapes[1, :5]).w0
    tau = np.tile(np.array([0.08, 0.05, 0.08, 0.0]), 3)  # (leg, shift, day)
    vol = np.tile(np.array([0.16, 0.15, 0.21, 0.2]), 3)
    args = dict(
        kind=kind,
        is_call=np.array([False, True, False]),
        strike=np.array([4300.0, 4700.0, 1.0]),
        weight=np.array([-100.0, -100.0, 1000.0]),
        spot=4500.0,
        rate=0.04,
        div=0.015,
        spot_moves=np.array([-0.1, -0.02, 0.0, 0.03, 0.3]),
        n_shifts=2,
        n_days=2,
        tau=tau,
        vol=vol,
        underlying=np.full(12, 20.0),
        smile=None,
        out=[np.empty(20) for _ in range(6)],
        svi=(shapes.ravel(), 0.3, 4.0),
    )
    args.update(over)
    return args


def _run_kernel(args):
    alvh._core.backend.kernels().scenario_grid(
        args["kind"],
        args["is_call"],
        args["strike"],
        args["weight"],
        args["spot"],
        args["rate"],
        args["div"],
        args["spot_moves"],
        args["n_shifts"],
        args["n_days"],
        args["tau"],
        args["vol"],
        args["underlying"],
        args["smile"],
        args["out"],
        svi=args["svi"],
    )
    return args["out"]


def test_kernel_svi_cells_equal_pricing_each_leg_at_its_svi_vol(backend):
    args = _kernel_args()
    value = _run_kernel(args)[0].reshape(2, 2, 5)  # (day, shift, move)
    shapes = args["svi"][0].reshape(3, 6)
    for day in range(2):
        for shift in range(2):
            for i, move in enumerate(args["spot_moves"]):
                level = args["spot"] * (1 + move)
                want = 1000.0 * 20.0
                for leg in range(2):
                    j = (leg * 2 + shift) * 2 + day
                    tau, atm = args["tau"][j], args["vol"][j]
                    if tau <= 0.0:
                        sign = 1.0 if args["is_call"][leg] else -1.0
                        want += args["weight"][leg] * max(sign * (level - args["strike"][leg]), 0)
                        continue
                    forward = level * math.exp((args["rate"] - args["div"]) * tau)
                    vol = svi_smile(
                        args["strike"][leg],
                        forward,
                        tau,
                        atm,
                        *shapes[leg],
                        floor_ratio=0.3,
                        moneyness_limit=4.0,
                    )
                    want += args["weight"][leg] * float(
                        alvh.bsm.price(
                            is_call=bool(args["is_call"][leg]),
                            spot=level,
                            strike=args["strike"][leg],
                            t=tau,
                            rate=args["rate"],
                            div=args["div"],
                            vol=vol,
                        )
                    )
                assert value[day, shift, i] == pytest.approx(want, rel=1e-11), (day, shift, i)


def test_kernel_svi_backends_agree():
    results = {}
    for name in ("native", "python"):
        with alvh.use_backend(name):
            results[name] = _run_kernel(_kernel_args())
    for native, python in zip(results["native"], results["python"]):
        np.testing.assert_allclose(native, python, rtol=1e-11, atol=1e-9)


@pytest.mark.parametrize(
    ("column", "value", "arg"),
    [
        (1, -0.1, "svi.b"),
        (2, 1.0, "svi.rho"),
        (4, 0.0, "svi.sigma"),
        (0, -1.0, "svi.a"),
        (5, 0.0, "svi.w0"),
    ],
)
def test_kernel_rejects_bad_svi_shapes_naming_the_leg(backend, column, value, arg):
    args = _kernel_args()
    shapes = args["svi"][0].reshape(3, 6).copy()
    shapes[1, column] = value
    args["svi"] = (shapes.ravel(), 0.3, 4.0)
    with pytest.raises(ValueError, match=rf"{arg}\[1\]"):
        _run_kernel(args)
    # The shapes of a VIX leg are not used, so not checked.
    shapes = args["svi"][0].reshape(3, 6).copy()
    shapes[1] = _kernel_args()["svi"][0].reshape(3, 6)[1]
    shapes[2, column] = value
    args["svi"] = (shapes.ravel(), 0.3, 4.0)
    assert np.isfinite(_run_kernel(args)[0]).all()


def test_kernel_svi_argument_errors(backend):
    with pytest.raises(ValueError, match="exclusive"):
        _run_kernel(_kernel_args(smile=(-0.7, 1.15, 0.5)))
    with pytest.raises(ValueError, match="svi.shapes"):
        _run_kernel(_kernel_args(svi=(np.zeros(12), 0.3, 4.0)))
    with pytest.raises(ValueError, match="floor_ratio"):
        _run_kernel(_kernel_args(svi=(_kernel_args()["svi"][0], 0.0, 4.0)))


# --------------------------------------------------------------------------- in a market

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
AS_OF = dt.date(2025, 2, 3)
SPOT = 5994.57
FEB21, MAR21, APR17, JUN20 = (
    dt.date(2025, 2, 21),
    dt.date(2025, 3, 21),
    dt.date(2025, 4, 17),
    dt.date(2025, 6, 20),
)
VIX_MAR = dt.date(2025, 3, 18)

#: Known slices: equity skew, total variance growing with expiry.
TRUE_SLICES = {
    FEB21: SviSlice(a=0.0006, b=0.022, rho=-0.70, m=0.010, sigma=0.040),
    MAR21: SviSlice(a=0.0016, b=0.035, rho=-0.65, m=0.015, sigma=0.060),
    JUN20: SviSlice(a=0.0055, b=0.060, rho=-0.60, m=0.030, sigma=0.110),
}


@pytest.fixture(scope="module")
def market() -> Market:
    """The example market's parameters at the condor's entry date, mean-reverting futures."""
    base = Market.from_toml(EXAMPLES / "market.toml")
    return replace(base, as_of=AS_OF, spot=SPOT, futures=VixFutures.mean_reverting())


def make_chain(market, slices, *, per_side=8, width=2.5, noise=0.0, seed=0, extra=()):
    """A chain whose OTM mids are priced at the slices' vols: ``per_side`` puts below and
    calls above the forward, out to ``width`` ATM standard deviations, plus ``extra``
    rows (expiry, strike, type, bid, ask). ``noise``: relative half-spread around a mid
    moved by up to half of it (so the mid is off the model)."""
    rng = np.random.default_rng(seed)
    rows = []
    for expiry, s in slices.items():
        t = float(market.t(expiry))
        forward = float(market.forward(expiry))
        sd = math.sqrt(s.w0)
        for k in (
            np.concatenate([np.linspace(-width, -0.1, per_side), np.linspace(0.1, 0.6 * width, per_side)])
            * sd
        ):
            strike = round(forward * math.exp(k), 1)
            is_call = strike >= forward
            vol = float(s.implied_vol(math.log(strike / forward), t))
            price = float(
                alvh.bsm.price(
                    is_call=is_call,
                    spot=market.spot,
                    strike=strike,
                    t=t,
                    rate=market.rate,
                    div=market.div,
                    vol=vol,
                )
            )
            mid = price * (1.0 + noise * rng.uniform(-0.5, 0.5))
            rows.append(
                (expiry, strike, "call" if is_call else "put", mid * (1.0 - noise), mid * (1.0 + noise))
            )
    rows.extend(extra)
    expiry, strike, kind, bid, ask = zip(*rows)
    return pl.DataFrame({"expiry": expiry, "strike": strike, "type": kind, "bid": bid, "ask": ask})


@pytest.fixture(scope="module")
def fitted(market):
    return fit_svi(make_chain(market, TRUE_SLICES), market)


def test_fit_svi_recovers_known_slices_from_a_noise_free_chain(market, fitted):
    assert fitted.success and fitted.model.expiries == tuple(TRUE_SLICES)
    assert fitted.skipped == {}
    for expiry, true in TRUE_SLICES.items():
        got = fitted.model.slices[expiry]
        np.testing.assert_allclose(got.params(), true.params(), atol=1e-6, err_msg=str(expiry))
        report = fitted.slices[expiry]
        assert report.rows == 16 and report.max_error < 1e-6  # vol points: 1e-8 in vol
        model_atm = float(replace(market, vol_model=market.vol_model).atm_vol(expiry))
        assert report.model_atm == pytest.approx(model_atm, rel=1e-14)
        assert got.atm_ratio == pytest.approx(math.sqrt(got.w0 / report.tau) / model_atm, rel=1e-14)
    assert fitted.arbitrage_free
    assert fitted.rmse < 1e-6 and fitted.rows_used == 48


def test_the_fitted_market_quotes_exactly_the_svi_vols(market, fitted):
    for expiry, s in fitted.model.slices.items():
        strikes = np.linspace(5400.0, 6400.0, 21)
        k = np.log(strikes / market.forward(expiry))
        got = fitted.market.spx_vol(strikes, expiry)
        np.testing.assert_allclose(got, s.implied_vol(k, market.t(expiry)), rtol=1e-12)
        true = TRUE_SLICES[expiry].implied_vol(k, market.t(expiry))
        np.testing.assert_allclose(got, true, rtol=0, atol=1e-8)
        assert float(fitted.market.atm_vol(expiry)) == pytest.approx(
            math.sqrt(s.w0 / float(market.t(expiry))), rel=1e-13
        )


def test_fit_svi_with_a_bid_ask_spread_stays_close(market):
    result = fit_svi(make_chain(market, TRUE_SLICES, noise=0.02, seed=5), market)
    for expiry, report in result.slices.items():
        assert report.rmse < 0.15, expiry  # vol points (measured ~0.06), mids off by up to 1 %
        k = np.linspace(-1.5, 0.8, 9) * math.sqrt(TRUE_SLICES[expiry].w0)
        t = float(market.t(expiry))
        fitted_vol = result.model.slices[expiry].implied_vol(k, t)
        error = fitted_vol - TRUE_SLICES[expiry].implied_vol(k, t)
        assert np.abs(error).max() < 0.005  # half a vol point inside the quoted range


def test_result_frames(fitted):
    frame = fitted.to_polars()
    assert frame.height == 48 and frame["used"].all()
    assert frame["residual"].abs().max() < 1e-6
    slices = fitted.slices_to_polars()
    assert slices.height == 3 and set(slices.columns) >= {
        "expiry",
        "rmse",
        "a",
        "rho",
        "atm_ratio",
        "butterfly_free",
    }
    assert slices.filter(pl.col("expiry") == MAR21)["b"][0] == pytest.approx(0.035, abs=1e-6)


def test_expiries_with_too_few_rows_are_skipped_with_the_reason(market):
    extra = [(APR17, strike, "put", 30.0, 31.0) for strike in (5600.0, 5700.0, 5800.0)]
    result = fit_svi(make_chain(market, TRUE_SLICES, extra=extra), market)
    assert APR17 not in result.model.slices
    assert "3 usable rows, fewer than the 5" in result.skipped[APR17]
    frame = result.to_polars().filter(pl.col("expiry") == APR17)
    assert frame.height == 3 and not frame["used"].any()
    assert (frame["reason"] == REASON_FEW_ROWS).all()
    assert result.rows_used == 48 and result.rows_excluded == 3


def test_a_chain_without_enough_rows_is_a_clear_error(market):
    chain = make_chain(market, {MAR21: TRUE_SLICES[MAR21]}, per_side=2)
    with pytest.raises(InvalidInputError, match="4 usable rows, fewer than the 5"):
        fit_svi(chain, market)
    many = make_chain(market, {MAR21: TRUE_SLICES[MAR21], JUN20: TRUE_SLICES[JUN20]}, per_side=2)
    with pytest.raises(InvalidInputError, match="no expiry of the chain has the 5"):
        fit_svi(many, market)
    with pytest.raises(InvalidInputError, match="min_rows"):
        fit_svi(many, market, min_rows=3)
    with pytest.raises(InvalidInputError, match="weighting"):
        fit_svi(many, market, weighting="price")


def test_a_fit_with_butterfly_arbitrage_is_refused_or_returned_to_inspect(market):
    # Vogt's slice a year out, quoted out to k = 1.25 where g(k) < 0.
    expiry = AS_OF + dt.timedelta(days=365)
    chain = make_chain(market, {expiry: VOGT}, per_side=12, width=9.5)
    with pytest.raises(InvalidInputError, match=f"expiry {expiry.isoformat()} has butterfly arbitrage"):
        fit_svi(chain, market)
    result = fit_svi(chain, market, allow_arbitrage=True)
    np.testing.assert_allclose(result.model.slices[expiry].params(), VOGT.params(), atol=1e-5)
    assert not result.butterfly[expiry].arbitrage_free and not result.arbitrage_free
    assert result.butterfly[expiry].k_range is not None


def test_a_fit_with_calendar_arbitrage_is_refused_or_returned_to_inspect(market):
    crossing = {MAR21: TRUE_SLICES[MAR21], JUN20: SviSlice(a=0.0075, b=0.012, rho=-0.6, m=0.03, sigma=0.11)}
    with pytest.raises(InvalidInputError, match="2025-03-21 and 2025-06-20 have calendar arbitrage"):
        fit_svi(make_chain(market, crossing), market)
    result = fit_svi(make_chain(market, crossing), market, allow_arbitrage=True)
    (check,) = result.calendar
    assert (check.earlier, check.later) == (MAR21, JUN20) and not check.arbitrage_free


def test_fit_ssvi_on_an_svi_market_starts_from_the_default_surface(fitted):
    result = alvh.fit_ssvi(make_chain(fitted.market, TRUE_SLICES), fitted.market)
    assert isinstance(result.model, alvh.SsviSurface) and result.success


def test_fit_svi_fits_only_the_expiries_in_the_chain(market):
    result = alvh.fit_svi(make_chain(market, {MAR21: TRUE_SLICES[MAR21]}), market)
    assert result.model.expiries == (MAR21,)


# --------------------------------------------------------------------------- dynamics


def test_atm_follows_the_vix_and_time_and_the_smile_keeps_its_shape(market, fitted):
    svi_market = fitted.market
    surface = fitted.model
    for shift, days in [(0.0, 0), (6.0, 0), (-3.0, 5), (10.0, 12)]:
        bumped = svi_market.bump(vix_shift=shift, days=days)
        model = market.bump(vix_shift=shift, days=days)  # the same VIX-linked term structure
        for expiry in (MAR21, APR17, JUN20):
            atm = float(bumped.atm_vol(expiry))
            ratio = float(surface.atm_ratio(expiry))
            assert atm == pytest.approx(ratio * float(model.atm_vol(expiry)), rel=1e-14)
            s = surface.slices[surface.expiries[int(surface.nearest_slice_index(expiry))]]
            strikes = np.array([5500.0, 5900.0, 6000.0, 6300.0])
            tau = float(bumped.t(expiry))
            x = np.log(strikes / bumped.forward(expiry)) / (atm * math.sqrt(tau))
            want = atm * np.sqrt(s.total_variance(x * math.sqrt(s.w0)) / s.w0)
            np.testing.assert_allclose(bumped.spx_vol(strikes, expiry), want, rtol=1e-13)


def test_an_expiry_without_a_slice_interpolates_the_atm_ratio(fitted):
    surface = fitted.model
    r_mar, r_jun = (surface.slices[e].atm_ratio for e in (MAR21, JUN20))
    weight = (APR17 - MAR21).days / (JUN20 - MAR21).days
    assert float(surface.atm_ratio(APR17)) == pytest.approx(r_mar + weight * (r_jun - r_mar))
    # APR17 is 27 days after MAR21 and 64 before JUN20: MAR21's shape.
    assert int(surface.nearest_slice_index(APR17)) == 1


@pytest.mark.parametrize("dynamics", ["sticky_strike", "parallel"])
def test_sticky_strike_and_parallel_move_the_svi_smile(fitted, dynamics):
    base = fitted.market
    bumped = base.bump(vix_shift=5.0, days=2, spot_move=-0.03, dynamics=dynamics)
    strikes = np.array([5500.0, 5900.0, 6300.0])
    if dynamics == "sticky_strike":
        change = bumped.atm_vol(MAR21) - base.atm_vol(MAR21)
    else:
        change = base.vol_model.atm_vix_ratio * 5.0 / 100.0
    np.testing.assert_allclose(
        bumped.spx_vol(strikes, MAR21), base.spx_vol(strikes, MAR21) + change, rtol=1e-14
    )


# --------------------------------------------------------------------------- grid


@pytest.fixture(scope="module")
def svi_book() -> Position:
    """An SPX condor on MAR21, a put spread on APR17 (no slice there), a VIX call."""
    return Position(
        (
            SpxOption(MAR21, 5700, False, 1, 20.0),
            SpxOption(MAR21, 5800, False, -1, 30.0),
            SpxOption(MAR21, 6200, True, -1, 25.0),
            SpxOption(MAR21, 6300, True, 1, 15.0),
            SpxOption(APR17, 5600, False, -2, 40.0),
            SpxOption(APR17, 5900, False, 2, 80.0),
            VixOption(VIX_MAR, 22.0, True, 5, 1.2),
        )
    )


def book_value(position, market, move, shift, day, dynamics):
    scen = market.bump(spot_move=move, vix_shift=shift, days=day, dynamics=dynamics)
    total = 0.0
    for leg in position.legs:
        n = leg.quantity * leg.multiplier
        t = (leg.expiry - scen.as_of).days / 365.0
        if isinstance(leg, SpxOption):
            total += n * float(
                alvh.bsm.price(
                    is_call=leg.is_call,
                    spot=scen.spot,
                    strike=leg.strike,
                    t=t,
                    rate=scen.rate,
                    div=scen.div,
                    vol=float(scen.spx_vol(leg.strike, leg.expiry)),
                )
            )
        else:
            total += n * float(
                alvh.black76.price(
                    is_call=leg.is_call,
                    forward=float(scen.vix_future(leg.expiry)),
                    strike=leg.strike,
                    t=t,
                    rate=scen.rate,
                    vol=float(scen.vix_option_vol(leg.expiry)),
                )
            )
    return total


MOVES = np.array([-0.08, -0.02, 0.0, 0.01, 0.05])
SHIFTS = np.array([-4.0, 0.0, 7.5])
DAYS = np.array([0, 3, 10])


@pytest.mark.parametrize("dynamics", ["sticky_moneyness", "sticky_strike", "parallel"])
def test_every_grid_cell_equals_leg_by_leg_pricing_under_svi(backend, fitted, svi_book, dynamics):
    grid = alvh.scenario_grid(
        svi_book, fitted.market, spot_moves=MOVES, vol_shifts=SHIFTS, days=DAYS, dynamics=dynamics
    )
    for i, day in enumerate(DAYS.tolist()):
        for j, shift in enumerate(SHIFTS.tolist()):
            for k, move in enumerate(MOVES.tolist()):
                want = book_value(svi_book, fitted.market, move, shift, day, dynamics)
                assert grid.value[i, j, k] == pytest.approx(want, rel=1e-10, abs=1e-7), (i, j, k)


def test_svi_grid_delta_and_gamma_are_the_spot_derivatives(backend, fitted, svi_book):
    h = 1e-4
    centre = np.array([-0.04, 0.0, 0.03])
    moves = np.sort(np.concatenate([centre - h, centre, centre + h]))
    grid = alvh.scenario_grid(svi_book, fitted.market, spot_moves=moves, vol_shifts=[0.0, 5.0], days=[0, 4])
    spots, value = grid.spots, grid.value
    for c in range(centre.size):
        lo, mid, hi = 3 * c, 3 * c + 1, 3 * c + 2
        fd_delta = (value[..., hi] - value[..., lo]) / (spots[hi] - spots[lo])
        ds = spots[hi] - spots[mid]
        fd_gamma = (value[..., hi] - 2 * value[..., mid] + value[..., lo]) / ds**2
        np.testing.assert_allclose(grid.delta[..., mid], fd_delta, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(grid.gamma[..., mid], fd_gamma, rtol=2e-3, atol=1e-3)


def test_svi_grid_backends_agree(fitted, svi_book):
    args = dict(spot_moves=np.linspace(-0.1, 0.1, 21), vol_shifts=[-5.0, 0.0, 10.0], days=[0, 5, 30])
    with alvh.use_backend("native"):
        native = alvh.scenario_grid(svi_book, fitted.market, **args)
    with alvh.use_backend("python"):
        python = alvh.scenario_grid(svi_book, fitted.market, **args)
    for name in ("value", "delta", "gamma", "vega", "theta"):
        a, b = getattr(native, name), getattr(python, name)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * max(np.abs(b).max(), 1.0), err_msg=name)


def test_vectorized_scenarios_equal_bumping_under_svi(fitted, svi_book):
    from alvh.risk import grid as grid_module

    legs = svi_book.legs
    kind = np.array([0 if isinstance(leg, SpxOption) else 2 for leg in legs], dtype=np.uint8)
    strike = np.array([float(leg.strike) for leg in legs])
    expiry = np.array([leg.expiry for leg in legs], dtype="datetime64[D]")
    for dynamics in ("sticky_moneyness", "sticky_strike"):
        fast = grid_module._fast_scenarios(fitted.market, kind, strike, expiry, SHIFTS, DAYS, dynamics)
        assert fast is not None
        slow = grid_module._scenario_arrays(
            svi_book, fitted.market, kind, strike, expiry, SHIFTS, DAYS, dynamics
        )
        for got, want in zip(fast, slow):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


def test_analytics_value_under_svi_is_the_grid_value(fitted, svi_book):
    grid = alvh.scenario_grid(svi_book, fitted.market, spot_moves=MOVES, vol_shifts=[0.0], days=[0, 3])
    for i, day in enumerate((0, 3)):
        shifted = fitted.market.bump(days=day)
        values = analytics.value_at_spots(svi_book, fitted.market, grid.spots, shifted)
        np.testing.assert_allclose(values, grid.value[i, 0], rtol=1e-10)


# --------------------------------------------------------------------------- TOML


def test_market_toml_round_trip(tmp_path, fitted):
    path = tmp_path / "svi_market.toml"
    fitted.market.to_toml(path)
    text = path.read_text()
    assert 'model = "svi"' in text and "[[spx_vol.slices]]" in text
    back = Market.from_toml(path)
    assert back == fitted.market
    assert back.vol_model.slices[MAR21] == fitted.model.slices[MAR21]
    np.testing.assert_array_equal(
        back.spx_vol([5800.0, 6200.0], APR17), fitted.market.spx_vol([5800.0, 6200.0], APR17)
    )


def test_an_svi_market_pickles(fitted):
    import pickle

    back = pickle.loads(pickle.dumps(fitted.market))
    assert back == fitted.market and isinstance(back.vol_model, SviSurface)


SVI_TOML = """\
format_version = 1
as_of = 2025-02-03
spot = 5994.57
rate = 0.047
div = 0.013
vix = 18.03

[spx_vol]
model = "svi"
atm_vix_ratio = 0.9

[[spx_vol.slices]]
expiry = 2025-03-21
a = 0.0016
b = 0.035
rho = -0.65
m = 0.015
sigma = 0.06
atm_ratio = 1.02

[[spx_vol.slices]]
expiry = 2025-06-20
a = 0.0055
b = 0.06
rho = -0.6
m = 0.03
sigma = 0.11
atm_ratio = 0.98
"""


def test_market_toml_reads_a_hand_written_svi_market(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(SVI_TOML)
    market = Market.from_toml(path)
    assert isinstance(market.vol_model, SviSurface)
    assert market.vol_model.slices[JUN20].atm_ratio == 0.98
    assert market.vol_model.base.atm_vix_ratio == 0.9


@pytest.mark.parametrize(
    ("edit", "field", "line"),
    [
        (("b = 0.06", "b = -0.06"), "spx_vol.slices[1].b", 24),
        (("rho = -0.65", "rho = -1.5"), "spx_vol.slices[0].rho", 16),
        (("sigma = 0.11\n", ""), "spx_vol.slices[1].sigma", None),
        (("a = 0.0016", "a = -0.05"), "spx_vol.slices[0].a", 14),
        (("expiry = 2025-06-20", "expiry = 2025-03-21"), "spx_vol.slices[1].expiry", 22),
        (("expiry = 2025-06-20", 'expiry = "June"'), "spx_vol.slices[1].expiry", 22),
        (("atm_ratio = 1.02", "atm_ratio = 1.02\nskew = 3"), "spx_vol.slices[0].skew", 20),
        (("m = 0.015", 'm = "0.015"'), "spx_vol.slices[0].m", 17),
        (('model = "svi"', 'model = "ssvi"'), "spx_vol.slices", None),
        (('model = "svi"', 'model = "sabr"'), "spx_vol.model", 9),
    ],
)
def test_malformed_svi_tables_name_the_file_and_field(tmp_path, edit, field, line):
    path = tmp_path / "bad.toml"
    path.write_text(SVI_TOML.replace(*edit, 1))
    with pytest.raises(InvalidInputError) as info:
        Market.from_toml(path)
    message = str(info.value)
    assert str(path) in message and f"field {field}" in message, message
    if line is not None:
        assert f"{path}:{line}:" in message, message


def test_an_svi_model_without_slices_is_an_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SVI_TOML.split("[[spx_vol.slices]]")[0])
    with pytest.raises(InvalidInputError, match="field spx_vol.slices: model = 'svi' needs"):
        Market.from_toml(path)


def test_market_accepts_only_the_two_vol_models(market):
    with pytest.raises(InputTypeError, match="SsviSurface or SviSurface"):
        replace(market, vol_model="svi")


# --------------------------------------------------------------------------- projection


@pytest.mark.parametrize("dynamics", ["sticky_moneyness", "sticky_strike"])
def test_projection_under_svi_uses_the_svi_vols_on_both_backends(market, fitted, svi_book, dynamics):
    book = Position(tuple(leg for leg in svi_book.legs if leg.expiry != VIX_MAR))
    runs = {}
    for name in ("native", "python"):
        with alvh.use_backend(name):
            runs[name] = project(book, fitted.market, days=4, paths=400, seed=3, dynamics=dynamics)
    np.testing.assert_allclose(
        runs["native"].stats, runs["python"].stats, rtol=1e-9, atol=1e-9 * np.abs(runs["python"].stats).max()
    )
    quadratic = project(book, market, days=4, paths=400, seed=3, dynamics=dynamics)
    assert not np.allclose(quadratic.stats, runs["native"].stats)  # the smile matters


@pytest.mark.parametrize("dynamics", ["sticky_moneyness", "sticky_strike"])
def test_projection_day_values_equal_the_grid_under_svi(fitted, svi_book, dynamics):
    # A still SPX and VIX (no diffusion, no jumps): every path sits at the grid's
    # origin, so each day's P&L is the grid's at move 0, shift 0; the SVI smile enters
    # both through the kernels' own code. The VIX is put on a node of the projection's
    # VIX table (multiples of 0.25) so that no interpolation separates the two.
    from alvh.risk.scenarios import Scenario, ScenarioSet

    svi_market = replace(fitted.market, vix=18.0)
    book = Position(tuple(leg for leg in svi_book.legs if isinstance(leg, SpxOption)))
    still = ScenarioSet(
        "still",
        (
            Scenario(
                "still",
                1.0,
                spx_drift=0.0,
                diffusion_vol=0.0,
                vix_beta=0.0,
                vol_of_vix=0.0,
                vix_kappa=0.0,
                vix_theta=None,
            ),
        ),
    )
    days = 4
    for name in ("native", "python"):
        with alvh.use_backend(name):
            result = project(
                book,
                svi_market,
                scenarios=still,
                days=days,
                paths=8,
                seed=1,
                dynamics=dynamics,
                keep_paths=True,
            )
            grid = alvh.scenario_grid(
                book,
                svi_market,
                spot_moves=[0.0],
                vol_shifts=[0.0],
                days=list(range(1, days + 1)),
                dynamics=dynamics,
            )
        assert result.pnl is not None
        np.testing.assert_allclose(result.pnl[0, :, 0], grid.pnl[:, 0, 0], rtol=1e-9, atol=1e-8, err_msg=name)
