"""SVI per expiry (`alvh.svi`): the slice formula against hand-computed values, the
butterfly check on Axel Vogt's arbitrageable slice, the calendar check, parameter
validation, the fit of one slice, the surface's ATM ratio and nearest-slice rules, and
the grid kernel's SVI smile on both backends."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import alvh
from alvh.errors import InputTypeError, InvalidInputError
from alvh.svi import SviSlice, SviSurface, calendar_check, fit_slice, svi_smile

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
    ok = calendar_check({early: CLEAN, late: SviSlice(a=0.003, b=0.03, rho=-0.65, m=0.015,
                                                      sigma=0.06)})
    assert len(ok) == 1 and ok[0].arbitrage_free and ok[0].max_drop < 0.0
    # The later slice has flatter wings: below the earlier one far out.
    bad = calendar_check({early: CLEAN, late: SviSlice(a=0.003, b=0.01, rho=-0.65, m=0.015,
                                                       sigma=0.06)})
    assert not bad[0].arbitrage_free and bad[0].max_drop > 0.0
    assert (bad[0].earlier, bad[0].later) == (early, late)
    assert abs(bad[0].k_at_max) > 0.3


@pytest.mark.parametrize(("field", "value"), [
    ("b", -0.01), ("rho", 1.0), ("rho", -1.0), ("sigma", 0.0), ("a", -0.5),
    ("atm_ratio", 0.0), ("m", math.nan),
])
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
    np.testing.assert_allclose(fit.slice.implied_vol(k, tau), true.implied_vol(k, tau),
                               rtol=0, atol=1e-8)


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
    return SviSurface({
        E2: SviSlice(a=0.003, b=0.035, rho=-0.6, m=0.02, sigma=0.08, atm_ratio=1.10),
        E1: SviSlice(a=0.0012, b=0.03, rho=-0.65, m=0.015, sigma=0.06, atm_ratio=0.90),
        E3: SviSlice(a=0.006, b=0.045, rho=-0.55, m=0.03, sigma=0.12, atm_ratio=1.00),
    })


def test_surface_orders_slices_and_interpolates_the_atm_ratio_by_date(surface):
    assert surface.expiries == (E1, E2, E3)
    mid = E1 + (E2 - E1) / 3  # 9 of 27 days
    got = surface.atm_ratio(np.array([E1, mid, E2, dt.date(2025, 3, 1), dt.date(2026, 1, 1)],
                                     dtype="datetime64[D]"))
    np.testing.assert_allclose(got, [0.90, 0.90 + 0.2 / 3, 1.10, 0.90, 1.00], rtol=1e-14)


def test_surface_takes_the_smile_of_the_nearest_slice_ties_to_the_later(surface):
    before_tie = E1 + dt.timedelta(days=13)   # 13 days after E1, 14 before E2
    after_tie = E1 + dt.timedelta(days=14)    # 14 and 13
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
    a=st.floats(0.0005, 0.02), b=st.floats(0.005, 0.2), rho=st.floats(-0.95, 0.95),
    m=st.floats(-0.1, 0.1), sigma=st.floats(0.01, 0.5),
    steps=st.lists(st.floats(0.0, 0.01), min_size=1, max_size=4),
    atm=st.floats(0.03, 1.5), strike=st.floats(0.3, 3.0),
)
def test_a_surface_growing_in_level_is_calendar_free_and_its_vols_positive(
    a, b, rho, m, sigma, steps, atm, strike
):
    # Each later slice adds a non-negative constant to w: w never falls with expiry.
    level = a
    slices = {}
    for i, step in enumerate([0.0, *steps]):
        level += step
        slices[E1 + dt.timedelta(days=30 * i)] = SviSlice(a=level, b=b, rho=rho, m=m,
                                                          sigma=sigma)
    surface = SviSurface(slices)
    assert all(c.arbitrage_free for c in surface.calendar_checks())
    for expiry in surface.expiries:
        vol = surface.smile(strike=strike, forward=1.0, tau=0.25, atm=atm, expiry=expiry)
        assert np.isfinite(vol) and vol >= surface.floor_ratio * atm > 0.0


# --------------------------------------------------------------------------- grid kernel


def _kernel_args(**over):
    """Two SPX legs (put, call) with SVI smiles, a VIX future; 2 shifts x 2 days x 5 moves."""
    kind = np.array([0, 0, 1], dtype=np.uint8)
    shapes = np.array([(*CLEAN.params(), CLEAN.w0),
                       (0.004, 0.06, -0.4, -0.02, 0.15, 0.0),
                       (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)])
    shapes[1, 5] = SviSlice(*shapes[1, :5]).w0
    tau = np.tile(np.array([0.08, 0.05, 0.08, 0.0]), 3)  # (leg, shift, day)
    vol = np.tile(np.array([0.16, 0.15, 0.21, 0.2]), 3)
    args = dict(
        kind=kind, is_call=np.array([False, True, False]),
        strike=np.array([4300.0, 4700.0, 1.0]), weight=np.array([-100.0, -100.0, 1000.0]),
        spot=4500.0, rate=0.04, div=0.015, spot_moves=np.array([-0.1, -0.02, 0.0, 0.03, 0.3]),
        n_shifts=2, n_days=2, tau=tau, vol=vol, underlying=np.full(12, 20.0), smile=None,
        out=[np.empty(20) for _ in range(6)], svi=(shapes.ravel(), 0.3, 4.0),
    )
    args.update(over)
    return args


def _run_kernel(args):
    alvh._backend.kernels().scenario_grid(
        args["kind"], args["is_call"], args["strike"], args["weight"], args["spot"],
        args["rate"], args["div"], args["spot_moves"], args["n_shifts"], args["n_days"],
        args["tau"], args["vol"], args["underlying"], args["smile"], args["out"],
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
                    vol = svi_smile(args["strike"][leg], forward, tau, atm, *shapes[leg],
                                    floor_ratio=0.3, moneyness_limit=4.0)
                    want += args["weight"][leg] * float(alvh.bsm.price(
                        is_call=bool(args["is_call"][leg]), spot=level,
                        strike=args["strike"][leg], t=tau, rate=args["rate"],
                        div=args["div"], vol=vol,
                    ))
                assert value[day, shift, i] == pytest.approx(want, rel=1e-11), (day, shift, i)


def test_kernel_svi_backends_agree():
    results = {}
    for name in ("native", "python"):
        with alvh.use_backend(name):
            results[name] = _run_kernel(_kernel_args())
    for native, python in zip(results["native"], results["python"]):
        np.testing.assert_allclose(native, python, rtol=1e-11, atol=1e-9)


@pytest.mark.parametrize(("column", "value", "arg"), [
    (1, -0.1, "svi.b"), (2, 1.0, "svi.rho"), (4, 0.0, "svi.sigma"), (0, -1.0, "svi.a"),
    (5, 0.0, "svi.w0"),
])
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
        _run_kernel(_kernel_args(smile=(-0.25, 0.05, 0.5, 4.0)))
    with pytest.raises(ValueError, match="svi.shapes"):
        _run_kernel(_kernel_args(svi=(np.zeros(12), 0.3, 4.0)))
    with pytest.raises(ValueError, match="floor_ratio"):
        _run_kernel(_kernel_args(svi=(_kernel_args()["svi"][0], 0.0, 4.0)))
