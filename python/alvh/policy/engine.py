"""`Policy.decide`: one day's layer decision for a book (DESIGN.md "The layer policy").

``decide(policy, state, position, market, layer=..., portfolio_value=...)`` is a pure,
deterministic function of its inputs (the projection is seeded) and returns an
`alvh.Decision`:

1. **Layer.** The VIX close moves the layer through the policy's state machine
   (`Policy.next_layer`: bands, hysteresis, exit buffers). Rule (b), *early
   activation*: below layer 1's band, the SPX MACD histogram expanding while the A/D
   line diverges negatively (or the put skew steepens) starts layer 1.
2. **Whether to act.** Only a layer above the one already hedged (``acted``) has
   actions to take. Rule (a): inside the layer-1 band, act only on evidence of a
   regime shift (any of: MACD expanding, A/D divergence, VIX futures backwardation,
   skew steepening, a correlation tightening, the VIX's RSI overbought, a custom
   series past its threshold), otherwise call it noise and wait, on every day the book
   sits in layer 1 with nothing acted (not only the day it enters). Rule (c),
   *patience*: contained CPI and PPI, a steady FOMC and a breadth bid let layers 1-2
   wait for the next band. Rule (d), *time-shift check*: project the book
   ``rules.projection_days`` forward (``rules.projection_paths`` paths per scenario,
   the built-in GDP x earnings scenarios); if its CVaR 95 is inside
   ``rules.cvar_budget`` of the portfolio the layer stands and its actions wait.
3. **What to do.** Rule (e): each candidate action of the layer is sized to offset
   ``sizing.hedge_share`` of the exposure it addresses, then clipped so that its risk
   (its own projected loss at the CVaR 95 level over the horizon: a synthetic future
   carries its real risk, not its commissions) stays within ``sizing.layer_cap`` of the
   portfolio (and the layers together within ``sizing.total_cap``, the earlier layers'
   committed risk carried in the journal). Rule (f): each sized candidate is projected with the
   book, and the one with the largest CVaR 95 reduction per dollar of cost is
   chosen (none if no candidate reduces it); each candidate's theta given up per $ of
   CVaR cut is reported and breaks ties (temporal theta: keep the decay that pays).

A missing diagnostic skips its rule and the rationale says so. Every number in the
decision is recomputed from the inputs; nothing reads the clock.

Candidates (on the real SPX 5-point and VIX 1-point strike grids, priced with the
market model, fills at model prices):

- ``short_vix_calls``: VIX calls on the first VIX expiry at least 14 days out,
  strike the future + 3 points, as many as offset the book's $ per VIX point.
- ``long_vix_calls``: the same on the first expiry at least 45 days out, strike the
  future + 5.
- ``vix_futures``: long VIX futures (first expiry at least 14 days out) offsetting the
  book's $ per VIX point (the grid's +1 point VIX shift).
- ``spx_put_spread``: put spreads at the book's SPX expiry, long 3 % below spot, short
  50 points lower, as many as offset the book's loss on a 5 % SPX fall.
- ``roll_short_strikes``: the threatened short strikes (within ``sizing.threat_sd``
  standard deviations of the spot: both sides when both are; the nearest when none is)
  and their wings move ``sizing.roll_points`` (15-25) away; cost = risk = the debit.
- ``tighten_untested``: on an expiry with one side threatened, the other side's short
  strike and wing move ``sizing.roll_points`` toward the spot for a credit; cost = minus
  the credit, risk = 0 (the width and so the max loss stay; the credit lowers it; the
  higher chance of a loss is what the projection ranks). When a correlation
  tightening fires, rule (f) prefers these two strike adjustments.
- ``neutralize_delta``: reversals (or conversions) at the nearest strike to spot,
  offsetting the book's delta; cost = ``sizing.cost_per_contract`` per contract (the
  trade is near zero premium).

Every candidate's risk is its own projected CVaR 95 loss (rule (e)).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh import black76, bsm
from alvh.book import analytics
from alvh.book.instruments import SpxOption, VixFuture, VixOption
from alvh.book.position import Position
from alvh.calendar import vix_expiries_after
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market.snapshot import Market
from alvh.policy.decision import Action, Decision, Diagnostic

if TYPE_CHECKING:
    from alvh.policy.config import Policy

__all__ = [
    "PATIENCE_CONDITIONS",
    "ROLES",
    "SCENARIOS",
    "VIX_FLOOR",
    "decide",
    "early_activation_fires",
    "ladder",
    "rolled_hedge",
    "rule_outcomes",
]

#: Rule (c)'s conditions (`alvh.policy.config.Rules.patience_conditions` lists the ones a
#: policy requires): each the name of a diagnostic that must be True for the book to wait.
PATIENCE_CONDITIONS = ("inflation_contained", "fomc_steady", "rate_differential_stable", "breadth_bid")


#: The candidates that move the condor's strikes (preferred when correlations tighten).
STRIKE_ADJUSTMENTS = ("roll_short_strikes", "tighten_untested")
#: The VIX's floor for a futures hedge's risk: below its all-time low close (9.14, 2017).
VIX_FLOOR = 9.0
#: The scenario set of the time-shift check and the candidates' projections.
SCENARIOS = "gdp_x_earnings"


#: Each diagnostic's role (DESIGN.md: every diagnostic has a documented role and
#: direction): "for" = when it fires it is evidence of a regime shift (rule (a) weighs it
#: for acting; ``macd_expanding``, ``ad_divergence`` and ``skew_steepening`` also drive
#: rule (b)); "against" = when it fires it argues the move is noise (rule (a) weighs it
#: against acting); "condition" = one of rule (c)'s patience conditions. ``vix_rsi``'s
#: role is `Rules.vix_rsi_role` ("against" by default: a stretched VIX tends to revert);
#: a custom series named in `Rules.layer2_series` has the role "layer2" (layer 2's
#: sustainability check), any other custom series "for".
ROLES = {
    "macd_expanding": "for",
    "ad_divergence": "for",
    "breadth_bid": "condition",
    "vix_rsi": "against",
    "backwardation": "for",
    "contango": "against",
    "implied_minus_realized": "for",
    "temporal_theta": "against",
    "skew_steepening": "for",
    "correlation_tightening": "for",
    "inflation_contained": "condition",
    "rate_differential_stable": "condition",
    "fomc_steady": "condition",
}


def _diagnostics(policy: Policy, state: Any) -> tuple[list[Diagnostic], dict[str, bool | None]]:
    """Each diagnostic of ``state`` with its value, whether it fired, its role (`ROLES`)
    and the evidence in words."""
    rules = policy.rules
    out: list[Diagnostic] = []
    fired: dict[str, bool | None] = {}

    def add(name: str, value: float | None, flag: bool | None, yes: str, no: str, miss: str) -> None:
        if name == "vix_rsi":
            role = rules.vix_rsi_role
        elif name.startswith("custom:") and name.split(":", 1)[1] in rules.layer2_series:
            role = "layer2"
        else:
            role = ROLES.get(name, "for")
        if flag is None:
            out.append(Diagnostic(name, value, None, f"{miss}: rule input missing, skipped", role))
        else:
            out.append(Diagnostic(name, value, bool(flag), yes if flag else no, role))
        fired[name] = flag

    hist = state.macd_hist
    expanding = state.macd_expanding
    bearish = None if expanding is None or hist is None else bool(expanding and hist < 0.0)
    add(
        "macd_expanding",
        hist,
        bearish,
        f"SPX MACD histogram {_fmt(hist)}, bearish and |histogram| rising {rules.macd_expanding_days} days",
        f"SPX MACD histogram {_fmt(hist)}, "
        + ("expanding but positive (bullish): not evidence" if expanding else "not expanding"),
        "no SPX MACD (too little history)",
    )
    source = getattr(state, "breadth_source", None)
    line = "A/D line" if source in (None, "advances/declines") else f"breadth line ({source})"
    add(
        "ad_divergence",
        None,
        state.ad_divergence,
        f"{line} diverging negatively from SPX over {rules.breadth_window} days",
        f"{line} confirming SPX",
        "no breadth data",
    )
    add(
        "breadth_bid",
        None,
        state.breadth_bid,
        f"{line} at its {rules.breadth_window}-day high (strong breadth bid)",
        f"no breadth bid ({line} below its {rules.breadth_window}-day high)",
        "no breadth data",
    )
    rsi = state.vix_rsi
    stretched = {
        "against": "stretched, likely to revert: argues noise",
        "for": "momentum: counted as evidence (vix_rsi_role = 'for')",
        "ignore": "not weighed (vix_rsi_role = 'ignore')",
    }[rules.vix_rsi_role]
    add(
        "vix_rsi",
        rsi,
        None if rsi is None else rsi > rules.vix_rsi_overbought,
        f"VIX RSI(14) {_fmt(rsi)} above {rules.vix_rsi_overbought:g}: {stretched}",
        f"VIX RSI(14) {_fmt(rsi)}, not above {rules.vix_rsi_overbought:g}",
        "no VIX RSI (too little history)",
    )
    ratio = state.vix_vx1 if state.vix_vx1 is not None else state.vx1_vx2
    add(
        "backwardation",
        ratio,
        state.backwardation,
        f"VIX futures in backwardation (ratio {_fmt(ratio)}): genuine stress",
        f"VIX futures not in backwardation (ratio {_fmt(ratio)})",
        "no VIX futures data",
    )
    add(
        "contango",
        ratio,
        None if state.backwardation is None or not rules.contango_against else not state.backwardation,
        f"VIX futures in contango (ratio {_fmt(ratio)}): the curve calls the move noise",
        f"VIX futures not in contango (ratio {_fmt(ratio)})",
        "no VIX futures data"
        if rules.contango_against
        else "contango not weighed (rules.contango_against off)",
    )
    imr = state.implied_minus_realized
    add(
        "implied_minus_realized",
        imr,
        None if imr is None else imr < 0.0,
        f"realized vol above implied ({_fmt(imr)}): the market is moving more than priced",
        f"implied above realized by {_fmt(imr)}",
        "no realized-vol input",
    )
    add(
        "temporal_theta",
        imr,
        None if imr is None else imr >= rules.theta_premium,
        f"implied above realized by {_fmt(imr)} (at least {rules.theta_premium:g}): elevated implied vol "
        "inflates the condor's extrinsic value, the seed's reason to tolerate the print",
        f"implied minus realized {_fmt(imr)}, under {rules.theta_premium:g}: no premium to lean on",
        "no realized-vol input",
    )
    add(
        "skew_steepening",
        state.skew_z,
        state.skew_steepening,
        f"put-skew z-score {_fmt(state.skew_z)} above {rules.skew_z_threshold:g}",
        f"put-skew z-score {_fmt(state.skew_z)}",
        "no skew data",
    )
    tightening = dict(state.correlation_tightening)
    names = sorted(name for name, flag in tightening.items() if flag)
    add(
        "correlation_tightening",
        None,
        (bool(names) if tightening else None),
        f"correlation with SPX tightening: {', '.join(names)}",
        f"no tightening among {', '.join(sorted(tightening))}",
        "no correlation series",
    )
    cpi, ppi = state.cpi_yoy, state.ppi_yoy
    contained = None
    if cpi is not None or ppi is not None:
        contained = all(x < rules.inflation_ceiling for x in (cpi, ppi) if x is not None)
    add(
        "inflation_contained",
        cpi,
        contained,
        f"CPI {_pct(cpi)} / PPI {_pct(ppi)} below {rules.inflation_ceiling:.1%}",
        f"CPI {_pct(cpi)} / PPI {_pct(ppi)}: not contained",
        "no CPI/PPI data",
    )
    change = getattr(state, "rate_differential_change", None)
    level = getattr(state, "rate_differential", None)
    add(
        "rate_differential_stable",
        change,
        getattr(state, "rate_differential_stable", None),
        f"interest-rate differential {_fmt(level)} pp, moved {_fmt(change)} pp over "
        f"{rules.rate_window} days (within {rules.rate_stability:g}): stable",
        f"interest-rate differential {_fmt(level)} pp moved {_fmt(change)} pp over "
        f"{rules.rate_window} days (more than {rules.rate_stability:g}): not stable",
        "no interest-rate differential (or too little of its history)",
    )
    tone = state.fomc_tone
    add(
        "fomc_steady",
        None,
        None if tone is None else tone in ("steady", "dovish"),
        f"FOMC {tone}",
        f"FOMC {tone}",
        "no FOMC tone",
    )
    for name, (value, threshold, flag) in sorted(dict(state.custom).items()):
        add(
            f"custom:{name}",
            float(value),
            bool(flag),
            f"{name} {_fmt(value)} past its threshold {_fmt(threshold)}",
            f"{name} {_fmt(value)} inside its threshold {_fmt(threshold)}",
            name,
        )
    return out, fired


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _greeks(
    position: Position, market: Market, horizon: int
) -> tuple[dict[str, float], tuple[float, ...], tuple[float, ...]]:
    """The book's $ Greeks and its break-evens at T+0 and at T+``horizon`` days."""
    if not position.legs:
        return {"delta": 0.0, "gamma": 0.0, "vega": 0.0, "theta": 0.0, "value": 0.0}, (), ()
    s = analytics.summary(position, market, breakeven_days=(0, horizon))
    greeks = {
        "delta": s.delta_dollars_per_1pct,
        "gamma": s.gamma_dollars_per_1pct,
        "vega": s.vega_dollars_per_vol_point + s.vix_vega_dollars_per_vol_point,
        "theta": s.theta_dollars_per_day,
        "vix_delta": s.delta_dollars_per_vix_point,
        "value": s.value,
    }
    return greeks, s.breakevens_t_plus[0][1], s.breakevens_t_plus[1][1]


def _theta(position: Position, market: Market) -> float:
    """The book's theta, $ per day (0 for an empty book)."""
    if not position.legs:
        return 0.0
    return float(analytics.summary(position, market, breakeven_days=()).theta_dollars_per_day)


def _projected(
    position: Position, market: Market, policy: Policy, seed: int, paths: int | None = None
) -> tuple[float, float]:
    """(CVaR 95 as a positive $ loss, mean $ P&L) of the projected mixture at the horizon
    (``paths`` per scenario, default ``rules.projection_paths``)."""
    from alvh.risk.projection import STAT_NAMES, horizon_statistics

    # Only the horizon is needed: the book is valued on its last day only.
    _, last = horizon_statistics(
        position,
        market,
        scenarios=SCENARIOS,
        days=policy.rules.projection_days,
        paths=paths or policy.rules.projection_paths,
        seed=seed,
    )
    return float(last[STAT_NAMES.index("cvar95")]), float(last[STAT_NAMES.index("mean")])


def _cvar(position: Position, market: Market, policy: Policy, seed: int) -> float:
    return _projected(position, market, policy, seed)[0]


def _capital_at_risk(position: Position, market: Market) -> float | None:
    """$ the book can lose: its SPX options' margin (or defined max loss) per expiry, plus the
    premium of its long VIX options and, for long VIX futures, their loss if the future
    fell to `VIX_FLOOR`. None when some part has no bounded loss."""
    total = 0.0
    # Per expiry: condors of different expiries are each defined-risk, their sum bounds the
    # book (a calendar mix has no single expiry payoff to take a max loss from).
    for expiry in sorted({leg.expiry for leg in position.legs if isinstance(leg, SpxOption)}):
        group = Position(
            tuple(leg for leg in position.legs if isinstance(leg, SpxOption) and leg.expiry == expiry)
        )
        s = analytics.summary(group, market, breakeven_days=())
        part = s.margin if s.margin else s.max_loss
        if part is None or not math.isfinite(part) or part < 0.0:
            return None
        total += part
    for leg in position.legs:
        if isinstance(leg, VixOption):
            if leg.quantity < 0:
                return None
            total += leg.entry_cost
        elif isinstance(leg, VixFuture):
            if leg.quantity < 0:
                return None
            total += leg.quantity * leg.multiplier * max(leg.entry_price - VIX_FLOOR, 0.0)
    return total if total > 0.0 else None


def _irr_check(policy: Policy, position: Position, market: Market, seed: int) -> tuple[str, dict[str, float]]:
    """Layer 3's return check: the book's expected return on its capital at risk over the
    projection horizon, annualized (the IRR of putting the margin in today and taking
    margin + expected P&L out at the horizon), against the risk-free rate and the CAPM
    required return ``r_f + beta * equity_risk_premium``, beta being the book's $ delta
    per 1 % SPX move over 1 % of its capital."""
    if not position.legs:
        return "Layer 3 return check skipped: an empty book.", {}
    summary = analytics.summary(position, market, breakeven_days=())
    capital = _capital_at_risk(position, market)
    if capital is None:
        return (
            "Layer 3 return check skipped: the book's capital at risk is not defined "
            "(its SPX options are not defined-risk, or it is short VIX futures or calls).",
            {},
        )
    days = policy.rules.projection_days
    _, mean = _projected(position, market, policy, seed)
    growth = 1.0 + mean / capital
    irr = growth ** (365.0 / days) - 1.0 if growth > 0.0 else -1.0
    beta = summary.delta_dollars_per_1pct / (0.01 * capital)
    required = market.rate + beta * policy.rules.equity_risk_premium
    verdict = (
        "still earns its risk"
        if irr > max(required, market.rate)
        else ("no longer earns its risk: reduce or close it")
    )
    text = (
        f"Layer 3 return check: expected P&L {mean:+,.0f} $ over {days} days on "
        f"{capital:,.0f} $ at risk is an annualized IRR of {irr:+.1%}, against the "
        f"risk-free {market.rate:.2%} and a CAPM-required {required:+.1%} (beta "
        f"{beta:+.2f}, equity premium {policy.rules.equity_risk_premium:.1%}): the book "
        f"{verdict}."
    )
    earns = 1.0 if irr > max(required, market.rate) else 0.0
    return text, {"irr": irr, "capm_required": required, "beta": beta, "capital": capital, "earns": earns}


def _vix_expiry(market: Market, min_days: int) -> dt.date:
    """The first VIX expiry at least ``min_days`` out that the market can price."""
    futures = market.futures
    candidates = list(futures.expiries) if futures.is_explicit else vix_expiries_after(market.as_of, 6)
    for expiry in candidates:
        if (expiry - market.as_of).days >= min_days:
            return expiry
    raise InvalidInputError(
        f"no VIX expiry at least {min_days} days after {market.as_of} in the market's "
        "futures curve: add later expiries"
    )


def _vix_call_builder(market: Market, min_days: int, above: float, name: str) -> tuple[float, Any] | None:
    """(the call's $ per VIX spot point, a builder ``n -> (legs, action)``) of a VIX call
    candidate: the first expiry at least ``min_days`` out, strike the future + ``above``."""
    expiry = _vix_expiry(market, min_days)
    future = float(market.vix_future(expiry))
    strike = float(math.ceil(future + above))
    t, vol = float(market.t(expiry)), float(market.vix_option_vol(expiry))
    g = black76.greeks(is_call=True, forward=future, strike=strike, t=t, rate=market.rate, vol=vol)
    price = float(g.price)
    if price <= 0.0:
        return None
    follow = float(market.scenario_vix_futures([expiry], shifts=[1.0], day=0)[0, 0] - future)
    per_point = 100.0 * float(g.delta) * follow

    def make(n: int) -> tuple[Position, Action]:
        leg = VixOption(expiry, strike, True, n, round(price, 6))
        text = f"buy {n} VIX {expiry:%d %b %Y} {strike:g} calls at {price:.2f}"
        return Position((leg,)), Action(name, text, float(n), n * price * 100.0, 0.0)

    return per_point, make


def _spx_expiry(position: Position, market: Market) -> dt.date | None:
    expiries = sorted({leg.expiry for leg in position.legs if isinstance(leg, SpxOption)})
    live = [e for e in expiries if e > market.as_of]
    return live[0] if live else None


def _spx_price(market: Market, expiry: dt.date, strike: float, is_call: bool) -> float:
    return float(
        bsm.price(
            is_call=is_call,
            spot=market.spot,
            strike=strike,
            t=float(market.t(expiry)),
            rate=market.rate,
            div=market.div,
            vol=float(market.spx_vol(strike, expiry)),
        )
    )


def _book_vix_dollars(position: Position, market: Market) -> float:
    """$ per VIX point of the book (the grid's +1 point VIX shift, day 0)."""
    from alvh.risk.grid import scenario_grid

    grid = scenario_grid(position, market, spot_moves=[0.0], vol_shifts=[-0.5, 0.5], days=[0])
    return float(grid.pnl[0, 1, 0] - grid.pnl[0, 0, 0])


class _Exposures:
    """The book's exposures the candidates are sized to, each computed once per decision
    (several candidates read the same one: VIX calls and futures the $ per VIX point)."""

    def __init__(self, position: Position, market: Market) -> None:
        self.position, self.market = position, market

    @cached_property
    def vix_dollars(self) -> float:
        return _book_vix_dollars(self.position, self.market)

    @cached_property
    def fall_loss(self) -> float:
        """$ lost at T+0 on a 5 % SPX fall."""
        return _spx_move_loss(self.position, self.market, -0.05)

    @cached_property
    def delta_spx_points(self) -> float:
        return float(analytics.summary(self.position, self.market, breakeven_days=()).delta_spx_points)


def _candidates(
    policy: Policy, layer: int, position: Position, market: Market, budget: float, seed: int
) -> tuple[list[tuple[Position, Action]], list[str]]:
    """Each of the layer's actions sized to its exposure and clipped within ``budget`` ($
    at risk), with the reasons the others were dropped (rule (e), module doc)."""
    out: list[tuple[Position, Action]] = []
    dropped: list[str] = []
    exposures = _Exposures(position, market)
    for name in policy.layers[layer - 1].actions:
        try:
            made = _candidate(policy, name, exposures, budget, seed)
        except InvalidInputError as exc:
            dropped.append(f"{name}: {exc}")
            continue
        if isinstance(made, str):
            dropped.append(f"{name}: {made}")
        else:
            out.append(made)
    return out, dropped


#: A candidate's risk is projected on this share of the policy's paths: sizing needs the
#: scale of its tail (a 5 % tail of 6,000 paths by default), not the book's precision.
RISK_PATH_SHARE = 0.25


def _risk(legs: Position, market: Market, policy: Policy, seed: int) -> float:
    """A candidate's risk: its own projected loss at the policy's CVaR level (CVaR 95 of
    its P&L over the horizon, on `RISK_PATH_SHARE` of the paths), at least 0."""
    paths = max(100, int(policy.rules.projection_paths * RISK_PATH_SHARE))
    return max(_projected(legs, market, policy, seed, paths)[0], 0.0)


def _sized(
    policy: Policy,
    market: Market,
    seed: int,
    budget: float,
    wanted: float,
    make: Any,
    exposure: str,
) -> tuple[Position, Action] | str:
    """``make(n)`` at ``wanted`` contracts (the share of the exposure it offsets, rounded;
    zero or less: nothing to offset; under half a contract: too small to trade), scaled
    down (at most twice, CVaR is close to linear in the size of one instrument) until its
    projected risk fits ``budget``; the reason when no size does."""
    if wanted <= 0.0:
        return f"nothing to offset ({exposure})"
    if round(wanted) < 1:
        return f"{exposure} is {wanted:.2f} contracts' worth: under one to trade"
    n = wanted = int(round(wanted))
    tried: list[str] = []
    for _ in range(3):
        legs, action = make(n)
        risk = _risk(legs, market, policy, seed)
        tried.append(f"{n} at {risk:,.0f} $")
        if risk <= budget:
            clipped = "" if n == wanted else f", clipped from {wanted} to fit the budget"
            text = f"{action.description} (offsets {policy.sizing.hedge_share:.0%} of {exposure}{clipped})"
            return legs, replace(action, description=text, risk=risk)
        n = min(n - 1, math.floor(n * budget / risk)) if risk > 0 else n
        if n < 1:
            break
    return (
        f"no size fits the {budget:,.0f} $ budget (projected risk of {', '.join(tried)}); a larger "
        "sizing.layer_cap or portfolio value would"
    )


def _spx_move_loss(position: Position, market: Market, move: float) -> float:
    """$ the book loses at T+0 if the SPX moves by ``move`` (relative), positive = loss."""
    spots = np.array([market.spot, market.spot * (1.0 + move)])
    values = analytics.value_at_spots(position, market, spots, market)
    return float(values[0] - values[1])


def _candidate(
    policy: Policy, name: str, exposures: _Exposures, budget: float, seed: int
) -> tuple[Position, Action] | str:
    """One candidate (module doc), or why there is none."""
    position, market = exposures.position, exposures.market
    share = policy.sizing.hedge_share
    cost_floor = policy.sizing.cost_per_contract
    if name in ("short_vix_calls", "long_vix_calls"):
        built = _vix_call_builder(market, *((14, 3.0) if name == "short_vix_calls" else (45, 5.0)), name=name)
        if built is None:
            return "the call has no value"
        per_point, make = built
        book = exposures.vix_dollars
        exposure = f"the book's {book:+,.0f} $ per VIX point"
        wanted = share * -book / per_point if per_point > 0.0 else 0.0
        return _sized(policy, market, seed, budget, wanted, make, exposure)
    if name == "vix_futures":
        expiry = _vix_expiry(market, 14)
        future = float(market.vix_future(expiry))
        per_contract = 1000.0 * float(
            market.scenario_vix_futures([expiry], shifts=[1.0], day=0)[0, 0] - future
        )
        book = exposures.vix_dollars
        wanted = share * -book / per_contract if per_contract > 0.0 else 0.0

        def make_futures(n: int) -> tuple[Position, Action]:
            text = f"buy {n} VIX {expiry:%b %Y} futures at {future:.2f}"
            legs = Position((VixFuture(expiry, n, round(future, 6)),))
            return legs, Action(name, text, float(n), n * cost_floor, 0.0)

        return _sized(
            policy, market, seed, budget, wanted, make_futures, f"the book's {book:+,.0f} $ per VIX point"
        )
    spx_expiry = _spx_expiry(position, market)
    if spx_expiry is None:
        raise InvalidInputError("the book has no live SPX options")
    expiry = spx_expiry
    if name == "spx_put_spread":
        long_k = 5.0 * math.floor(market.spot * 0.97 / 5.0)
        short_k = long_k - 50.0
        prices = {
            "long": round(_spx_price(market, expiry, long_k, False), 6),
            "short": round(_spx_price(market, expiry, short_k, False), 6),
        }
        debit = prices["long"] - prices["short"]
        if debit <= 0.0:
            return "the spread has no value"

        def make_spread(n: int) -> tuple[Position, Action]:
            legs = Position.vertical(
                expiry, long_strike=long_k, short_strike=short_k, is_call=False, quantity=n, prices=prices
            )
            text = f"buy {n} SPX {expiry:%d %b} {long_k:g}/{short_k:g} put spreads at {debit:.2f}"
            return legs, Action(name, text, float(n), n * debit * 100.0, 0.0)

        # gamma and delta together: what the book loses on a 5 % fall, and one spread makes
        loss = exposures.fall_loss
        gain = -_spx_move_loss(make_spread(1)[0], market, -0.05)
        wanted = share * loss / gain if gain > 0.0 else 0.0
        return _sized(
            policy,
            market,
            seed,
            budget,
            wanted,
            make_spread,
            f"the book's {loss:,.0f} $ loss on a 5 % SPX fall",
        )
    if name in STRIKE_ADJUSTMENTS:
        made = (_roll if name == "roll_short_strikes" else _tighten)(policy, position, market, budget)
        if made is None:
            return (
                "no short strike to move" if name == "roll_short_strikes" else "no untested side to tighten"
            )
        legs, action = made
        risk = _risk(legs, market, policy, seed)
        if risk > budget:
            return f"its projected risk {risk:,.0f} $ is above the {budget:,.0f} $ budget"
        return legs, replace(action, risk=risk)
    if name == "neutralize_delta":
        delta = exposures.delta_spx_points
        strike = 5.0 * round(market.spot / 5.0)
        prices = {
            "put": round(_spx_price(market, expiry, strike, False), 6),
            "call": round(_spx_price(market, expiry, strike, True), 6),
        }
        sign = 1 if delta < 0 else -1  # a reversal (synthetic long) for a short delta

        def make_synthetic(n: int) -> tuple[Position, Action]:
            if sign > 0:
                legs = Position.reversal(expiry, strike=strike, quantity=n, prices=prices)
                what = "reversal (synthetic long)"
            else:
                legs = Position.conversion(expiry, strike=strike, quantity=n, prices=prices)
                what = "conversion (synthetic short)"
            text = f"{n} x {what} at {strike:g}, {expiry:%d %b}"
            return legs, Action(name, text, float(2 * n), 2 * n * cost_floor, 0.0)

        wanted = share * abs(delta) / 100.0
        return _sized(
            policy,
            market,
            seed,
            budget,
            wanted,
            make_synthetic,
            f"the book's delta of {delta:+,.0f} SPX points",
        )
    raise InvalidInputError(f"unknown action {name!r}")


def ladder(
    policy: Policy,
    position: Position,
    market: Market,
    *,
    portfolio_value: float,
    committed_risk: float = 0.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """What each layer would do right now (the ladder a trader reads before the VIX gets
    there): for every layer, its band and, per candidate action, the trade sized to
    today's book within that layer's budget (rule (e): the layer cap, or what the total
    cap leaves after ``committed_risk``) with its cost and risk, or why there is none.
    No CVaR ranking (rule (f) runs when the layer is entered): one row per candidate."""
    sizing = policy.sizing
    budget = min(sizing.layer_cap * portfolio_value, sizing.total_cap * portfolio_value - committed_risk)
    rows: list[dict[str, Any]] = []
    for layer in policy.layers:
        band = f"{layer.start:g}-{layer.end:g}" if layer.end is not None else f"{layer.start:g}+"
        base = {"layer": layer.number, "band": band, "enabled": layer.enabled}
        if not layer.enabled:
            rows.append(
                {**base, "action": "", "trade": "disabled: never entered", "cost": None, "risk": None}
            )
            continue
        if budget <= 0.0:
            rows.append(
                {**base, "action": "", "trade": "the total cap is used up", "cost": None, "risk": None}
            )
            continue
        made, dropped = _candidates(policy, layer.number, position, market, budget, seed)
        for _legs, action in made:
            rows.append(
                {
                    **base,
                    "action": action.name,
                    "trade": action.description,
                    "cost": action.cost,
                    "risk": action.risk,
                }
            )
        for text in dropped:
            name, _, why = text.partition(": ")
            rows.append({**base, "action": name, "trade": f"none: {why}", "cost": None, "risk": None})
    return rows


def rolled_hedge(
    policy: Policy, name: str, book: Position, market: Market, *, budget: float, seed: int = 0
) -> tuple[Position, Action] | str:
    """A hedge of kind ``name`` (an `alvh.policy.config.ACTIONS` key) bought again for a
    roll (`alvh.policy.exits`): built as the candidate rules build it today (the next
    expiry they pick: VIX calls and futures the first VIX expiry far enough out, SPX put
    spreads the ``book``'s first live SPX expiry), sized again to the ``book``'s exposure
    and clipped within ``budget`` ($ at risk, rule (e)); or why none can be bought."""
    if name in STRIKE_ADJUSTMENTS:
        raise InvalidInputError(f"{name} edits the condor: it is not a hedge and does not roll")
    try:
        return _candidate(policy, name, _Exposures(book, market), budget, seed)
    except InvalidInputError as exc:
        return str(exc)


def _distance(leg: SpxOption, market: Market) -> float:
    """How far a strike is from the spot, in standard deviations to its expiry."""
    vol = float(market.spx_vol(leg.strike, leg.expiry))
    t = max(float(market.t(leg.expiry)), 1.0 / 365.0)
    return abs(math.log(leg.strike / market.spot)) / (vol * math.sqrt(t))


def _shorts(position: Position, market: Market) -> list[SpxOption]:
    return [
        leg
        for leg in position.legs
        if isinstance(leg, SpxOption) and leg.quantity < 0 and leg.expiry > market.as_of
    ]


def _wing(position: Position, short: SpxOption, outward: float) -> SpxOption | None:
    """The long leg protecting ``short`` on its far side (``outward`` > 0: above it)."""
    wings = [
        leg
        for leg in position.legs
        if isinstance(leg, SpxOption)
        and leg.quantity > 0
        and leg.is_call == short.is_call
        and leg.expiry == short.expiry
        and (leg.strike - short.strike) * outward > 0
    ]
    return min(wings, key=lambda leg: abs(leg.strike - short.strike)) if wings else None


def _move(
    position: Position, market: Market, shorts: list[SpxOption], away: bool, points: float
) -> tuple[Position, float, list[str]]:
    """The trade moving each short strike (with its wing) ``points`` away from the spot
    (``away``) or toward it: close the old legs and open the new ones at model prices;
    its debit ($, negative = credit) and a description of each move."""
    closing: list[SpxOption] = []
    opening: list[SpxOption] = []
    said: list[str] = []
    for short in shorts:
        outward = 1.0 if short.is_call else -1.0
        step = points * (outward if away else -outward)
        wing = _wing(position, short, outward)
        for leg in (short, *([wing] if wing is not None else [])):
            price = round(_spx_price(market, leg.expiry, leg.strike + step, leg.is_call), 6)
            opening.append(SpxOption(leg.expiry, leg.strike + step, leg.is_call, leg.quantity, price))
            close_price = round(_spx_price(market, leg.expiry, leg.strike, leg.is_call), 6)
            closing.append(SpxOption(leg.expiry, leg.strike, leg.is_call, -leg.quantity, close_price))
        side = "call" if short.is_call else "put"
        said.append(f"{side} {short.strike:g} -> {short.strike + step:g} ({short.expiry:%d %b})")
    trade = Position((*closing, *opening))
    return trade, math.fsum(leg.entry_cost for leg in trade.legs), said


def _roll(
    policy: Policy, position: Position, market: Market, budget: float
) -> tuple[Position, Action] | None:
    """Roll the threatened short strikes (within ``sizing.threat_sd`` standard deviations
    of the spot; both sides when both are; the nearest when none is) and their wings
    ``sizing.roll_points`` away from the spot."""
    shorts = _shorts(position, market)
    if not shorts:
        return None
    threatened = [leg for leg in shorts if _distance(leg, market) <= policy.sizing.threat_sd]
    chosen = threatened or [min(shorts, key=lambda leg: _distance(leg, market))]
    points = policy.sizing.roll_points
    trade, debit, said = _move(position, market, chosen, True, points)
    if debit > budget:
        return None
    text = f"roll wider by {points:g} points: {', '.join(said)}, debit {debit:,.0f} $"
    contracts = float(sum(abs(leg.quantity) for leg in trade.legs))
    return trade, Action("roll_short_strikes", text, contracts, max(debit, 0.0), max(debit, 0.0))


def _tighten(
    policy: Policy, position: Position, market: Market, budget: float
) -> tuple[Position, Action] | None:
    """Tighten the untested side (the seed's layer-1 "tighten"): move the short strikes
    farther from the spot than ``sizing.threat_sd`` (and their wings) ``sizing.roll_points``
    toward it, for a credit; only on an expiry whose other side is threatened."""
    shorts = _shorts(position, market)
    threat = policy.sizing.threat_sd
    tested = {(leg.expiry, leg.is_call) for leg in shorts if _distance(leg, market) <= threat}
    untested = [
        leg for leg in shorts if _distance(leg, market) > threat and (leg.expiry, not leg.is_call) in tested
    ]
    if not untested:
        return None
    points = policy.sizing.roll_points
    trade, debit, said = _move(position, market, untested, False, points)
    if debit >= 0.0:
        return None
    # The wing moves with the short: the width, hence the max loss, stays and the credit
    # lowers it; what grows is the chance of reaching it, which the projection prices.
    risk = 0.0
    text = f"tighten the untested side by {points:g} points: {', '.join(said)}, credit {-debit:,.0f} $"
    contracts = float(sum(abs(leg.quantity) for leg in trade.legs))
    return trade, Action("tighten_untested", text, contracts, debit, risk)


def decide(
    policy: Policy,
    state: Any,
    position: Position,
    market: Market,
    *,
    layer: int = 0,
    acted: int | None = None,
    portfolio_value: float,
    committed_risk: float = 0.0,
    seed: int = 0,
) -> Decision:
    """One day's decision; see the module doc. ``layer``: the layer the book was in
    before today; ``acted``: the highest layer whose hedge is already on (default
    ``layer``); ``portfolio_value``: $, the base of the caps and the CVaR budget;
    ``committed_risk``: $ already at risk in the hedges of earlier layers (the total
    cap bounds it plus today's)."""
    _check_inputs(state, position, market, portfolio_value, committed_risk)
    if acted is not None and (isinstance(acted, bool) or not isinstance(acted, int) or not 0 <= acted <= 3):
        raise InvalidInputError(
            f"acted must be a layer 0-3 (the highest layer already hedged) or None; got {acted!r}"
        )
    done = layer if acted is None else acted
    diagnostics, fired = _diagnostics(policy, state)
    why: list[str] = []  # the rationale: each step below appends its sentences

    # 1. the layer
    regime = _move_layer(policy, state, layer, fired, why)
    skipped = [d.name for d in diagnostics if d.fired is None]
    if skipped:
        why.append("Missing inputs, rules skipped: " + ", ".join(skipped) + ".")
    known = [
        f"{d.name} {'' if d.value is None else _fmt(d.value) + ' '}{'yes' if d.fired else 'no'} ({d.role})"
        for d in diagnostics
        if d.fired is not None
    ]
    if known:
        why.append("Diagnostics (value, fired, role): " + "; ".join(known) + ".")

    # 2. whether to act: rules (a) and (c), then (d) on the projected book
    horizon = policy.rules.projection_days
    greeks_before, breakevens_before, horizon_before = _greeks(position, market, horizon)
    act = _whether_to_act(policy, regime, layer, done, diagnostics, fired, why)
    cvar_before: float | None = None
    if act and policy.rules.time_shift_check and position.legs:
        cvar_before = _cvar(position, market, policy, seed)
        act = _over_cvar_budget(policy, regime, cvar_before, portfolio_value, why)

    # 3. what to do: rules (e) and (f)
    chosen: _Chosen | None = None
    if act:
        if cvar_before is None:
            cvar_before = _cvar(position, market, policy, seed) if position.legs else 0.0
        budget = _hedge_budget(policy, portfolio_value, committed_risk, why)
        chosen = _best_hedge(
            policy,
            regime,
            position,
            market,
            budget=budget,
            cvar_before=cvar_before,
            seed=seed,
            why=why,
            theta_before=greeks_before["theta"],
            prefer_strikes=bool(fired.get("correlation_tightening")),
        )
    irr_numbers: dict[str, float] = {}
    if regime == 3:
        text, irr_numbers = _irr_check(policy, position, market, seed)
        why.append(text)
        if irr_numbers and not irr_numbers["earns"] and policy.rules.irr_action != "report":
            closing = _close_book(policy, position, market, seed, why)
            if closing is not None:
                chosen = closing
        irr_numbers = {k: v for k, v in irr_numbers.items() if k != "earns"}
    return _decision(
        policy,
        state,
        position,
        market,
        layer=layer,
        regime=regime,
        done=done,
        diagnostics=diagnostics,
        greeks_before=greeks_before,
        breakevens_before=breakevens_before,
        horizon_before=horizon_before,
        cvar_before=cvar_before,
        chosen=chosen,
        why=why,
        portfolio_value=portfolio_value,
        irr_numbers=irr_numbers,
        committed_risk=committed_risk,
    )


def _committed_after(committed: float, regime: int, actions: list[Action]) -> float:
    """$ at risk in open hedges after today (tomorrow's ``committed_risk``): today's
    hedge added; none at layer 0 (the hedges go as the layers are left) or after the
    book is closed."""
    if regime == 0 or any(a.name == "close_book" for a in actions):
        return 0.0
    return committed + math.fsum(a.risk for a in actions if a.name not in ("close_book", "reduce_book"))


def _close_book(
    policy: Policy, position: Position, market: Market, seed: int, why: list[str]
) -> _Chosen | None:
    """Layer 3's exit when the book no longer earns its risk (``rules.irr_action``):
    ``"close"`` buys back every SPX option leg, ``"reduce"`` half of each (rounded up),
    at model prices; the VIX legs and the hedges' risk stay as they are."""
    spx_legs = [leg for leg in position.legs if isinstance(leg, SpxOption) and leg.expiry > market.as_of]
    if not spx_legs:
        return None
    share = 1.0 if policy.rules.irr_action == "close" else 0.5
    closing = []
    for leg in spx_legs:
        size = math.ceil(abs(leg.quantity) * share)
        price = round(_spx_price(market, leg.expiry, leg.strike, leg.is_call), 6)
        closing.append(
            SpxOption(leg.expiry, leg.strike, leg.is_call, -size if leg.quantity > 0 else size, price)
        )
    trade = Position(tuple(closing))
    debit = math.fsum(leg.entry_cost for leg in trade.legs)
    contracts = float(sum(abs(leg.quantity) for leg in trade.legs))
    verb = "close" if share == 1.0 else "reduce by half"
    name = "close_book" if share == 1.0 else "reduce_book"
    text = (
        f"{verb} the book's SPX options ({len(closing)} legs, {contracts:g} contracts) at model prices, "
        + (f"debit {debit:,.0f} $" if debit >= 0 else f"credit {-debit:,.0f} $")
    )
    after = _cvar(position + trade, market, policy, seed)
    why.append(f"Layer 3 ({policy.rules.irr_action}): {text}; projected CVaR 95 -> {round(after) + 0:,} $.")
    return _Chosen(trade, Action(name, text, contracts, debit, 0.0), after)


def _check_inputs(
    state: Any, position: Position, market: Market, portfolio_value: float, committed_risk: float
) -> None:
    """The types of the book and market, the state and market on the same close, and the
    $ amounts."""
    if not isinstance(position, Position):
        raise InputTypeError(f"position must be an alvh.Position, got {type(position).__name__}")
    if not isinstance(market, Market):
        raise InputTypeError(f"market must be an alvh.Market, got {type(market).__name__}")
    if state.date != market.as_of:
        raise InvalidInputError(
            f"state.date {state.date} and market.as_of {market.as_of} differ: decide on the "
            "market of the state's day"
        )
    if abs(float(state.vix) - float(market.vix)) > 0.005:
        raise InvalidInputError(
            f"state.vix {state.vix:g} and market.vix {market.vix:g} differ: the state and the "
            "market must describe the same close"
        )
    if (
        isinstance(portfolio_value, bool)
        or not isinstance(portfolio_value, (int, float))
        or not (math.isfinite(portfolio_value) and portfolio_value > 0)
    ):
        raise InvalidInputError(f"portfolio_value must be a positive $ amount; got {portfolio_value!r}")
    if (
        isinstance(committed_risk, bool)
        or not isinstance(committed_risk, (int, float))
        or not (math.isfinite(committed_risk) and committed_risk >= 0)
    ):
        raise InvalidInputError(f"committed_risk must be a $ amount >= 0; got {committed_risk!r}")


def _move_layer(policy: Policy, state: Any, layer: int, fired: dict[str, bool | None], why: list[str]) -> int:
    """Step 1: the layer after today's VIX close (the state machine), then rule (b),
    early activation, from layer 0 below layer 1's band."""
    regime = policy.next_layer(state.vix, layer)
    band = policy.layers[regime - 1] if regime else None
    why.append(
        f"VIX {state.vix:.2f}: layer {layer} -> {regime}"
        + (f" (band {band.start:g}-{'' if band.end is None else f'{band.end:g}'})" if band else "")
        + "."
    )
    if regime == 0 and layer == 0 and policy.layers[0].enabled and policy.rules.early_activation:
        outcome = _rule_b(
            policy.rules, fired["macd_expanding"], fired["ad_divergence"], fired["skew_steepening"]
        )
        if outcome == "skipped":
            why.append("Early activation (b) skipped: its inputs (MACD and A/D or skew) are missing.")
        elif outcome is not None:
            regime = 1
            why.append(
                {
                    "skew": "Early activation (b): the put skew steepens (z-score above "
                    f"{policy.rules.skew_z_threshold:g}), on its own",
                    "divergence": "Early activation (b): bearish MACD histogram expanding while the "
                    "A/D line diverges negatively",
                    "macd_skew": "Early activation (b): bearish MACD histogram expanding while the put "
                    "skew steepens",
                }[outcome]
                + ": layer 1 starts below its band."
            )
    return regime


def _rule_b(rules: Any, macd: bool | None, divergence: bool | None, skew: bool | None) -> str | None:
    """Rule (b) from its flags (``macd``: a *bearish* MACD expansion; None = input
    missing): "skew" (steepening on its own, `Rules.skew_alone_triggers`), "divergence" or
    "macd_skew" (with the MACD), "skipped" (inputs missing) or None (it does not fire)."""
    if rules.skew_alone_triggers and skew:
        return "skew"
    if macd is None or (divergence is None and skew is None):
        return "skipped"
    if macd and divergence:
        return "divergence"
    if macd and skew:
        return "macd_skew"
    return None


def early_activation_fires(rules: Any, state: Any) -> bool:
    """Whether rule (b) would start layer 1 below its band on ``state`` (as `decide`
    judges it; the backtest asks before running a decision)."""
    hist, expanding = state.macd_hist, state.macd_expanding
    bearish = None if expanding is None or hist is None else bool(expanding and hist < 0.0)
    return _rule_b(rules, bearish, state.ad_divergence, state.skew_steepening) not in (None, "skipped")


def _whether_to_act(
    policy: Policy,
    regime: int,
    layer: int,
    done: int,
    diagnostics: list[Diagnostic],
    fired: dict[str, bool | None],
    why: list[str],
) -> bool:
    """Step 2 before the projection: a layer above the one hedged (``done``) acts unless
    rule (a) calls it noise or rule (c) lets it wait."""
    rules = policy.rules
    act = regime > done
    if regime == 0:
        why.append("Layer 0: the condor alone.")
    elif not act:
        why.append(f"Layer {regime} holds; its hedge is already on (acted through layer {done}).")
    # Every day the book sits in layer 1 unacted (``act`` means nothing is on yet), not
    # only the day the band is entered: noise stays noise until evidence shows up.
    if act and regime == 1 and rules.require_regime_evidence:
        pro = [d.name for d in diagnostics if d.fired and d.role == "for"]
        con = [d.name for d in diagnostics if d.fired and d.role == "against"]
        weighed = f"for acting: {', '.join(pro) or 'none'}; against: {', '.join(con) or 'none'}"
        if len(pro) <= len(con):
            act = False
            why.append(
                f"Rule (a): inside the layer-1 band, {weighed}: the evidence of a regime shift does "
                "not outweigh the signs of noise: noise, wait."
            )
        else:
            why.append(f"Rule (a): evidence of a regime shift ({weighed}).")
    sustained = regime == 2 and act and _sustained(policy, diagnostics, why)
    if act and regime < 3 and rules.patience and not sustained:
        act = _patience(policy, regime, fired, why)
    return act


def _sustained(policy: Policy, diagnostics: list[Diagnostic], why: list[str]) -> bool:
    """Layer 2's sustainability check (`Rules.layer2_series`): True when one of the
    liquidity / valuation series is past its threshold (the stress looks sustained)."""
    names = policy.rules.layer2_series
    if not names:
        return False
    given = {d.name.split(":", 1)[1]: d for d in diagnostics if d.role == "layer2"}
    missing = [name for name in names if name not in given]
    past = [name for name, d in given.items() if d.fired]
    if past:
        why.append(
            f"Layer 2 sustainability: {', '.join(past)} past its threshold: the stress looks "
            "sustained; the layer acts whatever rule (c) says."
        )
        return True
    if given:
        why.append(
            f"Layer 2 sustainability: {', '.join(given)} inside the thresholds"
            + (f" ({', '.join(missing)} not given)" if missing else "")
            + "."
        )
    else:
        why.append(f"Layer 2 sustainability skipped: no {' or '.join(names)} series given.")
    return False


def _patience(policy: Policy, regime: int, fired: dict[str, bool | None], why: list[str]) -> bool:
    """Rule (c): whether the layer acts (True) or waits for the next band (False). It
    waits only while every known condition of ``rules.patience_conditions`` holds; a
    condition whose input is missing is skipped and said; with none known, waiting cannot
    be shown viable and the layer acts as it would without rule (c)."""
    conditions = policy.rules.patience_conditions
    known = {name: fired.get(name) for name in conditions if fired.get(name) is not None}
    unknown = [name for name in conditions if fired.get(name) is None]
    skipped = f" (skipped, input missing: {', '.join(unknown)})" if unknown else ""
    if not known:
        why.append(
            f"Rule (c), patience: none of its conditions is known{skipped}: waiting cannot be "
            "shown viable; the layer acts."
        )
        return True
    failing = [name for name, held in known.items() if not held]
    if failing:
        why.append(
            f"Rule (c), patience: {', '.join(failing)} not met{skipped}: waiting is not viable "
            "today; the layer acts."
        )
        return True
    upper = policy.layers[regime] if regime < len(policy.layers) else None
    target = f"the next band ({upper.start:g}+)" if upper is not None else "the next band"
    why.append(f"Rule (c), patience: {', '.join(known)} hold{skipped}: wait for {target}.")
    return False


def _over_cvar_budget(
    policy: Policy, regime: int, cvar_before: float, portfolio_value: float, why: list[str]
) -> bool:
    """Rule (d), the time-shift check: whether the projected book's CVaR 95 exceeds
    ``rules.cvar_budget`` of the portfolio (if not, the layer's actions wait)."""
    rules = policy.rules
    budget_cvar = rules.cvar_budget * portfolio_value
    if cvar_before <= budget_cvar:
        why.append(
            f"Rule (d), time-shift check: projected {rules.projection_days}-day CVaR 95 "
            f"{cvar_before:,.0f} $ is inside the budget {budget_cvar:,.0f} $: a transitory "
            f"spike does not call for a hedge; layer {regime} stands, its actions wait."
        )
        return False
    why.append(
        f"Rule (d): projected {rules.projection_days}-day CVaR 95 {cvar_before:,.0f} $ "
        f"exceeds the budget {budget_cvar:,.0f} $."
    )
    return True


def _hedge_budget(policy: Policy, portfolio_value: float, committed_risk: float, why: list[str]) -> float:
    """Rule (e): $ today's hedge may put at risk, the layer cap or what the total cap
    leaves after the earlier layers' hedges (negative when those exceed it)."""
    sizing = policy.sizing
    budget = min(sizing.layer_cap * portfolio_value, sizing.total_cap * portfolio_value - committed_risk)
    if budget < sizing.layer_cap * portfolio_value:
        why.append(
            f"Rule (e): {committed_risk:,.0f} $ already at risk in earlier layers "
            f"leaves {max(budget, 0.0):,.0f} $ under the {sizing.total_cap:.1%} "
            "total cap."
        )
    return budget


@dataclass(frozen=True)
class _Chosen:
    """The hedge rule (f) chose, its action, and the book's projected CVaR 95 with it."""

    hedge: Position
    action: Action
    cvar_after: float


def _best_hedge(
    policy: Policy,
    regime: int,
    position: Position,
    market: Market,
    *,
    budget: float,
    cvar_before: float,
    seed: int,
    why: list[str],
    theta_before: float,
    prefer_strikes: bool = False,
) -> _Chosen | None:
    """Rule (f): the layer's candidates sized within ``budget``, each projected with the
    book; the largest CVaR 95 reduction per dollar of cost (None if none reduces it);
    ``theta_before``: the book's theta ($/day, from its Greeks) the candidates' is compared to;
    with ``prefer_strikes`` (a correlation tightening fired) the strike adjustments
    that reduce it come first."""
    sizing = policy.sizing
    candidates, dropped = (
        (_candidates(policy, regime, position, market, budget, seed))
        if budget > 0.0
        else ([], ["every action: the total cap is used up"])
    )
    for text in dropped:
        why.append(f"Candidate dropped: {text}.")
    scored = []
    for legs, action in candidates:
        after = _cvar(position + legs, market, policy, seed)
        gain = cvar_before - after
        per_dollar = gain / max(action.cost, action.contracts * sizing.cost_per_contract)
        # temporal theta: the $ of daily theta given up per $ of CVaR cut (ties go to less)
        theta_lost = theta_before - _theta(position + legs, market)
        theta_per_cut = theta_lost / gain if gain > 0.0 else math.inf
        scored.append((per_dollar, gain, after, legs, action, theta_per_cut))
        cut = f", theta given up {theta_per_cut:+.4f} $/day per $ of CVaR cut" if gain > 0.0 else ""
        why.append(
            f"Candidate {action.name}: {action.description}; CVaR 95 "
            f"{cvar_before:,.0f} -> {after:,.0f} $ for {action.cost:,.0f} $; theta "
            f"{-theta_lost:+,.0f} $/day{cut}."
        )
    useful = [c for c in scored if c[1] > 0.0]
    if not useful:
        why.append("No candidate reduces the projected CVaR: no action.")
        return None
    strikes = [c for c in useful if c[4].name in STRIKE_ADJUSTMENTS]
    if prefer_strikes and strikes:
        why.append(
            "Correlations tighten: the strike adjustments are preferred (the seed's layer 1: "
            "if correlations tighten, tighten the condor's strikes)."
        )
        useful = strikes
    # ties of CVaR cut per dollar (to 1e-9) go to the least theta given up per $ cut
    best = max(useful, key=lambda c: (round(c[0], 9), -c[5], c[4].name))
    _, gain, chosen_after, hedge, action, _ = best
    why.append(
        f"Chosen (f): {action.name}, the largest CVaR reduction per dollar "
        f"({gain:,.0f} $ for {action.cost:,.0f} $), risk {action.risk:,.0f} $ "
        f"within the budget of {budget:,.0f} $ ({sizing.layer_cap:.1%} per layer, "
        f"{sizing.total_cap:.1%} in all)."
    )
    return _Chosen(hedge, action, chosen_after)


def _migration(
    t0_before: tuple[float, ...],
    t0_after: tuple[float, ...],
    h_before: tuple[float, ...],
    h_after: tuple[float, ...],
    horizon: int,
    hedge: Position | None,
) -> str:
    """The rationale's break-even sentence: T+0 and T+horizon, before and after the action."""

    def spots(values: tuple[float, ...]) -> str:
        return " / ".join(f"{v:,.0f}" for v in values) if values else "none"

    if hedge is None:
        return f"Break-evens: T+0 {spots(t0_before)}; T+{horizon} {spots(h_before)}."
    return (
        f"Break-evens: T+0 {spots(t0_before)} -> {spots(t0_after)}; "
        f"T+{horizon} {spots(h_before)} -> {spots(h_after)}."
    )


#: Each rule's outcomes, by the opening of the rationale sentence that states it.
_OUTCOMES = (
    ("b", "fired", "Early activation (b): "),
    ("b", "skipped", "Early activation (b) skipped"),
    ("a", "noise", "Rule (a): inside the layer-1 band"),
    ("a", "evidence", "Rule (a): evidence of a regime shift"),
    ("c", "unknown", "Rule (c), patience: none of its conditions is known"),
    ("l2", "sustained", "Layer 2 sustainability: "),
    ("c", "act", "Rule (c), patience: "),  # refined below: "hold ... wait" is a wait
    ("d", "within", "Rule (d), time-shift check:"),
    ("d", "over", "Rule (d): projected"),
    ("e", "capped", "Rule (e):"),
    ("f", "chosen", "Chosen (f):"),
    ("f", "none", "No candidate reduces the projected CVaR"),
)


def rule_outcomes(why: list[str]) -> dict[str, str]:
    """What each rule decided on a day, from its rationale sentences: ``{"a": "noise" |
    "evidence", "b": "fired" | "skipped", "c": "wait" | "act" | "unknown", "d": "within" |
    "over", "e": "capped", "f": "chosen" | "none"}``, the rules that ran only."""
    out: dict[str, str] = {}
    for sentence in why:
        for rule, outcome, opening in _OUTCOMES:
            if rule not in out and sentence.startswith(opening):
                if rule == "c" and outcome == "act" and ": wait for " in sentence:
                    outcome = "wait"
                if rule == "l2" and "past its threshold" not in sentence:
                    outcome = "inside"
                out[rule] = outcome
                break
    return out


def _decision(
    policy: Policy,
    state: Any,
    position: Position,
    market: Market,
    *,
    layer: int,
    regime: int,
    done: int,
    diagnostics: list[Diagnostic],
    greeks_before: dict[str, float],
    breakevens_before: tuple[float, ...],
    horizon_before: tuple[float, ...],
    cvar_before: float | None,
    chosen: _Chosen | None,
    why: list[str],
    portfolio_value: float,
    irr_numbers: dict[str, float],
    committed_risk: float = 0.0,
) -> Decision:
    """The `Decision`: the book after the chosen hedge (if any), its Greeks and CVaR, and
    the rationale."""
    hedge = chosen.hedge if chosen is not None else None
    actions = [chosen.action] if chosen is not None else []
    horizon = policy.rules.projection_days
    if hedge is None:  # the book is unchanged: the same numbers, not computed twice
        greeks_after, breakevens_after, horizon_after = dict(greeks_before), breakevens_before, horizon_before
    else:
        greeks_after, breakevens_after, horizon_after = _greeks(position + hedge, market, horizon)
    why.append(_migration(breakevens_before, breakevens_after, horizon_before, horizon_after, horizon, hedge))
    # The chosen hedge's projection is the one it was ranked by (same seed and paths).
    cvar_after = cvar_before if chosen is None else chosen.cvar_after
    return Decision(
        date=state.date,
        vix=float(state.vix),
        layer_before=layer,
        layer_after=regime,
        policy_version=policy.version,
        policy_name=policy.name,
        diagnostics=tuple(diagnostics),
        actions=tuple(actions),
        greeks_before=greeks_before,
        greeks_after=greeks_after,
        cvar_before=cvar_before,
        cvar_after=cvar_after,
        breakevens_before=breakevens_before,
        breakevens_after=breakevens_after,
        rationale=" ".join(why),
        extra={
            "hedge_legs": [
                {**r, "expiry": r["expiry"].isoformat()} for r in (hedge.leg_records() if hedge else [])
            ],
            "portfolio_value": float(portfolio_value),
            # the highest layer hedged after today (tomorrow's ``acted``)
            "acted": regime if actions else min(done, regime),
            "committed_risk": _committed_after(committed_risk, regime, actions),
            "rules": rule_outcomes(why),
            "breakevens_horizon": {
                "days": horizon,
                "before": list(horizon_before),
                "after": list(horizon_after),
            },
            **irr_numbers,
        },
    )
