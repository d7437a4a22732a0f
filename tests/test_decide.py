"""Policy.decide: the layer, rules (a)-(f) firing and not firing with their evidence in
the rationale, sizing within the caps, determinism, and the journal round trip."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alvh
from alvh.book.instruments import SpxOption
from alvh.errors import InvalidInputError
from alvh.policy import Policy, Rules, Sizing
from alvh.policy.journal import Journal
from alvh.policy.state import MarketState

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def Decision_from_json(decision):  # noqa: N802 - reads like the constructor it stands for
    import json

    from alvh.policy.decision import Decision

    return Decision.from_record(json.loads(json.dumps(decision.to_record())))


@pytest.fixture(scope="module")
def market() -> alvh.Market:
    return alvh.Market.from_toml(EXAMPLES / "market_2025-02-03.toml")


@pytest.fixture(scope="module")
def book() -> alvh.Position:
    return alvh.Position.from_toml(EXAMPLES / "condor.toml")


def make_state(market: alvh.Market, vix: float, **changes) -> MarketState:
    fields = dict(
        date=market.as_of,
        vix=vix,
        spx=market.spot,
        macd_hist=1.2,
        macd_expanding=False,
        ad_divergence=False,
        breadth_bid=False,
        vix_rsi=55.0,
        vix_vx1=0.93,
        vx1_vx2=0.96,
        backwardation=False,
        implied_minus_realized=0.03,
        skew_z=0.4,
        skew_steepening=False,
        correlations={},
        correlation_tightening={},
        cpi_yoy=0.034,
        ppi_yoy=0.031,
        fomc_tone="hawkish",
        custom={},
        missing=(),
    )
    fields.update(changes)
    return MarketState(**fields)


def at(market: alvh.Market, vix: float) -> alvh.Market:
    return market.bump(vix_shift=vix - market.vix)


def test_layer_0_is_the_condor_alone(market, book):
    d = Policy.preset("early").decide(
        make_state(market, 15.5), book, at(market, 15.5), portfolio_value=500_000.0
    )
    assert d.layer_after == 0 and d.actions == () and "condor alone" in d.rationale
    assert d.cvar_before is None  # no projection needed


def test_rule_a_noise_without_evidence_and_acting_with_it(market, book):
    policy = Policy.preset("early")
    quiet = policy.decide(make_state(market, 18.6), book, at(market, 18.6), portfolio_value=100_000.0)
    assert quiet.layer_after == 1 and quiet.actions == ()
    assert "Rule (a)" in quiet.rationale and "noise, wait" in quiet.rationale
    shifted = policy.decide(
        make_state(market, 18.6, backwardation=True, vix_vx1=1.04),
        book,
        at(market, 18.6),
        portfolio_value=100_000.0,
    )
    assert (
        "Rule (a): evidence of a regime shift (for acting: backwardation; against: none)" in shifted.rationale
    )
    assert shifted.cvar_before is not None  # it went on to the time-shift check


@pytest.mark.parametrize("day", [2, 3, 10])
def test_rule_a_holds_every_day_the_book_sits_in_layer_1_unacted(market, book, day):
    # Issue 14, point 1: the noise filter ran only on the day layer 1 was entered; on day
    # 2, 3, ... (layer 1 carried over, nothing acted) decide went straight to candidates.
    policy = Policy.preset("early")
    quiet = make_state(market, 18.6)
    layer, acted = 0, 0
    for _ in range(day):
        d = policy.decide(quiet, book, at(market, 18.6), layer=layer, acted=acted, portfolio_value=100_000.0)
        layer, acted = d.layer_after, int(d.extra["acted"])
    assert (layer, acted) == (1, 0)
    assert d.actions == () and d.cvar_before is None
    assert "Rule (a)" in d.rationale and "noise, wait" in d.rationale
    # evidence on a later day still lets it act (on to the time-shift check)
    shifted = policy.decide(
        make_state(market, 18.6, backwardation=True, vix_vx1=1.04),
        book,
        at(market, 18.6),
        layer=1,
        acted=0,
        portfolio_value=100_000.0,
    )
    assert (
        "Rule (a): evidence of a regime shift (for acting: backwardation; against: none)" in shifted.rationale
    )
    assert shifted.cvar_before is not None


@pytest.mark.parametrize("acted", [5, -3, 1.0, True])
def test_acted_outside_the_layers_is_refused(market, book, acted):
    # issue 16 point 3: acted=5 or -3 was accepted, journaled and carried over
    with pytest.raises(InvalidInputError, match=r"acted must be a layer 0-3"):
        Policy.preset("early").decide(
            make_state(market, 18.6), book, at(market, 18.6), layer=1, acted=acted, portfolio_value=1e5
        )


def test_rule_b_early_activation_below_the_band(market, book):
    state = make_state(market, 16.2, macd_hist=-3.1, macd_expanding=True, ad_divergence=True)
    early = Policy.preset("early").decide(state, book, at(market, 16.2), portfolio_value=1e6)
    assert early.layer_after == 1 and "Early activation (b)" in early.rationale
    assert "A/D line diverges negatively" in early.rationale
    skew = make_state(market, 16.2, macd_hist=-3.1, macd_expanding=True, skew_steepening=True, skew_z=2.5)
    assert Policy.preset("early").decide(skew, book, at(market, 16.2), portfolio_value=1e6).layer_after == 1
    rule_b_off = Policy.preset("early").with_changes(rules=Rules(early_activation=False))
    off = rule_b_off.decide(state, book, at(market, 16.2), portfolio_value=1e6)
    assert off.layer_after == 0
    missing = make_state(
        market,
        16.2,
        macd_hist=-3.1,
        macd_expanding=True,
        ad_divergence=None,
        skew_steepening=None,
        skew_z=None,
    )
    d = Policy.preset("early").decide(missing, book, at(market, 16.2), portfolio_value=1e6)
    assert d.layer_after == 0 and "Early activation (b) skipped" in d.rationale


#: Rule (c)'s four conditions all holding (CPI/PPI under 3 %, a steady FOMC, a stable
#: rate differential, a breadth bid) and the evidence rule (a) wants (backwardation).
CALM = dict(
    cpi_yoy=0.024,
    ppi_yoy=0.018,
    fomc_tone="steady",
    breadth_bid=True,
    rate_differential=1.1,
    rate_differential_change=0.05,
    rate_differential_stable=True,
    backwardation=True,
    vix_vx1=1.03,
)


def test_rule_c_patience_waits_only_while_its_conditions_hold(market, book):
    # Issue 14, point 2: patient switched layer 1 off whatever the conditions.
    patient, early = Policy.preset("patient"), Policy.preset("early")
    calm = make_state(market, 25.0, **CALM)
    d = patient.decide(calm, book, at(market, 25.0), layer=1, portfolio_value=100_000.0)
    assert d.layer_after == 2 and d.actions == () and d.cvar_before is None
    assert d.extra["rules"] == {"c": "wait"}
    assert (
        "Rule (c), patience: inflation_contained, fomc_steady, rate_differential_stable, breadth_bid "
        "hold: wait for the next band (30+)." in d.rationale
    )
    # early has no rule (c): the same calm day goes on to the time-shift check
    e = early.decide(calm, book, at(market, 25.0), layer=1, portfolio_value=100_000.0)
    assert "Rule (c)" not in e.rationale and e.cvar_before is not None
    # any known condition failing: patient acts exactly as early that day
    for change in (
        {"cpi_yoy": 0.045},
        {"fomc_tone": "hawkish"},
        {"breadth_bid": False},
        {"rate_differential_stable": False, "rate_differential_change": 0.6},
    ):
        day = replace(calm, **change)
        p = patient.decide(day, book, at(market, 25.0), layer=1, portfolio_value=100_000.0)
        e = early.decide(day, book, at(market, 25.0), layer=1, portfolio_value=100_000.0)
        assert "not met" in p.rationale and "waiting is not viable today; the layer acts" in p.rationale
        assert p.extra["rules"]["c"] == "act" and "c" not in e.extra["rules"]
        assert p.actions == e.actions and p.cvar_after == e.cvar_after, change


def test_rule_c_skips_missing_conditions_and_acts_when_none_is_known(market, book):
    patient = Policy.preset("patient")
    no_fomc = make_state(market, 25.0, **{**CALM, "fomc_tone": None})
    d = patient.decide(no_fomc, book, at(market, 25.0), layer=1, portfolio_value=100_000.0)
    assert d.actions == () and "(skipped, input missing: fomc_steady)" in d.rationale
    assert "wait for the next band" in d.rationale
    unknown = {
        "cpi_yoy": None,
        "ppi_yoy": None,
        "fomc_tone": None,
        "breadth_bid": None,
        "rate_differential_stable": None,
    }
    blind = make_state(market, 25.0, **{**CALM, **unknown})
    d = patient.decide(blind, book, at(market, 25.0), layer=1, portfolio_value=100_000.0)
    assert "none of its conditions is known" in d.rationale and "the layer acts" in d.rationale
    assert d.extra["rules"]["c"] == "unknown" and d.extra["rules"]["d"] in ("within", "over")
    assert d.cvar_before is not None
    # a policy may require fewer conditions: breadth alone
    breadth_only = patient.with_changes(rules=Rules(patience=True, patience_conditions=("breadth_bid",)))
    hot = make_state(market, 25.0, **{**CALM, "cpi_yoy": 0.06})
    d = breadth_only.decide(hot, book, at(market, 25.0), layer=1, portfolio_value=100_000.0)
    assert "Rule (c), patience: breadth_bid hold: wait" in d.rationale and d.actions == ()


@pytest.mark.parametrize("day", [2, 3, 10])
def test_patient_waits_in_layer_1_on_every_day_its_conditions_hold(market, book, day):
    patient = Policy.preset("patient")
    calm = make_state(market, 18.6, **CALM)
    layer, acted = 0, 0
    for _ in range(day):
        d = patient.decide(calm, book, at(market, 18.6), layer=layer, acted=acted, portfolio_value=100_000.0)
        layer, acted = d.layer_after, int(d.extra["acted"])
        assert "wait for the next band (24+)" in d.rationale
    assert (layer, acted) == (1, 0) and d.actions == ()


def test_rule_d_time_shift_check_defers_inside_the_budget(market, book):
    state = make_state(market, 25.0)
    rich = Policy.preset("early").decide(state, book, at(market, 25.0), layer=1, portfolio_value=10_000_000.0)
    assert rich.layer_after == 2 and rich.actions == ()
    assert "Rule (d), time-shift check" in rich.rationale and "actions wait" in rich.rationale
    off = Policy.preset("early").with_changes(rules=Rules(time_shift_check=False))
    d = off.decide(state, book, at(market, 25.0), layer=1, portfolio_value=10_000_000.0)
    assert "Rule (d)" not in d.rationale and "Candidate" in d.rationale


def test_rules_e_f_candidates_are_sized_within_the_cap_and_ranked(market, book):
    # A book that loses when the SPX falls (a short put spread): the layer-2 hedges help.
    puts = alvh.Position.vertical(
        dt.date(2025, 3, 21),
        long_strike=5700.0,
        short_strike=5800.0,
        is_call=False,
        quantity=20,
        prices={"long": 30.0, "short": 42.0},
    )
    state = make_state(market, 25.0)
    value = 200_000.0
    d = Policy.preset("early").decide(state, puts, at(market, 25.0), layer=1, portfolio_value=value)
    assert d.layer_after == 2 and len(d.actions) == 1
    action = d.actions[0]
    assert action.name in ("long_vix_calls", "spx_put_spread")
    assert action.risk <= 0.025 * value + 1e-6
    assert d.cvar_after < d.cvar_before
    assert "Chosen (f)" in d.rationale and "Candidate long_vix_calls" in d.rationale
    assert d.greeks_after != d.greeks_before  # the hedge moved the book's Greeks
    hedge = d.hedge()
    assert hedge.legs and sum(leg.entry_cost for leg in hedge.legs) == pytest.approx(action.cost)
    assert Decision_from_json(d).hedge() == hedge  # survives the journal's JSON


@settings(max_examples=12, deadline=None)
@given(cap=st.floats(min_value=0.002, max_value=0.05), value=st.floats(min_value=5e4, max_value=2e6))
def test_sizing_never_exceeds_the_caps(cap, value):
    market = alvh.Market.from_toml(EXAMPLES / "market_2025-02-03.toml")
    puts = alvh.Position.vertical(
        dt.date(2025, 3, 21),
        long_strike=5700.0,
        short_strike=5800.0,
        is_call=False,
        quantity=20,
        prices={"long": 30.0, "short": 42.0},
    )
    policy = Policy.preset("early").with_changes(
        sizing=Sizing(layer_cap=cap, total_cap=max(cap, 0.06)),
        rules=Rules(time_shift_check=False, projection_paths=300),
    )
    d = policy.decide(make_state(market, 25.0), puts, at(market, 25.0), layer=1, portfolio_value=value)
    for action in d.actions:
        assert action.risk <= cap * value + 1e-6


def test_identical_inputs_identical_decision_and_journal_round_trip(tmp_path, market, book):
    policy = Policy.preset("early")
    state = make_state(market, 25.0)
    first = policy.decide(state, book, at(market, 25.0), layer=1, portfolio_value=150_000.0)
    second = policy.decide(state, book, at(market, 25.0), layer=1, portfolio_value=150_000.0)
    assert first == second
    with Journal(tmp_path / "j.db") as journal:
        decision_id = journal.append(first, policy=policy)
        assert journal.decision(decision_id) == first


def test_missing_diagnostics_are_named_in_the_rationale(market, book):
    bare = make_state(
        market,
        19.0,
        macd_hist=None,
        macd_expanding=None,
        ad_divergence=None,
        breadth_bid=None,
        vix_rsi=None,
        vix_vx1=None,
        vx1_vx2=None,
        backwardation=None,
        implied_minus_realized=None,
        skew_z=None,
        skew_steepening=None,
        cpi_yoy=None,
        ppi_yoy=None,
        fomc_tone=None,
    )
    d = Policy.preset("early").decide(bare, book, at(market, 19.0), portfolio_value=1e6)
    for name in (
        "macd_expanding",
        "ad_divergence",
        "backwardation",
        "skew_steepening",
        "inflation_contained",
        "fomc_steady",
    ):
        assert name in d.rationale
    assert all(x.fired is None for x in d.diagnostics)
    assert "noise, wait" in d.rationale  # no evidence at all


def test_bad_inputs(market, book):
    policy = Policy.preset("early")
    with pytest.raises(InvalidInputError, match="state.date"):
        policy.decide(make_state(market, 18.0, date=dt.date(2025, 1, 31)), book, market, portfolio_value=1e5)
    with pytest.raises(InvalidInputError, match="portfolio_value"):
        policy.decide(make_state(market, market.vix), book, market, portfolio_value=-5.0)
    with pytest.raises(InvalidInputError, match="state.vix 30 and market.vix"):
        policy.decide(make_state(market, 30.0), book, market, portfolio_value=1e5)


def test_cli_decide_journals_and_carries_the_layer(tmp_path, market):
    from alvh.cli import main

    state_path = tmp_path / "state.toml"
    make_state(market, market.vix, backwardation=True, vix_vx1=1.05).to_toml(state_path)
    journal = tmp_path / "alvh.db"
    args = [
        "decide",
        "--state",
        str(state_path),
        "--position",
        str(EXAMPLES / "condor.toml"),
        "--market",
        str(EXAMPLES / "market_2025-02-03.toml"),
        "--journal",
        str(journal),
        "--portfolio-value",
        "150000",
    ]
    assert main(args) == 0
    with Journal(journal) as j:
        first = j.decision(1)
    assert first.layer_before == 0 and first.layer_after == 1  # VIX 18.62: layer 1
    assert (
        "Rule (a): evidence of a regime shift (for acting: backwardation; against: none)" in first.rationale
    )
    # the same day again is refused (issue 18: once a day, in order) and journals nothing
    assert main(args[:-2]) == 2
    with Journal(journal) as j:
        assert len(j) == 1
    # forced, the next run starts from the journal's last layer and portfolio value
    assert main([*args[:-2], "--force"]) == 0
    with Journal(journal) as j:
        second = j.decision(2)
        assert len(j) == 2
    assert second.layer_before == 1
    assert second.extra["portfolio_value"] == 150000.0
    assert main([*args[:-2], "--force", "--portfolio-value", "-1"]) == 2
    fresh = [*args[:-4], "--journal", str(tmp_path / "fresh.db")]
    assert main(fresh) == 2  # no portfolio value yet: says what is needed
    assert not (tmp_path / "fresh.db").exists()  # and a failed run creates no journal
    assert main([*args[:2], str(tmp_path / "missing.toml"), *args[3:]]) == 2


def test_layer_3_recomputes_the_return_against_capm(market, book):
    m31 = at(market, 31.0)
    d = Policy.preset("early").decide(make_state(m31, 31.0), book, m31, layer=2, portfolio_value=1e6)
    assert d.layer_after == 3 and "Layer 3 return check" in d.rationale
    extra = d.extra
    summary = alvh.book.analytics.summary(book, m31, breakeven_days=())
    assert extra["capital"] == summary.margin
    beta = summary.delta_dollars_per_1pct / (0.01 * summary.margin)
    assert extra["beta"] == pytest.approx(beta, rel=1e-12)
    assert extra["capm_required"] == pytest.approx(m31.rate + beta * 0.055, rel=1e-12)
    # the IRR is the mean projected P&L on the capital, annualized
    from alvh.risk.projection import STAT_NAMES, project

    proj = project(
        book,
        m31,
        scenarios="gdp_x_earnings",
        days=10,
        paths=2000,
        seed=0,
        greek_paths=0,
        representative=False,
    )
    mean = proj.mixture[-1, STAT_NAMES.index("mean")]
    assert extra["irr"] == pytest.approx((1 + mean / summary.margin) ** 36.5 - 1, rel=1e-12)
    below = Policy.preset("early").decide(make_state(market, market.vix), book, market, portfolio_value=1e6)
    assert "Layer 3 return check" not in below.rationale


def test_total_cap_bounds_todays_hedge_with_earlier_layers(market):
    puts = alvh.Position.vertical(
        dt.date(2025, 3, 21),
        long_strike=5700.0,
        short_strike=5800.0,
        is_call=False,
        quantity=20,
        prices={"long": 30.0, "short": 42.0},
    )
    value = 200_000.0  # layer cap 2.5 % = 5,000 $; total 6 % = 12,000 $
    policy = Policy.preset("early")
    state = make_state(market, 25.0)
    free = policy.decide(state, puts, at(market, 25.0), layer=1, portfolio_value=value)
    tight = policy.decide(
        state, puts, at(market, 25.0), layer=1, portfolio_value=value, committed_risk=10_000.0
    )
    assert free.actions and free.actions[0].risk > 2_000.0
    assert "leaves 2,000 $ under the 6.0% total cap" in tight.rationale
    assert all(a.risk <= 2_000.0 + 1e-6 for a in tight.actions)
    used_up = policy.decide(
        state, puts, at(market, 25.0), layer=1, portfolio_value=value, committed_risk=12_000.0
    )
    assert used_up.actions == () and "total cap is used up" in used_up.rationale
    with pytest.raises(InvalidInputError, match="committed_risk"):
        policy.decide(state, puts, at(market, 25.0), portfolio_value=value, committed_risk=-1.0)


def test_readme_decide_command_on_the_example_files(tmp_path, capsys):
    from alvh.cli import main

    code = main(
        [
            "decide",
            "--state",
            str(EXAMPLES / "state_2025-02-03.toml"),
            "--position",
            str(EXAMPLES / "condor_vix_hedge.toml"),
            "--market",
            str(EXAMPLES / "market_2025-02-03.toml"),
            "--journal",
            str(tmp_path / "alvh.db"),
            "--portfolio-value",
            "250000",
        ]
    )
    printed = " ".join(capsys.readouterr().out.split())
    assert code == 0, printed
    assert "layer 0 -> 1" in printed and "journaled as decision 1" in printed
    assert main(["journal", "show", "--journal", str(tmp_path / "alvh.db")]) == 0


# -- issue 14, point 4: every diagnostic decides something, in a stated direction --------


def test_a_bullish_macd_expansion_is_not_evidence(market, book):
    # before: |histogram| rising counted whatever its sign
    early = Policy.preset("early")
    bullish = make_state(market, 16.2, macd_hist=3.1, macd_expanding=True, ad_divergence=True)
    d = early.decide(bullish, book, at(market, 16.2), portfolio_value=1e6)
    assert d.layer_after == 0 and "Early activation (b)" not in d.rationale
    (macd,) = [x for x in d.diagnostics if x.name == "macd_expanding"]
    assert macd.fired is False and "bullish" in macd.note and macd.role == "for"
    day = make_state(
        market, 18.6, macd_hist=3.1, macd_expanding=True, vix_vx1=None, vx1_vx2=None, backwardation=None
    )
    d = early.decide(day, book, at(market, 18.6), portfolio_value=1e5)
    assert "for acting: none" in d.rationale and "noise, wait" in d.rationale


def test_contango_weighs_against_acting(market, book):
    # before: contango was reported as "likely noise" and decided nothing
    early = Policy.preset("early")
    one_sign = dict(ad_divergence=True)
    contango = make_state(market, 18.6, **one_sign)  # vix_vx1 0.93: contango
    d = early.decide(contango, book, at(market, 18.6), portfolio_value=1e5)
    assert "for acting: ad_divergence; against: contango" in d.rationale and d.extra["rules"]["a"] == "noise"
    off = early.with_changes(rules=Rules(contango_against=False))
    d = off.decide(contango, book, at(market, 18.6), portfolio_value=1e5)
    assert d.extra["rules"]["a"] == "evidence"


def test_a_stretched_vix_rsi_argues_noise_unless_the_policy_says_otherwise(market, book):
    # before: RSI above 70 counted as proof of a regime shift although called "stretched"
    early = Policy.preset("early")
    stretched = make_state(market, 18.6, vix_rsi=82.0, vix_vx1=None, vx1_vx2=None, backwardation=None)
    d = early.decide(stretched, book, at(market, 18.6), portfolio_value=1e5)
    assert "against: vix_rsi" in d.rationale and d.extra["rules"]["a"] == "noise"
    momentum = early.with_changes(rules=Rules(vix_rsi_role="for"))
    d = momentum.decide(stretched, book, at(market, 18.6), portfolio_value=1e5)
    assert "for acting: vix_rsi" in d.rationale and d.extra["rules"]["a"] == "evidence"
    with pytest.raises(InvalidInputError, match=r"rules\.vix_rsi_role must be one of"):
        Rules(vix_rsi_role="maybe")


def test_skew_steepening_alone_starts_layer_1_early(market, book):
    # before: skew counted only next to an expanding MACD
    skew_only = make_state(market, 16.2, skew_steepening=True, skew_z=2.6)
    d = Policy.preset("early").decide(skew_only, book, at(market, 16.2), portfolio_value=1e6)
    assert d.layer_after == 1 and "the put skew steepens (z-score above 2), on its own" in d.rationale
    off = Policy.preset("early").with_changes(rules=Rules(skew_alone_triggers=False))
    assert off.decide(skew_only, book, at(market, 16.2), portfolio_value=1e6).layer_after == 0


def test_implied_minus_realized_decides_in_both_directions(market, book):
    # before: realized above implied was excluded from the evidence; a rich premium did nothing
    early = Policy.preset("early")
    neutral = dict(vix_vx1=None, vx1_vx2=None, backwardation=None)
    moving = make_state(market, 18.6, implied_minus_realized=-0.02, **neutral)
    d = early.decide(moving, book, at(market, 18.6), portfolio_value=1e5)
    assert "for acting: implied_minus_realized" in d.rationale and d.extra["rules"]["a"] == "evidence"
    rich = make_state(market, 18.6, implied_minus_realized=0.08, ad_divergence=True, **neutral)
    d = early.decide(rich, book, at(market, 18.6), portfolio_value=1e5)
    assert "against: temporal_theta" in d.rationale and d.extra["rules"]["a"] == "noise"
    (theta,) = [x for x in d.diagnostics if x.name == "temporal_theta"]
    assert theta.fired and theta.role == "against" and "extrinsic value" in theta.note


def test_every_diagnostic_has_a_role(market, book):
    from alvh.policy.engine import ROLES

    d = Policy.preset("patient").decide(make_state(market, 18.6), book, at(market, 18.6), portfolio_value=1e5)
    assert {x.name for x in d.diagnostics} == set(ROLES)
    assert all(x.role in ("for", "against", "condition") for x in d.diagnostics)


# -- issue 14, point 9: break-even migration in the record and the text; layer 3 acts ----


def _long_put_spread(market: alvh.Market) -> alvh.Position:
    """Two 5900/5800 put spreads bought at model prices: at VIX 40 their expected 10-day
    P&L is a loss (decay), so layer 3's return check finds they no longer earn their risk."""
    legs = []
    for strike, quantity in ((5900.0, 2), (5800.0, -2)):
        expiry = dt.date(2025, 3, 21)
        price = float(
            alvh.bsm.price(
                is_call=False,
                spot=market.spot,
                strike=strike,
                t=float(market.t(expiry)),
                rate=market.rate,
                div=market.div,
                vol=float(market.spx_vol(strike, expiry)),
            )
        )
        legs.append(SpxOption(expiry, strike, False, quantity, round(price, 4)))
    return alvh.Position(tuple(legs))


def test_layer_3_closes_a_book_that_no_longer_earns_its_risk(market):
    # before: the IRR/CAPM verdict was text only; the action never changed
    hot = at(market, 40.0)
    book = _long_put_spread(hot)
    state = make_state(market, 40.0)
    d = Policy.preset("early").decide(state, book, hot, layer=3, acted=3, portfolio_value=1e5)
    assert [a.name for a in d.actions] == ["close_book"]
    assert (
        "no longer earns its risk" in d.rationale
        and "Layer 3 (close): close the book's SPX options" in d.rationale
    )
    assert d.breakevens_after == () and d.cvar_after == pytest.approx(0.0, abs=1e-6)
    legs = d.hedge().legs
    assert {(leg.strike, leg.quantity) for leg in legs} == {(5900.0, -2), (5800.0, 2)}
    reduce = Policy.preset("early").with_changes(rules=Rules(irr_action="reduce"))
    r = reduce.decide(state, book, hot, layer=3, acted=3, portfolio_value=1e5)
    assert [a.name for a in r.actions] == ["reduce_book"]
    assert {(leg.strike, leg.quantity) for leg in r.hedge().legs} == {(5900.0, -1), (5800.0, 1)}
    report = Policy.preset("early").with_changes(rules=Rules(irr_action="report"))
    assert report.decide(state, book, hot, layer=3, acted=3, portfolio_value=1e5).actions == ()
    with pytest.raises(InvalidInputError, match=r"rules\.irr_action must be one of"):
        Rules(irr_action="panic")


def test_break_even_migration_is_recorded_at_t0_and_the_horizon(market, book):
    # before: only T+0 break-evens, only in the JSON record
    d = Policy.preset("early").decide(make_state(market, 18.6), book, at(market, 18.6), portfolio_value=1e5)
    horizon = d.extra["breakevens_horizon"]
    assert horizon["days"] == 10 and len(horizon["before"]) == 2 and horizon["after"] == horizon["before"]
    t0 = " / ".join(f"{v:,.0f}" for v in d.breakevens_before)
    t10 = " / ".join(f"{v:,.0f}" for v in horizon["before"])
    assert f"Break-evens: T+0 {t0}; T+10 {t10}." in d.rationale
    hot = at(market, 40.0)
    closed = Policy.preset("early").decide(
        make_state(market, 40.0), _long_put_spread(hot), hot, layer=3, acted=3, portfolio_value=1e5
    )
    assert "Break-evens: T+0 5,995 -> none; T+10 " in closed.rationale


def test_cli_decide_prints_the_break_evens(tmp_path, market, capsys):
    from alvh.cli import main

    state_path = tmp_path / "state.toml"
    make_state(market, market.vix).to_toml(state_path)
    args = ["decide", "--state", str(state_path), "--position", str(EXAMPLES / "condor.toml")]
    args += ["--market", str(EXAMPLES / "market_2025-02-03.toml"), "--journal", str(tmp_path / "j.db")]
    assert main([*args, "--portfolio-value", "150000"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "break-evens: T+0 " in out and "; T+10 " in out


# -- issue 14, point 6: strike adjustments 15-25 points, both sides, tighten, preference ---


def _strikes(position: alvh.Position) -> set[tuple[float, bool, int]]:
    return {(leg.strike, leg.is_call, leg.quantity) for leg in position.legs}


def test_roll_moves_the_threatened_side_wider_and_tighten_the_untested_side_closer(market, book):
    from alvh.policy import engine

    down = market.bump(spot_move=-0.04)  # SPX 5,755: the 5625 put ~0.4 sd away, the 6300 call ~1.6 sd
    early = Policy.preset("early")
    roll = engine._roll(early, book, down, budget=1e6)
    assert roll is not None
    trade, action = roll
    # the short put and its wing, 20 points lower (closed and reopened); the calls untouched
    assert _strikes(trade) == {
        (5625.0, False, 10),
        (5575.0, False, -10),
        (5605.0, False, -10),
        (5555.0, False, 10),
    }
    assert "put 5625 -> 5605" in action.description and action.cost == action.risk > 0
    tighten = engine._tighten(early, book, down, budget=1e6)
    assert tighten is not None
    trade, action = tighten
    assert _strikes(trade) == {
        (6300.0, True, 10),
        (6350.0, True, -10),
        (6280.0, True, -10),
        (6330.0, True, 10),
    }
    assert action.name == "tighten_untested" and action.cost < 0 and "credit" in action.description
    wide = early.with_changes(sizing=Sizing(roll_points=25.0))
    trade, _ = engine._roll(wide, book, down, budget=1e6)
    assert (5600.0, False, -10) in _strikes(trade)
    with pytest.raises(InvalidInputError, match=r"sizing\.roll_points must be 15, 20 or 25"):
        Sizing(roll_points=30.0)


def test_both_threatened_sides_roll_and_nothing_to_tighten(market, book):
    from alvh.policy import engine

    tight = Policy.preset("early").with_changes(sizing=Sizing(threat_sd=2.0))  # both shorts inside 2 sd
    trade, action = engine._roll(tight, book, market, budget=1e6)
    moved = {(k, c) for k, c, q in _strikes(trade) if q < 0}  # the new shorts
    assert (5605.0, False) in moved and (6320.0, True) in moved
    assert engine._tighten(tight, book, market, budget=1e6) is None  # no untested side left


def test_a_correlation_tightening_prefers_the_strike_adjustments(market, book):
    down = at(market, 19.0).bump(spot_move=-0.04)
    base = dict(backwardation=True, vix_vx1=1.03, spx=down.spot)
    plain = Policy.preset("early").decide(make_state(down, 19.0, **base), book, down, portfolio_value=2e5)
    tight = make_state(
        down, 19.0, correlations={"reits": 0.8}, correlation_tightening={"reits": True}, **base
    )
    d = Policy.preset("early").decide(tight, book, down, portfolio_value=2e5)
    assert "Candidate roll_short_strikes" in d.rationale and "Candidate tighten_untested" in d.rationale
    if (
        any(a.name in ("roll_short_strikes", "tighten_untested") for a in d.actions)
        or "prefer" in d.rationale
    ):
        assert "the strike adjustments are preferred" in d.rationale
        assert d.actions[0].name in ("roll_short_strikes", "tighten_untested")
    assert "preferred" not in plain.rationale


# -- issue 14, point 8: temporal theta --------------------------------------------------------


def test_theta_given_up_is_reported_per_candidate_and_breaks_ties(market, book, monkeypatch):
    from alvh.policy import engine
    from alvh.policy.decision import Action

    expiry = dt.date(2025, 3, 21)
    near = alvh.Position((SpxOption(expiry, 5900.0, False, 1, 60.0),))  # near the money: costly decay
    far = alvh.Position((SpxOption(expiry, 5300.0, False, 1, 60.0),))  # far out: little decay
    same = dict(contracts=1.0, cost=500.0, risk=500.0)

    def two(policy, layer, position, market, budget, seed):
        return [
            (near, Action("spx_put_spread", "near put", **same)),
            (far, Action("long_vix_calls", "far put", **same)),
        ], []

    monkeypatch.setattr(engine, "_candidates", two)
    monkeypatch.setattr(
        engine, "_cvar", lambda position, market, policy, seed: 900.0 if len(position.legs) > 4 else 1000.0
    )
    why: list[str] = []
    chosen = engine._best_hedge(
        Policy.preset("early"),
        2,
        book,
        market,
        budget=1e4,
        cvar_before=1000.0,
        seed=0,
        why=why,
        theta_before=engine._theta(book, market),
    )
    assert chosen is not None and chosen.action.description == "far put"  # equal cut per $: less theta lost
    lines = [w for w in why if w.startswith("Candidate ")]
    assert all("theta given up" in w and "$/day per $ of CVaR cut" in w for w in lines)


# -- issue 14, point 7: sizing by exposure, risk at the CVaR level, committed risk carried ----


def test_candidates_are_sized_to_the_exposure_not_to_the_cap(market, book):
    from alvh.policy import engine

    down = at(market, 19.0).bump(spot_move=-0.04)
    early = Policy.preset("early")
    big_budget = 1e6
    legs, action = engine._candidate(early, "short_vix_calls", engine._Exposures(book, down), big_budget, 0)
    # before: floor(budget / premium) calls, whatever the book's exposure
    vix_dollars = engine._book_vix_dollars(book, down)
    assert action.cost < 0.01 * big_budget and "offsets 100% of the book's" in action.description
    per_point = engine._vix_call_builder(down, 14, 3.0, "short_vix_calls")[0]
    assert action.contracts == round(-vix_dollars / per_point)
    half = early.with_changes(sizing=Sizing(hedge_share=0.5))
    _, smaller = engine._candidate(half, "short_vix_calls", engine._Exposures(book, down), big_budget, 0)
    assert smaller.contracts == round(-0.5 * vix_dollars / per_point)
    # the risk is the candidate's own projected CVaR 95 loss, not its premium or commissions
    assert action.risk == pytest.approx(engine._risk(legs, down, early, 0)) and action.risk > 0


def test_a_synthetic_future_carries_its_real_risk_and_a_vix_future_is_within_reach(market, book):
    from alvh.policy import engine

    down = at(market, 19.0).bump(spot_move=-0.04)
    early = Policy.preset("early")
    big = alvh.Position(
        tuple(SpxOption(x.expiry, x.strike, x.is_call, x.quantity * 10, x.entry_price) for x in book.legs)
    )
    legs, action = engine._candidate(early, "neutralize_delta", engine._Exposures(big, down), 1e7, 0)
    assert action.risk > 1000.0 * action.contracts  # before: 1 $ per contract of commissions
    assert action.risk == pytest.approx(engine._risk(legs, down, early, 0))
    # one VIX future: before, its risk was (F - 9) x 1000 (about 10,000 $), out of reach of the
    # 2.5 % cap below 400 k$ of portfolio; now its projected loss, a fraction of that
    legs, action = engine._candidate(early, "vix_futures", engine._Exposures(big, down), 1e7, 0)
    one = engine._cvar(
        alvh.Position((legs.legs[0].__class__(legs.legs[0].expiry, 1, legs.legs[0].entry_price),)),
        down,
        early,
        0,
    )
    assert 0.0 < one < 0.6 * 1000.0 * (legs.legs[0].entry_price - engine.VIX_FLOOR)
    assert action.risk <= 1e7


def test_the_cli_carries_the_committed_risk_in_the_journal(tmp_path, market):
    from alvh.cli import main

    journal = tmp_path / "alvh.db"
    state_path = tmp_path / "state.toml"
    make_state(market, market.vix, backwardation=True, vix_vx1=1.05).to_toml(state_path)
    args = ["decide", "--state", str(state_path), "--position", str(EXAMPLES / "condor.toml")]
    args += ["--market", str(EXAMPLES / "market_2025-02-03.toml"), "--journal", str(journal)]
    assert main([*args, "--portfolio-value", "150000", "--committed-risk", "5000"]) == 0
    with Journal(journal) as j:
        first = j.decision(1)
    risk = sum(a.risk for a in first.actions)
    assert first.extra["committed_risk"] == pytest.approx(5000.0 + risk)
    assert main([*args, "--force"]) == 0  # no --committed-risk: the journal's
    with Journal(journal) as j:
        second = j.decision(2)
    assert second.extra["committed_risk"] == first.extra["committed_risk"]  # carried, nothing new
    assert main([*args, "--force", "--layer", "0", "--acted", "0"]) == 0  # a fresh layer-1 decision
    with Journal(journal) as j:
        third = j.decision(3)
    assert (
        f"Rule (e): {first.extra['committed_risk']:,.0f} $ already at risk in earlier layers"
        in third.rationale
    )


# -- issue 14, point 5: layer 2's diagnostics (liquidity, valuation) and rule (c)'s rates --


def test_layer_2_sustainability_series_decide_against_waiting(market, book):
    # before: layer 2 had no diagnostics; a quick ratio or P/CF series could decide nothing
    patient = Policy.preset("patient")
    thin = {"quick_ratio": (0.82, 0.9, True), "price_to_cash_flow": (14.0, 18.0, False)}
    d = patient.decide(
        make_state(market, 25.0, **CALM, custom=thin), book, at(market, 25.0), layer=1, portfolio_value=1e5
    )
    assert "Layer 2 sustainability: quick_ratio past its threshold" in d.rationale
    assert "Rule (c)" not in d.rationale and d.cvar_before is not None  # it acts, whatever (c) says
    assert d.extra["rules"]["l2"] == "sustained"
    (q,) = [x for x in d.diagnostics if x.name == "custom:quick_ratio"]
    assert q.role == "layer2" and q.fired
    fine = {"quick_ratio": (1.1, 0.9, False), "price_to_cash_flow": (14.0, 18.0, False)}
    d = patient.decide(
        make_state(market, 25.0, **CALM, custom=fine), book, at(market, 25.0), layer=1, portfolio_value=1e5
    )
    assert (
        "price_to_cash_flow, quick_ratio inside the thresholds" in d.rationale
        and "wait for the next band" in d.rationale
    )
    d = patient.decide(make_state(market, 25.0, **CALM), book, at(market, 25.0), layer=1, portfolio_value=1e5)
    assert "Layer 2 sustainability skipped: no quick_ratio or price_to_cash_flow series given" in d.rationale
    # a layer-2 series is not layer-1 evidence
    early = Policy.preset("early")
    d = early.decide(make_state(market, 18.6, custom=thin), book, at(market, 18.6), portfolio_value=1e5)
    assert "for acting: none" in d.rationale


# -- issue 18, point 2: the journal as the book's memory --


def test_each_policy_keeps_its_own_state_and_days_go_in_order(tmp_path, market, capsys, monkeypatch):
    from alvh.cli import main

    monkeypatch.setenv("COLUMNS", "250")
    journal = tmp_path / "alvh.db"
    state_path = tmp_path / "state.toml"
    make_state(market, market.vix, backwardation=True, vix_vx1=1.05).to_toml(state_path)
    args = ["decide", "--state", str(state_path), "--position", str(EXAMPLES / "condor.toml")]
    args += ["--market", str(EXAMPLES / "market_2025-02-03.toml"), "--journal", str(journal)]
    assert main([*args, "--portfolio-value", "150000"]) == 0
    with Journal(journal) as j:
        early = j.decision(1)
    assert early.policy_name == "early" and early.layer_after == 1
    capsys.readouterr()
    # patient has no decision yet: it starts from layer 0, nothing acted, and says why;
    # it needs its own portfolio value (another policy's is not carried)
    assert main([*args, "--policy", "patient"]) == 2
    assert main([*args, "--policy", "patient", "--portfolio-value", "150000"]) == 0
    out = capsys.readouterr().out
    assert "no decision of policy 'patient'" in " ".join(out.split())
    with Journal(journal) as j:
        patient = j.decision(2)
    assert patient.policy_name == "patient" and patient.layer_before == 0
    # a day before the policy's last decision is refused (out of order), nothing journaled
    make_state(alvh.Market.from_toml(EXAMPLES / "market_2025-02-03.toml"), market.vix).to_toml(state_path)
    earlier = tmp_path / "earlier.toml"
    text = state_path.read_text().replace(str(market.as_of), str(market.as_of - dt.timedelta(days=1)))
    earlier.write_text(text)
    assert main([*args[:2], str(earlier), *args[3:]]) == 2
    assert "before 'early''s last decision" in " ".join(capsys.readouterr().out.split())
    with Journal(journal) as j:
        assert len(j) == 2


def test_a_hedge_the_journal_bought_but_the_position_lacks_is_pointed_out(
    tmp_path, market, capsys, monkeypatch
):
    from alvh.cli import main

    monkeypatch.setenv("COLUMNS", "250")
    journal = tmp_path / "alvh.db"
    state_path = tmp_path / "state.toml"
    make_state(market, market.vix, backwardation=True, vix_vx1=1.05).to_toml(state_path)
    position = tmp_path / "condor.toml"
    position.write_text((EXAMPLES / "condor.toml").read_text())
    args = ["decide", "--state", str(state_path), "--position", str(position)]
    args += ["--market", str(EXAMPLES / "market_2025-02-03.toml"), "--journal", str(journal)]
    assert main([*args, "--portfolio-value", "150000"]) == 0
    with Journal(journal) as j:
        first = j.decision(1)
    assert first.actions and int(first.extra["acted"]) == 1
    capsys.readouterr()
    assert main([*args, "--force"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "the journal says layer 1's hedge was bought on" in said and "does not hold those legs" in said
    # bought with --write-position the day it was decided: nothing to point out
    other = [*args[:-1], str(tmp_path / "other.db")]
    assert main([*other, "--portfolio-value", "150000", "--write-position"]) == 0
    capsys.readouterr()
    assert main([*other, "--force"]) == 0
    assert "does not hold those legs" not in " ".join(capsys.readouterr().out.split())


def test_the_ladder_sizes_every_layers_candidates_to_the_book(market, book):
    # issue 18 point 1: what each layer would do right now
    from alvh.policy.engine import ladder

    policy = Policy.preset("early")
    rows = ladder(policy, book, market, portfolio_value=150_000.0)
    assert [r["layer"] for r in rows] == sorted(r["layer"] for r in rows)
    for layer in policy.layers:
        names = [r["action"] for r in rows if r["layer"] == layer.number]
        assert names and sorted(names) == sorted(layer.actions)  # every candidate, made or why not
    for r in rows:
        if r["risk"] is not None:
            assert r["risk"] <= 0.025 * 150_000.0 + 1e-6  # within the layer cap
    # a committed risk at the total cap leaves nothing
    full = ladder(policy, book, market, portfolio_value=150_000.0, committed_risk=0.06 * 150_000.0)
    assert all(r["trade"] == "the total cap is used up" for r in full)
    patient = policy.with_changes(layers=(replace(policy.layers[0], enabled=False), *policy.layers[1:]))
    assert ladder(patient, book, market, portfolio_value=150_000.0)[0]["trade"] == "disabled: never entered"
