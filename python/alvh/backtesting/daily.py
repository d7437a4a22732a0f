"""The backtest's daily replay of an iron-condor book and its performance metrics
(DESIGN.md "Backtest"): the condor schedule, with or without a layer policy (no policy
is the "no hedge" baseline every policy is compared with), hedges bought and sold on
the policy's decisions (`alvh.policy`).

**The replay** (`replay`), one step per day both the SPX and the VIX have a close:

1. the day's market: SPX and VIX closes, the day's risk-free rate (``rates``, e.g. the
   3-month bill of `alvh.backtesting.data.rates_for`; the `Assumptions`' constant
   ``rate`` without it), the `Assumptions`' dividend yield, VIX futures model and SPX
   vol model (`alvh.Market`);
2. each open condor is marked to model; it is closed (at model prices, paying the
   slippage and commissions of `Costs`) when its P&L reaches ``profit_target`` of
   its credit, loses ``stop_loss`` times its credit, or has ``close_dte`` calendar
   days or fewer left; a condor reaching expiry settles at intrinsic value;
3. every ``open_every``-th replay day, while fewer than ``max_open`` are open, a
   condor is sold on the first SPX expiry (real calendar: weekly SPXW Fridays,
   holiday-adjusted) with ``dte_min`` to ``dte_max`` days left, short strikes at
   ``short_delta`` and wings ``wing_width`` points out (5-point grid:
   `Position.iron_condor_by_delta`); none after layer 3 has closed the book
   (`alvh.Rules.irr_action`) until the layer falls below 3;
4. with a policy, the held hedges' exits (`alvh.policy.exits`: layer left, take
   profit, VIX retrace, roll, expiry), then the day's decision and its trade: a hedge
   bought, a strike edit made to the condors for good, or layer 3's exit;
5. equity = cash + the model value of the open positions.

Only data up to each day is used that day: the step reads that day's closes, and the
book carries forward. Fills are model prices worsened by ``slippage`` index points per
option leg and contract, plus ``commission`` $ per contract, on the way in and out.

**Metrics** (`metrics`): from daily equity, with daily returns ``r``: CAGR over
calendar time, annualized vol ``std(r) sqrt(252)``, Sharpe ``(252 mean(r) - rf) /
vol``, Sortino (downside deviation ``sqrt(mean(min(r, 0)^2)) sqrt(252)``), max
drawdown, Calmar ``CAGR / max drawdown``, the worst day, CVaR 95 of daily returns
(the mean of the worst 5 %, as a positive fraction), and the number of trades.

**A replay is a fixed-size book on a fixed capital**: it sells the same condor every
week whatever its equity, so its returns are on the capital it was given, not
compounded: ``r = (equity_t - equity_{t-1}) / initial_capital``, the annual return is
the $ P&L over the capital per year (``annual_return``, in place of a CAGR), drawdowns
are $ below the running peak over the capital (they can exceed 100 %: a book that loses
more than its capital is still measured, and says so), and the policy's caps are
shares of that capital. Over 2000-2022 a 1-lot weekly condor book moves by tens of
thousands of $ on $100,000: compounding its returns on the running equity would
measure the account, not the strategy, and fail as soon as the losses exceed it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh import bsm
from alvh._core.types import FloatArray
from alvh.backtesting.reference import Vxth
from alvh.book.instruments import SpxOption, VixFuture
from alvh.book.position import Position
from alvh.calendar import next_spx_expiries
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.snapshot import Market
from alvh.market.ssvi import SsviSurface
from alvh.market.svi import SviSurface
from alvh.market.vix import VixFutures
from alvh.policy.decision import Action
from alvh.policy.engine import STRIKE_ADJUSTMENTS, early_activation_fires, rolled_hedge
from alvh.policy.exits import HeldHedge, contracts_sold, hedge_exit

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "TRADING_DAYS",
    "Assumptions",
    "CondorRules",
    "Costs",
    "Replay",
    "daily_states",
    "metrics",
    "replay",
    "replay_days",
]

#: Trading days per year (annualizing daily returns).
TRADING_DAYS = 252


def _check(name: str, value: Any, low: float, high: float, *, integer: bool = False) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (integer and not isinstance(value, int))
    ):
        kind = "an int" if integer else "a number"
        raise InputTypeError(f"{name} must be {kind}, got {type(value).__name__} {value!r}")
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidInputError(f"{name} must be in [{low:g}, {high:g}]; got {name} = {value!r}")


@dataclass(frozen=True)
class CondorRules:
    """When condors are opened and closed (module doc). Defaults: a 16-delta, 50-point
    wide condor every 5 trading days (weekly), 30-45 DTE, closed at 50 % of the credit,
    at 2x the credit lost, or at 7 DTE; at most 6 open.

    ``schedule = "monthly"`` opens one on the first replay day on or after the previous
    one's expiry (the first day of the replay to start), on a monthly (third-Friday) SPX
    expiry; ``wing_delta`` places the long strikes by delta instead of ``wing_width``;
    ``profit_target`` / ``stop_loss`` None: no such exit (held to ``close_dte``, 0:
    expiry). `CondorRules.cndr` is the Cboe S&P 500 Iron Condor index's book."""

    open_every: int = 5
    dte_min: int = 30
    dte_max: int = 45
    short_delta: float = 0.16
    wing_width: float = 50.0
    quantity: int = 1
    profit_target: float | None = 0.5
    stop_loss: float | None = 2.0
    close_dte: int = 7
    max_open: int = 6
    schedule: str = "weekly"
    wing_delta: float | None = None

    def __post_init__(self) -> None:
        if self.schedule not in ("weekly", "monthly"):
            raise InvalidInputError(
                f"schedule must be 'weekly' or 'monthly'; got schedule = {self.schedule!r}"
            )
        _check("open_every", self.open_every, 1, 250, integer=True)
        _check("dte_min", self.dte_min, 1, 730, integer=True)
        _check("dte_max", self.dte_max, self.dte_min, 730, integer=True)
        _check("short_delta", self.short_delta, 0.01, 0.49)
        _check("wing_width", self.wing_width, 5.0, 1000.0)
        if self.wing_delta is not None:
            _check("wing_delta", self.wing_delta, 0.001, self.short_delta - 0.001)
        _check("quantity", self.quantity, 1, 10_000, integer=True)
        if self.profit_target is not None:
            _check("profit_target", self.profit_target, 0.01, 1.0)
        if self.stop_loss is not None:
            _check("stop_loss", self.stop_loss, 0.1, 100.0)
        _check("close_dte", self.close_dte, 0, self.dte_min - 1, integer=True)
        _check("max_open", self.max_open, 1, 1000, integer=True)

    @classmethod
    def cndr(cls, quantity: int = 1) -> CondorRules:
        """The Cboe S&P 500 Iron Condor index (CNDR) as condor rules: at each monthly
        (third-Friday) roll, sell the next month's SPX condor, short strikes near 20 delta,
        long wings near 5 delta, held to expiry (settled at the close of the expiry day, a
        close-based stand-in for the index's morning settlement and 11:00 roll)."""
        return cls(
            schedule="monthly",
            dte_min=21,
            dte_max=50,
            short_delta=0.20,
            wing_delta=0.05,
            quantity=quantity,
            profit_target=None,
            stop_loss=None,
            close_dte=0,
            max_open=1,
        )


@dataclass(frozen=True)
class Costs:
    """``slippage``: index points per option leg and contract, against us on every fill
    (default 0.05, about half the 0.10 tick of SPX options above 3.00); ``commission``:
    $ per contract per fill (default 1.00, a typical retail SPX commission plus fees)."""

    slippage: float = 0.05
    commission: float = 1.0

    def __post_init__(self) -> None:
        _check("slippage", self.slippage, 0.0, 100.0)
        _check("commission", self.commission, 0.0, 1000.0)


@dataclass(frozen=True)
class Assumptions:
    """What the history does not give: the risk-free ``rate`` and dividend ``div``
    (continuously compounded; defaults 2 % and 1.8 %, the 2014-2018 averages of
    3-month bills and the S&P 500 yield, rounded), the VIX futures model and the SPX
    vol model (DESIGN.md defaults), and the ``initial_capital`` in $."""

    rate: float = 0.02
    div: float = 0.018
    initial_capital: float = 100_000.0
    futures: VixFutures = field(default_factory=VixFutures.mean_reverting)
    vol_model: SsviSurface | SviSurface = field(default_factory=SsviSurface)

    def __post_init__(self) -> None:
        _check("rate", self.rate, -0.5, 1.0)
        _check("div", self.div, -0.5, 1.0)
        _check("initial_capital", self.initial_capital, 1.0, 1e12)


@dataclass(frozen=True)
class Replay:
    """A replay's frames, in $:

    - ``equity``, one row per day: date, spx, vix, rate, cash, open_value (the condors'
      model value), hedge_value, equity, open_condors, layer, hedge_spend (bought today,
      costs included), hedge_proceeds (sold today, net of costs), hedges_held;
    - ``trades``, one row per condor closed: opened, closed, expiry, short strikes, widest
      wing, quantity, credit, edit_debit (what the policy's strike edits of it cost, a
      credit negative) and their number, exit value, P&L net of costs, costs, reason;
    - ``hedges``, one row per hedge (`Replay.hedge_log`): id, bought, sold (null while
      held at the end), layer (0: a reference hedge), kind (the action), what it was,
      paid (premium and costs), peak_value (its highest daily mark), received (every
      sale net of costs, or the model value of what is still held at the end), pnl,
      days held, the final exit reason and every event;
    - ``exits``: every sale of a hedge, by rule (`alvh.policy.exits.EXIT_RULES`, plus
      "book_closed"): hedge id, date, layer, rule, contracts sold of held, received, the
      reason in words;
    - ``edits``: the strike edits made to the condors (date, layer, action, what, $ paid);
    - ``open_condors``: the condors still open at the end, as ``trades`` rows at their
      last mark (closed null).

    The book's P&L splits into its condors' and its hedges' (`Replay.attribution`)."""

    equity: pl.DataFrame
    trades: pl.DataFrame
    condors: CondorRules
    costs: Costs
    assumptions: Assumptions
    decisions: tuple[Any, ...] = ()
    policy_name: str = "none"
    hedges: pl.DataFrame | None = None
    exits: pl.DataFrame | None = None
    edits: pl.DataFrame | None = None
    open_condors: pl.DataFrame | None = None

    def metrics(self) -> dict[str, float]:
        """`metrics` of this replay's equity curve, plus the hedging: ``hedge_spend``
        ($ premium and costs paid for hedges), ``hedge_pnl`` (what they returned net),
        ``adjustments`` (hedges bought, rolls included, and strike edits),
        ``book_exits`` (layer 3 closing or halving the book, `alvh.Rules.irr_action`) and the
        share of days in each layer (``days_layer_0`` .. ``days_layer_3``)."""
        dates = self.equity.get_column("date").to_list()
        out = metrics(
            self.equity.get_column("equity").to_numpy(),
            dates,
            rate=float(self.equity.get_column("rate").mean()),  # type: ignore[arg-type]
            trades=self.trades.height,
            capital=self.assumptions.initial_capital,
        )
        out["hedge_spend"] = float(self.equity.get_column("hedge_spend").sum())
        hedges = self.hedge_log()
        edits = 0 if self.edits is None else self.edits.height
        out["hedge_pnl"] = float(hedges.get_column("pnl").sum()) if hedges.height else 0.0
        out["adjustments"] = float(hedges.height + edits)
        exits = ("close_book", "reduce_book")
        out["book_exits"] = float(sum(1 for d in self.decisions if d.actions and d.actions[0].name in exits))
        layers = self.equity.get_column("layer").to_numpy()
        for k in range(4):
            out[f"days_layer_{k}"] = float(np.mean(layers == k))
        return out

    def hedge_log(self) -> pl.DataFrame:
        """One row per hedge (the ``hedges`` frame; empty for no hedge)."""
        import polars as pl

        if self.hedges is None:
            return pl.DataFrame(schema=_schema(_HEDGE_SCHEMA))
        return self.hedges

    def attribution(self) -> dict[str, float]:
        """The book's P&L ($, from the capital to the last day's equity) split: ``condors``
        (closed condors' P&L net of costs and strike edits, plus the open ones at their
        last mark less what they cost), ``hedges`` (every hedge's received less paid, those
        held at their last mark) and ``total`` (their sum, the equity's change to the
        cent: a test holds it)."""
        hedges = self.hedge_log()
        still = [] if self.open_condors is None else self.open_condors.get_column("pnl").to_list()
        condors = math.fsum(self.trades.get_column("pnl").to_list() + still)
        hedge_pnl = math.fsum(hedges.get_column("pnl").to_list()) if hedges.height else 0.0
        last = float(self.equity.get_column("equity")[-1])
        return {
            "condors": condors,
            "hedges": hedge_pnl,
            "total": condors + hedge_pnl,
            "equity_change": last - self.assumptions.initial_capital,
        }

    def layer_attribution(self) -> pl.DataFrame:
        """Per layer that bought hedges (0: a reference hedge): hedges bought, ``spend``
        ($ paid), ``payoff`` ($ received, held ones at their last mark), ``net``, and
        ``days_held`` (hedge-days); the strike edits it made and their cost."""
        import polars as pl

        hedges = self.hedge_log()
        by_layer = hedges.group_by("layer").agg(
            pl.len().alias("hedges"),
            pl.col("paid").sum().alias("spend"),
            pl.col("received").sum().alias("payoff"),
            pl.col("pnl").sum().alias("net"),
            pl.col("days").sum().alias("days_held"),
        )
        edits = self.edits if self.edits is not None else pl.DataFrame(schema=_schema(_EDIT_SCHEMA))
        edit_layers = edits.group_by("layer").agg(
            pl.len().alias("edits"), pl.col("paid").sum().alias("edit_paid")
        )
        joined = by_layer.join(edit_layers, on="layer", how="full", coalesce=True)
        return (
            joined.with_columns(
                pl.col("hedges", "days_held", "edits").fill_null(0).cast(pl.Int64),
                pl.col("spend", "payoff", "net", "edit_paid").fill_null(0.0),
            )
            .select("layer", "hedges", "spend", "payoff", "net", "days_held", "edits", "edit_paid")
            .sort("layer")
        )


@dataclass
class _Open:
    position: Position
    opened: dt.date
    credit: float  # $ model credit received (positive for a sold condor), before costs
    costs: float  # $ commissions and slippage paid so far
    debit: float = 0.0  # $ paid (credit: negative) for the policy's strike edits of it
    edits: int = 0  # strike edits (rolls, tightenings) made to it


@dataclass
class _Hedge:
    number: int  # 1, 2, ... in the order bought (the hedge log's id)
    position: Position
    name: str  # the action that bought it (`alvh.policy.config.ACTIONS`)
    layer: int  # the layer that placed it
    risk: float  # $ at risk (what the caps bound), for what is still held
    bought: dt.date
    paid: float  # $ premium and costs paid
    description: str
    basis: float  # $ premium paid for what is still held (the take-profit's "cost")
    vix_peak: float  # highest VIX close since bought
    peak_value: float = 0.0  # highest model value of what is held, $
    received: float = 0.0  # $ from sales so far, net of costs
    took_profit: bool = False
    events: list[str] = field(default_factory=list)

    @property
    def units(self) -> int:
        """Whole hedges held: the greatest common divisor of the legs' quantities (n put
        spreads: legs of +n and -n; n conversions: four legs of n)."""
        return math.gcd(*(abs(leg.quantity) for leg in self.position.legs))


def _scaled(position: Position, units: int, new_units: int) -> Position:
    """``position`` (``units`` hedges) cut to ``new_units`` of them."""
    return Position(
        tuple(replace(leg, quantity=leg.quantity // units * new_units) for leg in position.legs),
        name=position.name,
    )


def _value_any(position: Position, market: Market) -> float:
    """$ model value of any legs (VIX options on their future, VIX futures as
    ``N (F - entry)``), as `alvh.book.analytics` values them."""
    from alvh.book.analytics import value_at_spots

    return float(value_at_spots(position, market, np.array([market.spot]), market)[0])


def _values(positions: list[Position], market: Market) -> FloatArray:
    """$ model value of each position's SPX option legs (intrinsic for those expiring
    today or before), all legs priced in one vectorized call: the replay marks every
    open condor twice a day, and one call per condor was most of its time."""
    legs = [leg for position in positions for leg in position.legs if isinstance(leg, SpxOption)]
    owner = np.array(
        [i for i, position in enumerate(positions) for leg in position.legs if isinstance(leg, SpxOption)],
        dtype=np.int64,
    )
    if not legs:
        return np.zeros(len(positions))
    strike = np.array([leg.strike for leg in legs])
    is_call = np.array([leg.is_call for leg in legs])
    weight = np.array([leg.quantity * leg.multiplier for leg in legs], dtype=np.float64)
    days = np.array([(leg.expiry - market.as_of).days for leg in legs])
    spot = float(market.spot)
    intrinsic = np.where(is_call, np.maximum(spot - strike, 0.0), np.maximum(strike - spot, 0.0))
    live = days > 0
    values = intrinsic.copy()
    if live.any():
        expiries = np.array([leg.expiry for leg in legs], dtype="datetime64[D]")[live]
        values[live] = bsm.price(
            is_call=is_call[live],
            spot=spot,
            strike=strike[live],
            t=days[live] / 365.0,
            rate=market.rate,
            div=market.div,
            vol=market.spx_vol(strike[live], expiries),
        )
    # Per position, summed leg by leg in order (as a loop per position would).
    out = np.zeros(len(positions))
    for i, amount in zip(owner, values * weight):
        out[i] += amount
    return out


def _fill_costs(position: Position, costs: Costs) -> float:
    """$ slippage and commissions of trading every leg of ``position`` once."""
    contracts = sum(abs(leg.quantity) for leg in position.legs)
    return contracts * (costs.slippage * 100.0 + costs.commission)


def _expiry(day: dt.date, rules: CondorRules) -> dt.date | None:
    # Enough Fridays (or months) to reach dte_max, plus the partial ones at both ends.
    count = rules.dte_max // 7 + 2 if rules.schedule == "weekly" else rules.dte_max // 28 + 2
    for expiry in next_spx_expiries(day, count, schedule=rules.schedule):
        dte = (expiry - day).days
        if rules.dte_min <= dte <= rules.dte_max:
            return expiry
    return None


def _closes(frame: Any, name: str) -> dict[dt.date, float]:
    import polars as pl

    if not isinstance(frame, pl.DataFrame):
        raise InputTypeError(f"{name} must be a Polars DataFrame with date and close columns")
    for column in ("date", "close"):
        if column not in frame.columns:
            raise InvalidInputError(f"{name} has no {column!r} column (columns: {', '.join(frame.columns)})")
    dates = frame.get_column("date")
    if dates.dtype != pl.Date:
        raise InvalidInputError(f"{name}.date must be a pl.Date column, got {dates.dtype}")
    values = frame.get_column("close").cast(pl.Float64).to_list()
    days = dates.to_list()
    for i in range(1, len(days)):
        if days[i] <= days[i - 1]:
            problem = "duplicated" if days[i] == days[i - 1] else "out of order"
            raise InvalidInputError(f"{name}.date row {i}: {days[i]} is {problem}")
    out: dict[dt.date, float] = {}
    for i, (day, value) in enumerate(zip(days, values)):
        if value is None or not math.isfinite(value):
            continue  # a holiday row without a close (arch's VIX has some): no step
        if value <= 0.0:
            raise InvalidInputError(f"{name}.close row {i} ({day}) must be positive; got {value}")
        out[day] = value
    return out


def _days(
    spx_close: Mapping[dt.date, float],
    vix_close: Mapping[dt.date, float],
    start: dt.date | None,
    end: dt.date | None,
) -> list[dt.date]:
    """The replay's days: both closes, from ``start`` to ``end`` (inclusive)."""
    days = sorted(set(spx_close) & set(vix_close))
    days = [d for d in days if (start is None or d >= start) and (end is None or d <= end)]
    if not days:
        raise InvalidInputError("no day with both an SPX and a VIX close in the range")
    return days


def _rates_on(rates: Any, days: list[dt.date], constant: float) -> dict[dt.date, float]:
    """Each replay day's rate: ``rates``' row of that day, or ``constant`` without ``rates``."""
    import polars as pl

    if rates is None:
        return dict.fromkeys(days, constant)
    if not isinstance(rates, pl.DataFrame):
        kind = type(rates).__name__
        raise InputTypeError(f"rates must be a Polars DataFrame with date and rate columns, got {kind}")
    for column in ("date", "rate"):
        if column not in rates.columns:
            raise InvalidInputError(f"rates has no {column!r} column (columns: {', '.join(rates.columns)})")
    table = dict(zip(rates.get_column("date").to_list(), rates.get_column("rate").cast(pl.Float64).to_list()))
    out: dict[dt.date, float] = {}
    for day in days:
        value = table.get(day)
        if value is None:
            raise InvalidInputError(
                f"rates has no row for replay day {day} (alvh.backtesting.data.rates_for carries "
                "the last rate over bond-market holidays)"
            )
        if not (math.isfinite(value) and -0.05 <= value <= 0.25):
            raise InvalidInputError(f"rates.rate on {day} must be in [-0.05, 0.25]; got {value!r}")
        out[day] = value
    return out


def replay_days(
    spx: pl.DataFrame, vix: pl.DataFrame, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[dt.date]:
    """The days `replay` steps through for these histories and bounds."""
    return _days(_closes(spx, "spx"), _closes(vix, "vix"), start, end)


def replay(
    spx: pl.DataFrame,
    vix: pl.DataFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    condors: CondorRules | None = None,
    costs: Costs | None = None,
    assumptions: Assumptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    policy: Any = None,
    states: Mapping[dt.date, Any] | None = None,
    seed: int = 0,
    rates: pl.DataFrame | None = None,
    inputs: Any = None,
) -> Replay:
    """Replay the condor book over the days both ``spx`` and ``vix`` (Polars frames
    with ``date`` and ``close``) have a close, from ``start`` to ``end`` (inclusive);
    see the module doc. ``progress(done, total)`` is called every 20 days.

    With a ``policy`` (`alvh.Policy`), each day runs the layer policy on the day's
    `alvh.MarketState` (``states``, default `daily_states` of the two histories and
    ``inputs``, an `alvh.backtesting.inputs.StateInputs` of breadth, macro and rates): the
    VIX close moves the layer; on a day the layer changes, rises above the hedged
    one, or early activation could fire, ``policy.decide`` runs on the whole book
    (condors and hedges; portfolio value = the previous day's equity; committed risk
    = the open hedges' risk). A chosen hedge is bought at its model prices plus
    costs; a hedge is sold (model value minus costs) at the first close after a
    decision has moved the layer below the one that placed it (the sale is checked
    before the day's decision, so it comes one day after the layer falls), or the day
    before its first leg expires. Other days the
    decision would change nothing and is not run. Every run decision is kept in
    `Replay.decisions`.

    ``rates``: a Polars frame with ``date`` and ``rate`` (continuously compounded,
    decimal) holding every replay day, e.g. `alvh.backtesting.data.rates_for` of the
    sample's 3-month bill; each day's market (prices, the policy's projections) uses
    that day's rate, and the Sharpe and Sortino ratios the mean rate. Without it every
    day uses ``assumptions.rate``."""
    condors = condors or CondorRules()
    costs = costs or Costs()
    assumptions = assumptions or Assumptions()
    spx_close, vix_close = _closes(spx, "spx"), _closes(vix, "vix")
    days = _days(spx_close, vix_close, start, end)
    rate_on = _rates_on(rates, days, assumptions.rate)
    reference = isinstance(policy, Vxth)
    if policy is not None and not reference and states is None:
        states = daily_states(spx, vix, rules=policy.rules, inputs=inputs)
    book = _Book(condors, costs, assumptions, policy=policy, states=states, seed=seed)
    # The order of the steps within a day is part of every published number: a condor
    # closed today frees its slot for today's opening, and the decision sees today's book.
    for index, day in enumerate(days):
        market = Market(
            as_of=day,
            spot=spx_close[day],
            rate=rate_on[day],
            div=assumptions.div,
            vix=vix_close[day],
            futures=assumptions.futures,
            vol_model=assumptions.vol_model,
        )
        book.settle_and_close(day, market)
        if book.opens_today(index, day):
            book.open_condor(day, market)
        if policy is None:
            spend = 0.0
        elif reference:
            spend = book.reference_step(day, market)
        else:
            spend = book.policy_step(index, day, market)
        book.record(day, market, spx=spx_close[day], vix=vix_close[day], hedge_spend=spend)
        if progress is not None and (index % 20 == 19 or index == len(days) - 1):
            progress(index + 1, len(days))
    frames = book.frames()
    return Replay(
        equity=frames["equity"],
        trades=frames["trades"],
        hedges=frames["hedges"],
        exits=frames["exits"],
        edits=frames["edits"],
        open_condors=frames["open_condors"],
        condors=condors,
        costs=costs,
        assumptions=assumptions,
        decisions=tuple(book.decisions),
        policy_name="none" if policy is None else policy.name,
    )


#: The frames' columns and Polars types (by name: polars loads on first use).
_TRADE_SCHEMA = {
    "opened": "Date",
    "closed": "Date",
    "expiry": "Date",
    "short_put": "Float64",
    "short_call": "Float64",
    "width": "Float64",
    "quantity": "Int64",
    "credit": "Float64",
    "edit_debit": "Float64",
    "edits": "Int64",
    "exit_value": "Float64",
    "pnl": "Float64",
    "costs": "Float64",
    "reason": "String",
}
_HEDGE_SCHEMA = {
    "hedge_id": "Int64",
    "bought": "Date",
    "sold": "Date",
    "layer": "Int64",
    "kind": "String",
    "hedge": "String",
    "paid": "Float64",
    "peak_value": "Float64",
    "received": "Float64",
    "pnl": "Float64",
    "days": "Int64",
    "reason": "String",
    "events": "String",
}
_EXIT_SCHEMA = {
    "hedge_id": "Int64",
    "date": "Date",
    "layer": "Int64",
    "rule": "String",
    "sold": "Int64",
    "of": "Int64",
    "received": "Float64",
    "reason": "String",
}
_EDIT_SCHEMA = {"date": "Date", "layer": "Int64", "action": "String", "edit": "String", "paid": "Float64"}
_EQUITY_COLUMNS = (
    "date",
    "spx",
    "vix",
    "rate",
    "cash",
    "open_value",
    "hedge_value",
    "equity",
    "open_condors",
    "layer",
    "hedge_spend",
    "hedge_proceeds",
    "hedges_held",
)


def _schema(names: Mapping[str, str]) -> dict[str, Any]:
    import polars as pl

    return {name: getattr(pl, kind) for name, kind in names.items()}


class _Book:
    """The replay's book between days: cash, the open condors and hedges, the policy's
    layer, and what is recorded (trades, hedges, their exits, decisions, the daily equity
    rows). One method per step of a day, called in `replay`'s order."""

    def __init__(
        self,
        condors: CondorRules,
        costs: Costs,
        assumptions: Assumptions,
        *,
        policy: Any,
        states: Mapping[dt.date, Any] | None,
        seed: int,
    ) -> None:
        self.rules, self.costs = condors, costs
        self.policy, self.states, self.seed = policy, states, seed
        self.cash = self.capital = assumptions.initial_capital
        self.condors: list[_Open] = []
        self.hedges: list[_Hedge] = []
        self.decisions: list[Any] = []
        self.layer, self.acted = 0, 0
        self.bought = 0  # hedges bought so far (their numbers)
        self.next_open: dt.date | None = None  # a monthly schedule's next roll day
        self.next_hedge: dt.date | None = None  # a reference hedge's next roll day
        self.closed_book = False  # layer 3 closed the book and still holds: no new condor
        self.previous_equity = self.cash  # the base of the policy's caps
        self.proceeds = 0.0  # $ from hedges sold today (`record` writes it and starts the next day at 0)
        self.marks: dict[int, float] = {}  # id of an open condor -> today's mark
        self.hedge_marks: list[float] = []  # each held hedge's model value at the last record
        self.hedge_rows: dict[str, list[Any]] = {k: [] for k in _HEDGE_SCHEMA}
        self.exit_rows: dict[str, list[Any]] = {k: [] for k in _EXIT_SCHEMA}
        self.edit_rows: dict[str, list[Any]] = {k: [] for k in _EDIT_SCHEMA}
        self.rows: dict[str, list[Any]] = {k: [] for k in _EQUITY_COLUMNS}
        self.trades: dict[str, list[Any]] = {k: [] for k in _TRADE_SCHEMA}

    # ------------------------------------------------------------------ condors

    def settle_and_close(self, day: dt.date, market: Market) -> None:
        """Mark each open condor: settle it at expiry, or close it at the profit target,
        the stop loss or ``close_dte``; keep the rest."""
        rules, costs = self.rules, self.costs
        still: list[_Open] = []
        self.marks = {}  # today's mark of each condor kept open, reused by `record`
        marks = _values([item.position for item in self.condors], market)
        for item, mark in zip(self.condors, marks):
            expiry = item.position.legs[0].expiry
            value = float(mark)
            pnl = item.credit - item.debit + value
            if expiry <= day:  # settled at intrinsic: no fill, no costs
                self._close(item, day, value, "expiry", 0.0)
            elif rules.profit_target is not None and pnl >= rules.profit_target * item.credit:
                self._close(item, day, value, "profit target", _fill_costs(item.position, costs))
            elif rules.stop_loss is not None and pnl <= -rules.stop_loss * item.credit:
                self._close(item, day, value, "stop loss", _fill_costs(item.position, costs))
            elif (expiry - day).days <= rules.close_dte:
                self._close(item, day, value, "dte", _fill_costs(item.position, costs))
            else:
                still.append(item)
                self.marks[id(item)] = value
        self.condors = still

    def _close(self, item: _Open, day: dt.date | None, value: float, reason: str, fees: float) -> None:
        """Take a condor's exit ``value`` less ``fees`` into cash and write its trade row
        (``day`` None: still open at the end, its row at its last mark, no cash moved)."""
        if day is not None:
            self.cash += value - fees
        legs = [leg for leg in item.position.legs if isinstance(leg, SpxOption)]
        puts = [leg.strike for leg in legs if not leg.is_call and leg.quantity < 0]
        calls = [leg.strike for leg in legs if leg.is_call and leg.quantity < 0]
        long_puts = [leg.strike for leg in legs if not leg.is_call and leg.quantity > 0]
        long_calls = [leg.strike for leg in legs if leg.is_call and leg.quantity > 0]
        widths = [s - lp for s, lp in zip(puts, long_puts)] + [lc - s for s, lc in zip(calls, long_calls)]
        trades = self.trades
        trades["opened"].append(item.opened)
        trades["closed"].append(day)
        trades["expiry"].append(legs[0].expiry)
        trades["short_put"].append(puts[0] if puts else None)
        trades["short_call"].append(calls[0] if calls else None)
        trades["width"].append(max(widths) if widths else self.rules.wing_width)
        trades["quantity"].append(self.rules.quantity)
        trades["credit"].append(item.credit)
        trades["edit_debit"].append(item.debit)
        trades["edits"].append(item.edits)
        trades["exit_value"].append(value)
        trades["pnl"].append(item.credit - item.debit + value - item.costs - fees)
        trades["costs"].append(item.costs + fees)
        trades["reason"].append(reason)

    def opens_today(self, index: int, day: dt.date) -> bool:
        """Whether the schedule sells a condor today (weekly: every ``open_every``-th
        replay day; monthly: on or after the last one's expiry); never while layer 3's
        close of the book stands (until the layer falls below 3)."""
        if self.closed_book:
            return False
        if self.rules.schedule == "weekly":
            return index % self.rules.open_every == 0
        return self.next_open is None or day >= self.next_open

    def open_condor(self, day: dt.date, market: Market) -> None:
        """Sell the scheduled condor, if fewer than ``max_open`` are open, an expiry fits
        the DTE window and it takes in a credit."""
        rules = self.rules
        if len(self.condors) >= rules.max_open:
            return
        target = _expiry(day, rules)
        if target is None:
            return
        position = Position.iron_condor_by_delta(
            target,
            market=market,
            short_delta=rules.short_delta,
            wing_width=rules.wing_width,
            quantity=rules.quantity,
            wing_delta=rules.wing_delta,
        )
        credit = position.credit
        fees = _fill_costs(position, self.costs)
        if credit > 0.0:
            self.cash += credit - fees
            self.condors.append(_Open(position, day, credit, fees))
            self.next_open = target

    def _edit_condors(self, day: dt.date, trade: Position, layer: int, action: Any) -> float:
        """A strike adjustment (`alvh.policy.engine.STRIKE_ADJUSTMENTS`) made to the condors
        it moves, for good: each closed leg is replaced by its moved leg, the debit (credit:
        negative) and costs are the condor's; $ paid."""
        half = len(trade.legs) // 2  # `engine._move`: the closing legs, then the opening ones
        paid = 0.0
        for close, opened in zip(trade.legs[:half], trade.legs[half:]):
            assert isinstance(close, SpxOption) and isinstance(opened, SpxOption)
            owner = next(
                (
                    item
                    for item in self.condors
                    if any(
                        isinstance(leg, SpxOption)
                        and (leg.expiry, leg.strike, leg.is_call, leg.quantity)
                        == (close.expiry, close.strike, close.is_call, -close.quantity)
                        for leg in item.position.legs
                    )
                ),
                None,
            )
            if owner is None:  # the engine moves only legs of the book it was given
                raise InvalidInputError(f"{day}: the strike edit moves a leg no open condor holds: {close}")
            legs = list(owner.position.legs)
            at = next(
                i
                for i, leg in enumerate(legs)
                if isinstance(leg, SpxOption)
                and (leg.expiry, leg.strike, leg.is_call, leg.quantity)
                == (close.expiry, close.strike, close.is_call, -close.quantity)
            )
            legs[at] = opened
            owner.position = Position(tuple(legs), name=owner.position.name)
            self.marks.pop(id(owner), None)  # re-marked with its new legs by `record`
            debit = close.entry_cost + opened.entry_cost
            fees = _fill_costs(Position((close, opened)), self.costs)
            owner.debit += debit
            owner.costs += fees
            paid += debit + fees
            self.cash -= debit + fees
        for item in self.condors:
            item.edits += any(leg in trade.legs for leg in item.position.legs)
        rows = self.edit_rows
        rows["date"].append(day)
        rows["layer"].append(layer)
        rows["action"].append(action.name)
        rows["edit"].append(action.description)
        rows["paid"].append(paid)
        return paid

    # ------------------------------------------------------------------ hedges

    def policy_step(self, index: int, day: dt.date, market: Market) -> float:
        """The held hedges' exits (and rolls), the policy's decision, its trade; $ spent."""
        spend = self._exits(index, day, market)
        decision = self._decide(index, day, market)
        if decision is not None and decision.actions:
            action = decision.actions[0]
            if action.name in ("close_book", "reduce_book"):
                everything = action.name == "close_book"
                self._exit_condors(day, market, everything)
                if everything:  # the whole book goes, its hedges with it, and stays out
                    self.closed_book = True
                    for held in list(self.hedges):
                        self._sell(held, day, market, 1.0, "book_closed", "layer 3: book closed")
            elif action.name in STRIKE_ADJUSTMENTS:
                self._edit_condors(day, decision.hedge(), self.layer, action)
            else:
                spend += self._buy(decision.hedge(), action, self.layer, day, market)
        return spend

    def _exit_condors(self, day: dt.date, market: Market, everything: bool) -> None:
        """Layer 3's exit (`alvh.Rules.irr_action`): close every open condor, or the half
        (rounded up) marked worst, at model value less costs."""
        if not self.condors:
            return
        marks = [float(m) for m in _values([item.position for item in self.condors], market)]
        order = sorted(
            range(len(self.condors)),
            key=lambda i: self.condors[i].credit - self.condors[i].debit + marks[i],
        )
        count = len(order) if everything else math.ceil(len(order) / 2)
        chosen = set(order[:count])
        kept = []
        for i, item in enumerate(self.condors):
            if i in chosen:
                self._close(
                    item, day, marks[i], "layer 3: IRR below CAPM", _fill_costs(item.position, self.costs)
                )
            else:
                kept.append(item)
        self.condors = kept

    def _value(self, position: Position, market: Market) -> float:
        """$ model value of a hedge's legs; a leg whose expiry fell on a day the history
        lacks (the replay steps only through days with both closes) is settled at its
        intrinsic value against the last closes on or before its expiry."""
        expired = [leg for leg in position.legs if leg.expiry < market.as_of]
        if not expired:
            return _value_any(position, market)
        live = Position(tuple(leg for leg in position.legs if leg.expiry >= market.as_of))
        total = _value_any(live, market) if live.legs else 0.0
        for leg in expired:
            before = [d for d in self.rows["date"] if d <= leg.expiry]
            row = len(before) - 1
            if isinstance(leg, SpxOption):
                level = self.rows["spx"][row] if row >= 0 else float(market.spot)
                sign = 1.0 if leg.is_call else -1.0
                total += leg.quantity * leg.multiplier * max(sign * (level - leg.strike), 0.0)
                continue
            level = self.rows["vix"][row] if row >= 0 else float(market.vix)
            if isinstance(leg, VixFuture):
                total += leg.quantity * leg.multiplier * (level - leg.entry_price)
            else:
                sign = 1.0 if leg.is_call else -1.0
                total += leg.quantity * leg.multiplier * max(sign * (level - leg.strike), 0.0)
        return total

    def _buy(self, legs: Position, action: Any, layer: int, day: dt.date, market: Market) -> float:
        """Buy ``legs`` (the action's hedge) at their model prices plus costs; $ paid."""
        paid = -legs.credit + _fill_costs(legs, self.costs)
        self.cash -= paid
        self.bought += 1
        self.hedges.append(
            _Hedge(
                number=self.bought,
                position=legs,
                name=action.name,
                layer=layer,
                risk=action.risk,
                bought=day,
                paid=paid,
                description=action.description,
                basis=max(-legs.credit, 0.0),  # premium: futures and conversions have none
                vix_peak=float(market.vix),
            )
        )
        return paid

    def _sell(
        self,
        held: _Hedge,
        day: dt.date,
        market: Market,
        share: float,
        rule: str,
        text: str,
        *,
        fees: bool = True,
    ) -> float:
        """Sell ``share`` of ``held`` (whole hedges) at model value less costs (``fees``
        False: settled at expiry, no fill); log the exit (and the hedge's row once all of
        it is sold); $ received."""
        units = held.units
        sold = contracts_sold(units, share)
        part = held.position if sold == units else _scaled(held.position, units, sold)
        value = self._value(part, market)
        received = value - (_fill_costs(part, self.costs) if fees else 0.0)
        self.cash += received
        self.proceeds += received
        held.received += received
        rows = self.exit_rows
        rows["hedge_id"].append(held.number)
        rows["date"].append(day)
        rows["layer"].append(held.layer)
        rows["rule"].append(rule)
        rows["sold"].append(sold)
        rows["of"].append(units)
        rows["received"].append(received)
        rows["reason"].append(text)
        held.events.append(f"{day}: {text} ({sold} of {units}, {received:+,.0f} $)")
        if sold == units:
            self.hedges.remove(held)
            self._hedge_row(held, day, text)
        else:
            keep = units - sold
            held.position = _scaled(held.position, units, keep)
            held.basis *= keep / units
            held.risk *= keep / units
        return received

    def _exits(self, index: int, day: dt.date, market: Market) -> float:
        """Each held hedge's exit rules (`alvh.policy.exits.hedge_exit`) on today's close:
        sell, sell a share, or roll; $ spent on rolls."""
        spend = 0.0
        vix = float(market.vix)
        for held in list(self.hedges):
            held.vix_peak = max(held.vix_peak, vix)
            value = self._value(held.position, market)
            first = min(leg.expiry for leg in held.position.legs)
            found = hedge_exit(
                self.policy.layers,
                HeldHedge(
                    layer=held.layer,
                    cost=held.basis,
                    value=value,
                    vix_peak=held.vix_peak,
                    days_to_expiry=(first - day).days,
                    took_profit=held.took_profit,
                ),
                layer=self.layer,
                vix=vix,
            )
            if found is None:
                continue
            if found.rule == "roll":
                spend += self._roll(index, held, day, market, found.text)
                continue
            if found.rule == "take_profit":
                held.took_profit = True
            self._sell(held, day, market, found.share, found.rule, found.text)
            if found.restrike:  # the layer may buy again today (at today's strikes)
                self.acted = min(self.acted, held.layer - 1)
        return spend

    def _roll(self, index: int, held: _Hedge, day: dt.date, market: Market, text: str) -> float:
        """Sell ``held`` and buy the same kind on the next expiry, sized again to the book
        (without it) within what the caps leave; $ paid for the new one."""
        policy = self.policy
        # the book without the hedge, and without legs inside the roll window (an SPX put
        # spread goes to the first condor expiry past it, not the one expiring with it)
        window = policy.layers[held.layer - 1].roll_days
        book = Position(
            tuple(
                leg
                for leg in (
                    *(leg for item in self.condors for leg in item.position.legs),
                    *(leg for other in self.hedges if other is not held for leg in other.position.legs),
                )
                if (leg.expiry - day).days > window
            )
        )
        committed = math.fsum(other.risk for other in self.hedges if other is not held)
        budget = min(
            policy.sizing.layer_cap * self.capital, policy.sizing.total_cap * self.capital - committed
        )
        made = (
            rolled_hedge(policy, held.name, book, market, budget=budget, seed=self.seed + index)
            if budget > 0.0 and book.legs
            else "the caps leave no budget"
            if budget <= 0.0
            else "no open condor to hedge"
        )
        if isinstance(made, str):
            self._sell(held, day, market, 1.0, "expiry", f"{text}; nothing bought: {made}")
            return 0.0
        legs, action = made
        self._sell(held, day, market, 1.0, "roll", f"{text}: rolled to hedge {self.bought + 1}")
        return self._buy(
            legs,
            replace(action, description=f"roll of hedge {held.number}: {action.description}"),
            held.layer,
            day,
            market,
        )

    def _hedge_row(self, held: _Hedge, sold: dt.date | None, reason: str, value: float = 0.0) -> None:
        """The hedge log's row of ``held`` (``value``: the model value of what is still
        held, at the end of the replay)."""
        rows = self.hedge_rows
        received = held.received + value
        rows["hedge_id"].append(held.number)
        rows["bought"].append(held.bought)
        rows["sold"].append(sold)
        rows["layer"].append(held.layer)
        rows["kind"].append(held.name)
        rows["hedge"].append(held.description)
        rows["paid"].append(held.paid)
        rows["peak_value"].append(held.peak_value)
        rows["received"].append(received)
        rows["pnl"].append(received - held.paid)
        rows["days"].append(((sold or self.rows["date"][-1]) - held.bought).days)
        rows["reason"].append(reason)
        rows["events"].append("; ".join(held.events))

    def _decide(self, index: int, day: dt.date, market: Market) -> Any:
        """Move the layer; on a day the decision could change something, run
        ``policy.decide`` on the whole book and keep it (None on other days)."""
        policy = self.policy
        assert self.states is not None
        state = self.states.get(day)
        if state is None:
            raise InvalidInputError(f"states has no MarketState for {day}")
        regime = policy.next_layer(state.vix, self.layer)
        early = (
            self.layer == 0
            and policy.layers[0].enabled
            and policy.rules.early_activation
            and early_activation_fires(policy.rules, state)
        )
        if not ((regime != self.layer or regime > self.acted or early) and (self.condors or self.hedges)):
            self.layer, self.acted = regime, min(self.acted, regime)
            self.closed_book = self.closed_book and regime >= 3
            return None
        # The whole book, built only on the days a decision runs.
        whole = Position(
            tuple(leg for item in self.condors for leg in item.position.legs)
            + tuple(leg for held in self.hedges for leg in held.position.legs)
        )
        decision = policy.decide(
            state,
            whole,
            market,
            layer=self.layer,
            acted=self.acted,
            portfolio_value=self.capital,
            committed_risk=math.fsum(held.risk for held in self.hedges),
            seed=self.seed + index,
        )
        self.decisions.append(decision)
        self.layer, self.acted = decision.layer_after, int(decision.extra["acted"])
        self.closed_book = self.closed_book and self.layer >= 3
        return decision

    def reference_step(self, day: dt.date, market: Market) -> float:
        """A `alvh.backtesting.reference.Vxth` policy: on the first day and on each VIX
        expiry, settle the expiring calls and buy the month's; $ spent."""
        from alvh.calendar import vix_expiries_after

        if self.next_hedge is not None and day < self.next_hedge:
            return 0.0
        for held in list(self.hedges):  # held to expiry: settled, no fill
            self._sell(held, day, market, 1.0, "expiry", "VXTH: settled at expiry", fees=False)
        self.next_hedge = vix_expiries_after(day, 1)[0]
        if not self.condors:
            return 0.0
        made = self.policy.calls(market, self.capital)
        if made is None:
            return 0.0
        legs, text = made
        premium = -legs.credit
        contracts = float(sum(abs(leg.quantity) for leg in legs.legs))
        return self._buy(legs, Action("vxth_calls", text, contracts, premium, premium), 0, day, market)

    # ------------------------------------------------------------------ the day's row

    def record(self, day: dt.date, market: Market, *, spx: float, vix: float, hedge_spend: float) -> None:
        """The day's equity row: cash plus the model value of the open condors and hedges."""
        fresh = [item for item in self.condors if id(item) not in self.marks]  # opened or edited today
        for item, mark in zip(fresh, _values([item.position for item in fresh], market)):
            self.marks[id(item)] = float(mark)
        open_value = math.fsum(self.marks[id(item)] for item in self.condors)
        self.hedge_marks = [self._value(held.position, market) for held in self.hedges]
        for held, mark in zip(self.hedges, self.hedge_marks):
            held.peak_value = max(held.peak_value, mark)
        hedge_value = math.fsum(self.hedge_marks)
        self.previous_equity = self.cash + open_value + hedge_value
        rows = self.rows
        rows["date"].append(day)
        rows["spx"].append(spx)
        rows["vix"].append(vix)
        rows["rate"].append(market.rate)
        rows["cash"].append(self.cash)
        rows["open_value"].append(open_value)
        rows["hedge_value"].append(hedge_value)
        rows["equity"].append(self.previous_equity)
        rows["open_condors"].append(len(self.condors))
        rows["layer"].append(self.layer)
        rows["hedge_spend"].append(hedge_spend)
        rows["hedge_proceeds"].append(self.proceeds)
        rows["hedges_held"].append(len(self.hedges))
        self.proceeds = 0.0

    def frames(self) -> dict[str, pl.DataFrame]:
        """The equity rows, trades, hedges, exits and strike edits as Polars frames (the
        hedges still held at the end at their last model value, not sold)."""
        import polars as pl

        for held, mark in zip(self.hedges, self.hedge_marks):
            self._hedge_row(held, None, "held at the end (model value)", mark)
        closed = pl.DataFrame(self.trades, schema=_schema(_TRADE_SCHEMA))
        for item in self.condors:  # a row each, at its last mark, so the frames add up
            self._close(item, None, self.marks[id(item)], "open at the end (model value)", 0.0)
        return {
            "equity": pl.DataFrame(self.rows),
            "trades": closed,
            "open_condors": pl.DataFrame(self.trades, schema=_schema(_TRADE_SCHEMA)).slice(closed.height),
            "hedges": pl.DataFrame(self.hedge_rows, schema=_schema(_HEDGE_SCHEMA)),
            "exits": pl.DataFrame(self.exit_rows, schema=_schema(_EXIT_SCHEMA)),
            "edits": pl.DataFrame(self.edit_rows, schema=_schema(_EDIT_SCHEMA)),
        }


def metrics(
    equity: Any,
    dates: list[dt.date],
    *,
    rate: float = 0.0,
    trades: int | None = None,
    capital: float | None = None,
) -> dict[str, float]:
    """The metrics of the module doc from a daily equity curve (``equity[i]`` on
    ``dates[i]``); returns and drawdowns as fractions.

    Without ``capital``: returns compound on the running equity (``cagr``; the equity
    must stay positive). With ``capital`` (a replay's fixed book): returns are the daily
    $ changes over ``capital``, ``annual_return`` replaces ``cagr`` (the $ P&L over the
    capital per year of calendar time), drawdowns are $ over ``capital``, and ``pnl``
    is the $ P&L."""
    values = np.asarray(equity, dtype=np.float64)
    if values.ndim != 1 or values.size < 2 or len(dates) != values.size:
        raise InvalidInputError("equity needs at least two days, one value per date")
    if not np.isfinite(values).all():
        raise InvalidInputError("equity must be finite")
    years = (dates[-1] - dates[0]).days / 365.0
    peak = np.maximum.accumulate(values)
    if capital is None:
        if not (values > 0).all():
            raise InvalidInputError("equity must stay positive and finite (the book was wiped out)")
        returns = values[1:] / values[:-1] - 1.0
        growth = (values[-1] / values[0]) ** (1.0 / years) - 1.0 if years > 0 else float("nan")
        drawdown = 1.0 - values / peak
    else:
        if not (math.isfinite(capital) and capital > 0):
            raise InvalidInputError(f"capital must be a positive $ amount; got {capital!r}")
        returns = np.diff(values) / capital
        growth = (values[-1] - values[0]) / capital / years if years > 0 else float("nan")
        drawdown = (peak - values) / capital
    vol = float(np.std(returns, ddof=1) * math.sqrt(TRADING_DAYS))
    excess = float(np.mean(returns) * TRADING_DAYS - rate)
    downside = float(math.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)) * math.sqrt(TRADING_DAYS))
    max_dd = float(drawdown.max())
    tail = np.sort(returns)[: max(1, int(math.ceil(0.05 * returns.size)))]
    out = {
        "cagr" if capital is None else "annual_return": float(growth),
        "vol": vol,
        "sharpe": excess / vol if vol > 0 else float("nan"),
        "sortino": excess / downside if downside > 0 else float("nan"),
        "max_drawdown": max_dd,
        "calmar": float(growth / max_dd) if max_dd > 0 else float("nan"),
        "worst_day": float(returns.min()),
        "cvar95_daily": float(-tail.mean()),
    }
    if capital is not None:
        out["pnl"] = float(values[-1] - values[0])
    if trades is not None:
        out["trades"] = float(trades)
    return out


def daily_states(
    spx: pl.DataFrame, vix: pl.DataFrame, *, rules: Any = None, inputs: Any = None
) -> dict[dt.date, Any]:
    """The `alvh.MarketState` of every day both frames have a close: from the SPX and VIX
    histories, MACD(12, 26, 9) histogram and its expanding flag, the VIX's RSI(14) and
    implied minus 20-day realized vol; from ``inputs`` (`alvh.backtesting.inputs.StateInputs`,
    e.g. `sample_inputs` of the bundled sample), the breadth, macro and rate diagnostics;
    every other input is missing and said so.

    The indicators are causal (each day's value reads rows up to that day only), so one
    pass over the whole history gives, day by day, what ``MarketState.from_history(day,
    spx=..., vix=...)`` computes from the history cut at that day (a test holds them
    equal) — in milliseconds for 20 years instead of 24 ms a day.
    """
    import polars as pl

    from alvh.policy.config import Rules
    from alvh.policy.indicators import trend, volatility
    from alvh.policy.state import MACD_FAST, MACD_SIGNAL, MACD_SLOW, REALIZED_WINDOW, RSI_PERIOD, MarketState

    rules = rules or Rules()

    def observed(frame: pl.DataFrame) -> pl.DataFrame:
        close = pl.col("close").cast(pl.Float64)
        return frame.select("date", close.alias("close")).filter(close.is_not_null() & ~close.is_nan())

    s = (
        observed(spx)
        .with_columns(
            trend.macd_hist("close", fast=MACD_FAST, slow=MACD_SLOW, signal=MACD_SIGNAL).alias("hist"),
            volatility.close_to_close("close", window=REALIZED_WINDOW).alias("realized"),
        )
        .with_columns(trend.expanding("hist", days=rules.macd_expanding_days).alias("expanding"))
    )
    v = observed(vix).with_columns(trend.rsi("close", period=RSI_PERIOD).alias("rsi"))
    joined = s.join(v, on="date", how="inner", suffix="_vix").with_columns(
        volatility.implied_minus_realized(pl.col("close_vix"), pl.col("realized")).alias("imr")
    )

    def clean(x: Any) -> Any:
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else x

    from alvh.backtesting.inputs import StateInputs, input_columns

    inputs = inputs if inputs is not None else StateInputs()
    if not isinstance(inputs, StateInputs):
        raise InputTypeError(
            f"inputs must be an alvh.backtesting.inputs.StateInputs, got {type(inputs).__name__}"
        )
    days = joined["date"].to_list()
    closes = joined["close_vix"].to_list()
    extra = input_columns(days, joined.select("date", "close"), inputs, rules, closes) if days else {}
    states = {}
    for row in joined.iter_rows(named=True):
        values, found = extra[row["date"]]

        def of(*names: str, found: list[str] = found) -> list[str]:
            return [m for m in found if m.split(":", 1)[0].startswith(names)]

        missing = (
            *of("vix_futures", "vix_vx1", "vx1_vx2"),
            *of("breadth", "ad_divergence"),
            *of("rates", "rate_"),
            *of("skew"),
            "correlations: not given",
            *of("cpi_yoy", "ppi_yoy", "fomc_tone", "macro"),
        )
        states[row["date"]] = MarketState(
            date=row["date"],
            vix=float(row["close_vix"]),
            spx=float(row["close"]),
            macd_hist=clean(row["hist"]),
            macd_expanding=clean(row["expanding"]),
            vix_rsi=clean(row["rsi"]),
            implied_minus_realized=clean(row["imr"]),
            realized_estimator=None if clean(row["imr"]) is None else "close_to_close",
            missing=missing,
            **values,
        )
    return states
