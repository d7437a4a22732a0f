"""`alvh.Position`: builders (signs, credit, validation), the delta builder on the
5-point grid, container behaviour, and TOML round trips / file errors."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import alvh
from alvh import Position, SpxOption, VixFuture, VixOption
from alvh.errors import InputTypeError, InvalidInputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
POSITION_EXAMPLES = [
    EXAMPLES / name for name in ("condor.toml", "condor_vix_hedge.toml", "condor_put_spread_hedge.toml")
]
MAR21 = dt.date(2025, 3, 21)  # SPX monthly, March 2025
VIX_MAR = dt.date(2025, 3, 18)  # VIX March 2025 (Good-Friday adjusted Tuesday)


class StandInMarket:
    """The slice of `alvh.Market` the delta builder uses, with a simple linear skew
    in log-moneyness: an input, not a mock of pricing (prices come from alvh.bsm)."""

    def __init__(
        self, *, as_of=dt.date(2025, 2, 3), spot=5994.57, rate=0.043, div=0.013, atm_vol=0.16, skew=-0.25
    ):
        self.as_of, self.spot, self.rate, self.div = as_of, spot, rate, div
        self.atm_vol, self.skew = atm_vol, skew

    def t(self, expiry: dt.date) -> float:
        return (expiry - self.as_of).days / 365.0

    def spx_vol(self, strike, expiry):
        log_moneyness = np.log(np.asarray(strike, dtype=float) / self.spot)
        return np.clip(self.atm_vol + self.skew * log_moneyness, 0.05, 1.5)


def condor(quantity=1, prices=(35.2, 29.9, 31.4, 22.45)):
    return Position.iron_condor(
        MAR21,
        short_put=5625,
        long_put=5575,
        short_call=6300,
        long_call=6350,
        quantity=quantity,
        prices=prices,
    )


# -- builders -------------------------------------------------------------------
def test_iron_condor_legs_signs_and_credit():
    book = condor(quantity=10)
    assert [(leg.strike, leg.right, leg.quantity) for leg in book] == [
        (5575.0, "put", 10),
        (5625.0, "put", -10),
        (6300.0, "call", -10),
        (6350.0, "call", 10),
    ]
    assert all(isinstance(leg, SpxOption) and leg.expiry == MAR21 for leg in book)
    # (35.2 + 31.4 - 29.9 - 22.45) points x 100 $ x 10 lots
    assert book.credit == pytest.approx(14_250.0)


def test_iron_condor_prices_by_mapping_and_default_zero():
    by_name = Position.iron_condor(
        MAR21,
        short_put=5625,
        long_put=5575,
        short_call=6300,
        long_call=6350,
        prices={"short_put": 35.2, "long_put": 29.9, "short_call": 31.4, "long_call": 22.45},
    )
    assert by_name == condor()
    unpriced = Position.iron_condor(MAR21, short_put=5625, long_put=5575, short_call=6300, long_call=6350)
    assert all(leg.entry_price == 0.0 for leg in unpriced) and unpriced.credit == 0.0


def test_negative_quantity_buys_the_condor():
    assert condor(quantity=-1).credit == pytest.approx(-1425.0)
    assert condor(quantity=-1) == condor().scaled(-1)


@pytest.mark.parametrize(
    ("strikes", "match"),
    [
        ({"short_put": 5575, "long_put": 5625}, "long_put < short_put"),  # wings swapped
        ({"short_call": 5600}, "long_put < short_put < short_call"),  # short call below short put
        ({"long_call": 6300}, "short_call < long_call"),  # zero-width call wing
        ({"short_put": 5622.5}, "short_put must be a positive multiple of 5"),
        ({"long_call": -6350}, "long_call must be a positive multiple of 5"),
    ],
)
def test_iron_condor_validation_names_the_strikes(strikes, match):
    args = {"short_put": 5625, "long_put": 5575, "short_call": 6300, "long_call": 6350} | strikes
    with pytest.raises(InvalidInputError, match=match):
        Position.iron_condor(MAR21, **args)


def test_iron_condor_rejects_bad_quantity_and_prices():
    with pytest.raises(InvalidInputError, match="quantity"):
        condor(quantity=0)
    with pytest.raises(InvalidInputError, match="missing"):
        Position.iron_condor(
            MAR21, short_put=5625, long_put=5575, short_call=6300, long_call=6350, prices={"short_put": 1.0}
        )
    with pytest.raises(InvalidInputError, match="4 entries"):
        condor(prices=(1.0, 2.0))
    with pytest.raises(InvalidInputError, match="entry_price"):
        condor(prices=(35.2, -1.0, 31.4, 22.45))


def test_vertical_put_spread_is_a_debit():
    spread = Position.vertical(
        MAR21, long_strike=5500, short_strike=5400, is_call=False, quantity=2, prices=(23.65, 17.7)
    )
    assert [(leg.strike, leg.right, leg.quantity) for leg in spread] == [
        (5500.0, "put", 2),
        (5400.0, "put", -2),
    ]
    assert spread.credit == pytest.approx(-(23.65 - 17.7) * 100 * 2)
    with pytest.raises(InvalidInputError, match="two strikes"):
        Position.vertical(MAR21, long_strike=5500, short_strike=5500, is_call=True)


def test_conversion_and_reversal_are_opposite_synthetics():
    conv = Position.conversion(MAR21, strike=6000, quantity=3, prices={"put": 80.0, "call": 95.0})
    rev = Position.reversal(MAR21, strike=6000, quantity=3, prices={"put": 80.0, "call": 95.0})
    assert [(leg.right, leg.quantity) for leg in conv] == [("put", 3), ("call", -3)]
    assert [(leg.right, leg.quantity) for leg in rev] == [("put", -3), ("call", 3)]
    assert conv == rev.scaled(-1)
    # Synthetic short (conversion) / long (reversal): call delta - put delta = e^{-qT}.
    market = StandInMarket()
    t = market.t(MAR21)
    deltas = alvh.bsm.greeks(
        is_call=np.array([False, True]),
        spot=market.spot,
        strike=6000.0,
        t=t,
        rate=market.rate,
        div=market.div,
        vol=0.16,
    ).delta
    rev_delta = sum(leg.quantity * d for leg, d in zip(rev, deltas))
    assert rev_delta == pytest.approx(3 * math.exp(-market.div * t), rel=1e-12)


def test_vix_builders():
    call = Position.vix_call(VIX_MAR, strike=25, quantity=5, price=0.85)
    assert call.legs == (VixOption(VIX_MAR, 25.0, True, 5, 0.85),)
    assert call.credit == pytest.approx(-425.0)
    spread = Position.vix_call_spread(
        VIX_MAR, long_strike=22.5, short_strike=30, quantity=4, prices={"long": 1.2, "short": 0.3}
    )
    assert [(leg.strike, leg.quantity) for leg in spread] == [(22.5, 4), (30.0, -4)]
    assert spread.credit == pytest.approx(-(1.2 - 0.3) * 100 * 4)
    with pytest.raises(InvalidInputError, match="long_strike < short_strike"):
        Position.vix_call_spread(VIX_MAR, long_strike=30, short_strike=25)
    with pytest.raises(InvalidInputError, match="multiple of 0.5"):
        Position.vix_call(VIX_MAR, strike=25.25)
    future = Position.vix_future(VIX_MAR, quantity=-2, price=19.3)
    assert future.legs == (VixFuture(VIX_MAR, -2, 19.3),) and future.credit == 0.0


# -- by delta -------------------------------------------------------------------
@pytest.mark.parametrize("short_delta", [0.10, 0.16, 0.30])
@pytest.mark.parametrize("skew", [0.0, -0.25])
def test_by_delta_picks_the_grid_strikes_nearest_the_target(short_delta, skew):
    market = StandInMarket(skew=skew)
    book = Position.iron_condor_by_delta(
        MAR21, market=market, short_delta=short_delta, wing_width=50, quantity=2
    )
    long_put, short_put, short_call, long_call = book.legs
    assert (short_put.quantity, short_call.quantity, long_put.quantity) == (-2, -2, 2)
    assert long_put.strike == short_put.strike - 50 and long_call.strike == short_call.strike + 50
    assert all(leg.strike % 5 == 0 for leg in book)

    # Brute force over every grid strike on each side of the money.
    t = market.t(MAR21)
    grid = np.arange(3000.0, 9000.0, 5.0)
    greeks = {
        right: alvh.bsm.greeks(
            is_call=right == "call",
            spot=market.spot,
            strike=grid,
            t=t,
            rate=market.rate,
            div=market.div,
            vol=market.spx_vol(grid, MAR21),
        )
        for right in ("put", "call")
    }
    for leg, side in ((short_put, grid < market.spot), (short_call, grid > market.spot)):
        miss = np.abs(np.abs(greeks[leg.right].delta) - short_delta)
        best = grid[side][np.argmin(miss[side])]
        assert leg.strike == best

    # Entry prices are alvh.bsm with the market's vols.
    strikes = np.array([leg.strike for leg in book])
    expected = alvh.bsm.price(
        is_call=np.array([leg.is_call for leg in book]),
        spot=market.spot,
        strike=strikes,
        t=t,
        rate=market.rate,
        div=market.div,
        vol=market.spx_vol(strikes, MAR21),
    )
    assert [leg.entry_price for leg in book] == pytest.approx(list(expected), rel=1e-12)
    assert book.credit > 0


def test_by_delta_rejects_bad_arguments():
    market = StandInMarket()
    with pytest.raises(InvalidInputError, match="short_delta"):
        Position.iron_condor_by_delta(MAR21, market=market, short_delta=0.6)
    with pytest.raises(InvalidInputError, match="wing_width"):
        Position.iron_condor_by_delta(MAR21, market=market, wing_width=52)
    with pytest.raises(InvalidInputError, match="after market.as_of"):
        Position.iron_condor_by_delta(MAR21, market=StandInMarket(as_of=MAR21))


# -- container ------------------------------------------------------------------
def test_position_is_an_immutable_container():
    book = condor()
    assert len(book) == 4 and list(book) == list(book.legs)
    hedge = VixOption(VIX_MAR, 25, True, 5, 0.85)
    bigger = book.with_leg(hedge)
    assert len(book) == 4 and len(bigger) == 5 and bigger.legs[-1] == hedge
    assert bigger.expiries == (VIX_MAR, MAR21)
    assert book + Position.vix_call(VIX_MAR, strike=25, quantity=5, price=0.85) == bigger
    scaled = Position(book.legs, cash=100.0, name="x").scaled(3)
    assert [leg.quantity for leg in scaled] == [3, -3, -3, 3] and scaled.cash == 300.0
    assert scaled.credit == pytest.approx(3 * book.credit)
    with pytest.raises(InvalidInputError, match="k must be"):
        book.scaled(0)
    with pytest.raises(AttributeError):
        book.cash = 1.0  # type: ignore[misc]


def test_position_validates_its_legs_and_cash():
    with pytest.raises(InputTypeError, match=r"legs\[1\]"):
        Position((SpxOption(MAR21, 5600, False, 1), "5600P"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="cash"):
        Position((), cash=math.nan)
    assert Position([SpxOption(MAR21, 5600, False, 1)]).legs == (SpxOption(MAR21, 5600, False, 1),)


def test_legs_frame_lists_every_leg():
    book = condor(quantity=10) + Position.vix_future(VIX_MAR, quantity=1, price=19.3)
    frame = book.legs_frame()
    assert isinstance(frame, pl.DataFrame) and frame.height == 5
    assert frame["type"].to_list() == ["spx_option"] * 4 + ["vix_future"]
    assert frame["strike"].to_list() == [5575.0, 5625.0, 6300.0, 6350.0, None]
    assert frame["multiplier"].to_list() == [100, 100, 100, 100, 1000]
    assert frame["expiry"].dtype == pl.Date
    assert -frame["entry_cost"].sum() == pytest.approx(book.credit)


# -- TOML -----------------------------------------------------------------------
def test_there_are_example_positions():
    assert all(path.is_file() for path in POSITION_EXAMPLES)


@pytest.mark.parametrize("example", POSITION_EXAMPLES, ids=lambda p: p.name)
def test_examples_round_trip_exactly(example, tmp_path):
    book = Position.from_toml(example)
    assert len(book) > 0 and book.name
    out = tmp_path / "copy.toml"
    book.to_toml(out)
    assert Position.from_toml(out) == book
    out2 = tmp_path / "copy2.toml"
    Position.from_toml(out).to_toml(out2)
    assert out.read_bytes() == out2.read_bytes()


def test_example_condor_is_a_45_dte_16_delta_condor_on_a_real_monthly():
    book = Position.from_toml(EXAMPLES / "condor.toml")
    (expiry,) = book.expiries
    assert expiry == alvh.calendar.spx_monthly_expiry(2025, 3)
    hedged = Position.from_toml(EXAMPLES / "condor_vix_hedge.toml")
    vix_legs = [leg for leg in hedged if isinstance(leg, VixOption)]
    assert vix_legs and vix_legs[0].expiry == alvh.calendar.vix_expiry(2025, 3)
    # Short strikes within 0.05 of 16 delta under the stand-in skew on 2025-02-03 (46 DTE).
    market = StandInMarket()
    assert (expiry - market.as_of).days == 46
    shorts = [leg for leg in book if leg.quantity < 0]
    strikes = np.array([leg.strike for leg in shorts])
    delta = alvh.bsm.greeks(
        is_call=np.array([leg.is_call for leg in shorts]),
        spot=market.spot,
        strike=strikes,
        t=market.t(expiry),
        rate=market.rate,
        div=market.div,
        vol=market.spx_vol(strikes, expiry),
    ).delta
    assert np.all(np.abs(np.abs(delta) - 0.16) < 0.05)


def test_every_instrument_type_round_trips(tmp_path):
    book = (
        condor()
        + Position.vix_call_spread(VIX_MAR, long_strike=22.5, short_strike=30)
        + Position.vix_future(VIX_MAR, quantity=-1, price=19.31)
    )
    book = Position(book.legs, cash=-1234.5, name="all types")
    path = tmp_path / "book.toml"
    book.to_toml(path)
    assert Position.from_toml(path) == book
    empty = Position(name="empty")
    empty.to_toml(path)
    assert Position.from_toml(path) == empty


def test_to_toml_replaces_atomically_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "book.toml"
    path.write_text("old contents")
    condor().to_toml(path)
    assert Position.from_toml(path) == condor()
    assert os.listdir(tmp_path) == ["book.toml"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "book.toml"
    condor().to_toml(path)
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        condor(quantity=5).to_toml(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["book.toml"]


LEG = """
[[legs]]
type = "spx_option"
expiry = 2025-03-21
strike = 5625.0
right = "put"
quantity = -1
entry_price = 35.2
"""


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            LEG + LEG.replace('"spx_option"', '"spx_future"'),
            r"legs\[1\]\.type: unknown instrument type 'spx_future'",
        ),
        (LEG.replace('type = "spx_option"\n', ""), r"legs\[0\]\.type: missing"),
        (LEG.replace("strike = 5625.0\n", ""), r"legs\[0\]\.strike: missing"),
        (LEG.replace("entry_price = 35.2\n", ""), r"legs\[0\]\.entry_price: missing"),
        (LEG + "strik = 5600.0\n", r"legs\[0\]\.strik: unknown key"),
        (LEG.replace("5625.0", "5622.5"), r"legs\[0\]\.strike: SpxOption\.strike must be a multiple of 5"),
        (LEG.replace("5625.0", '"5625"'), r"legs\[0\]\.strike: must be a number"),
        (LEG.replace('"put"', '"p"'), r"legs\[0\]\.right: must be \"call\" or \"put\""),
        (LEG.replace("quantity = -1", "quantity = 0"), r"legs\[0\]\.quantity: .*non-zero"),
        (LEG.replace("entry_price = 35.2", "entry_price = nan"), r"legs\[0\]\.entry_price: .*finite"),
        (LEG.replace("2025-03-21", '"2025-03-21"'), r"legs\[0\]\.expiry: must be a TOML date"),
        (LEG.replace("2025-03-21", "2025-03-22"), r"legs\[0\]\.expiry: .*business day"),
        (
            LEG.replace('type = "spx_option"', 'type = "vix_future"'),
            r"legs\[0\]\.strike: unknown key for a vix_future",
        ),
        ("[position]\nname = 'x'\nowner = 'me'\n" + LEG, r"position\.owner: unknown key"),
        ("[position]\ncash = 'lots'\n", r"position\.cash must be a finite number"),
        ("[[leg]]\ntype = 'spx_option'\n", r"unknown top-level key 'leg'"),
        ("[position\nname = 'x'\n", r"not valid TOML: .*line 1"),
    ],
)
def test_malformed_files_name_the_file_and_field(tmp_path, text, where):
    path = tmp_path / "bad_book.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=where) as info:
        Position.from_toml(path)
    assert str(info.value).startswith(str(path))


def test_file_errors_carry_the_field_name(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(LEG.replace("5625.0", "5622.5"))
    with pytest.raises(InvalidInputError) as info:
        Position.from_toml(path)
    assert info.value.arg == "strike"


def test_example_files_are_not_modified_by_loading(tmp_path):
    copy = tmp_path / "condor.toml"
    shutil.copy(EXAMPLES / "condor.toml", copy)
    before = copy.read_bytes()
    Position.from_toml(copy)
    assert copy.read_bytes() == before
