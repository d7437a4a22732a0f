"""The ALVH layer policy's configuration and its layer state machine (DESIGN.md "The
layer policy").

A `Policy` holds the VIX bands of layers 1-3 with their exit buffers (hysteresis),
each layer's candidate actions, the rule switches and thresholds, and the sizing
caps; presets ``"early"`` (act in the 17-22 band) and ``"patient"`` (wait for 24+
while rule (c)'s conditions hold),
a TOML form (``docs/policy_format.md``) and a version hash of the configuration (the
journal's governance log keys decisions by it).

**Layers.** On each VIX close ``v``, from the current layer ``c``:

- up: the layer becomes the highest enabled layer whose band start is ``<= v`` when
  that is above ``c`` (a VIX jumping from 16 to 25 enters layer 2 directly);
- down: while ``v`` is below the current layer's start minus its exit buffer, the
  layer steps down (and the test repeats for the layer below; layer 0 has no band);
- otherwise the layer holds: between bands (22-24 and 29-30 by default) and inside
  the exit buffer nothing changes.

A disabled layer (``enabled = false`` in a custom policy) is never entered: the VIX
must reach the next enabled band. The state machine is `Policy.next_layer` (one close) and
`Policy.layer_path` (a series). The decision itself (diagnostics, rules (a)-(f),
sized candidates ranked by projected tail-risk reduction) builds on this.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from alvh._core import toml
from alvh._core.checks import input_error
from alvh._core.io import atomic_write
from alvh.errors import InputTypeError, InvalidInputError
from alvh.policy import engine
from alvh.policy.exits import EXIT_DEFAULTS

__all__ = [
    "ACTIONS",
    "FORMAT_VERSION",
    "LAYERS",
    "PATIENCE_CONDITIONS",
    "Layer",
    "Policy",
    "Rules",
    "Sizing",
    "decide",
]


#: The TOML format version `Policy.to_toml` writes and `Policy.from_toml` reads.
FORMAT_VERSION = 1

#: The candidate actions a layer may list (DESIGN.md's table), and what each does.
ACTIONS: dict[str, str] = {
    "roll_short_strikes": "roll the threatened short strikes 15-25 points away (both sides when both are)",
    "tighten_untested": "tighten the untested side 15-25 points toward the spot, for a credit",
    "vix_futures": "buy VIX futures to flatten the book's vega",
    "short_vix_calls": "buy short-dated VIX calls against gamma",
    "long_vix_calls": "buy longer-dated VIX calls (convex protection)",
    "spx_put_spread": "buy an SPX put spread (convex protection)",
    "neutralize_delta": "neutralize delta with conversions / reversals and recompute the "
    "position's IRR against the risk-free rate and a CAPM required return",
}

#: Highest layer number.
LAYERS = 3
PATIENCE_CONDITIONS = engine.PATIENCE_CONDITIONS


def _bad(field_name: str, value: Any, requirement: str) -> InvalidInputError:
    return input_error(f"{field_name} must be {requirement}; got {value!r}", arg=field_name, value=value)


def _number(field_name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputTypeError(f"{field_name} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise _bad(field_name, number, "finite")
    return number


def _whole(field_name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputTypeError(f"{field_name} must be an int, got {type(value).__name__} {value!r}")
    if not low <= value <= high:
        raise _bad(field_name, value, f"between {low} and {high}")
    return int(value)


@dataclass(frozen=True)
class Layer:
    """One protection layer: its VIX band ``[start, end)`` (``end`` None: open above),
    the ``exit_buffer`` (VIX points below ``start`` before the layer is left), whether
    it is ``enabled`` (entered at all) and its candidate ``actions`` (`ACTIONS` keys).

    The exits of the hedges it buys (`alvh.policy.exits`; each optional, besides the two
    that always apply: the layer left, the hedge's expiry):

    - ``take_profit``: sell ``take_profit_share`` of a hedge (all by default) when it is
      worth ``take_profit`` times what it cost (a multiple above 1; None: never);
    - ``vix_retrace``: sell it when the VIX has fallen this share (in (0, 1)) from its
      highest close since the hedge was bought (None: never);
    - ``restrike``: after either sale, while the layer holds, the layer may buy a new
      hedge (at today's strikes) as if it had not acted;
    - ``roll``: a hedge at its roll date (``roll_days`` calendar days or fewer before its
      first expiry) while its layer holds is sold and the same kind bought on the next
      expiry, sized again within the caps; without it (or once the layer is left) it is
      sold then.

    The fields' defaults are "never" (a layer of a policy file without these keys has
    only the two exits that always apply); the presets' layers 1 and 2 carry the
    walk-forward choice `alvh.policy.exits.EXIT_DEFAULTS` (take profit at 3x, restrike)."""

    number: int
    start: float
    end: float | None
    exit_buffer: float
    actions: tuple[str, ...]
    enabled: bool = True
    take_profit: float | None = None
    take_profit_share: float = 1.0
    vix_retrace: float | None = None
    restrike: bool = False
    roll: bool = True
    roll_days: int = 1

    def __post_init__(self) -> None:
        prefix = f"layers[{self.number}]"
        _whole(f"{prefix}.number", self.number, 1, LAYERS)
        start = _number(f"{prefix}.start", self.start)
        if start <= 0.0:
            raise _bad(f"{prefix}.start", start, "a positive VIX level")
        if self.end is not None:
            end = _number(f"{prefix}.end", self.end)
            if end <= start:
                raise _bad(f"{prefix}.end", end, f"above the band start {start:g}")
            object.__setattr__(self, "end", end)
        buffer = _number(f"{prefix}.exit_buffer", self.exit_buffer)
        if buffer < 0.0:
            raise _bad(f"{prefix}.exit_buffer", buffer, "zero or positive (VIX points)")
        if isinstance(self.actions, str) or not isinstance(self.actions, Iterable):
            raise InputTypeError(f"{prefix}.actions must be a list of action names")
        actions = tuple(self.actions)
        for i, action in enumerate(actions):
            if action not in ACTIONS:
                raise _bad(f"{prefix}.actions[{i}]", action, f"one of {', '.join(sorted(ACTIONS))}")
        if len(set(actions)) != len(actions):
            raise _bad(f"{prefix}.actions", list(actions), "without repeats")
        for name in ("enabled", "restrike", "roll"):
            if not isinstance(getattr(self, name), bool):
                raise InputTypeError(f"{prefix}.{name} must be true or false")
        if self.take_profit is not None:
            multiple = _number(f"{prefix}.take_profit", self.take_profit)
            if not 1.0 < multiple <= 1000.0:
                raise _bad(
                    f"{prefix}.take_profit",
                    multiple,
                    "a multiple of the hedge's cost above 1 (at 1 or below the 'profit' is a loss)",
                )
            object.__setattr__(self, "take_profit", multiple)
        share = _number(f"{prefix}.take_profit_share", self.take_profit_share)
        if not 0.0 < share <= 1.0:
            raise _bad(f"{prefix}.take_profit_share", share, "a fraction in (0, 1] of the hedge sold")
        object.__setattr__(self, "take_profit_share", share)
        if self.vix_retrace is not None:
            retrace = _number(f"{prefix}.vix_retrace", self.vix_retrace)
            if not 0.0 < retrace < 1.0:
                raise _bad(f"{prefix}.vix_retrace", retrace, "a share in (0, 1) of the VIX's peak")
            object.__setattr__(self, "vix_retrace", retrace)
        _whole(f"{prefix}.roll_days", self.roll_days, 1, 30)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "exit_buffer", buffer)
        object.__setattr__(self, "actions", actions)


@dataclass(frozen=True)
class Rules:
    """The rule switches and thresholds (DESIGN.md rules (a)-(d)).

    - ``require_regime_evidence`` (a): inside the layer-1 band act only when the evidence
      of a regime shift outweighs the signs of noise (more fired "for" diagnostics than
      "against" ones, `alvh.policy.engine.ROLES`), otherwise call it noise and wait, every
      day the book sits in layer 1 unacted. For: a bearish MACD expansion, A/D
      divergence, backwardation, realized vol above implied, skew steepening, a
      correlation tightening, a custom series past its threshold. Against: contango
      (``contango_against``), implied above realized by ``theta_premium`` or more
      (temporal theta: elevated implied vol inflates the condor's extrinsic value), and
      the VIX's RSI above ``vix_rsi_overbought`` when ``vix_rsi_role`` is "against" (the
      default: a stretched VIX tends to revert; "for" counts it as momentum, "ignore"
      drops it).
    - ``early_activation`` (b): a *bearish* MACD histogram (negative) expanding for
      ``macd_expanding_days`` while the A/D line diverges negatively over
      ``breadth_window`` days or the put skew steepens, or (``skew_alone_triggers``, the
      seed's "if skew steepens dramatically") the put-skew z-score above
      ``skew_z_threshold`` on its own, starts layer 1 below its band.
    - ``patience`` (c): while every condition of ``patience_conditions`` holds, layers 1-2
      wait for the next band (`PATIENCE_CONDITIONS`: CPI/PPI year-on-year below
      ``inflation_ceiling``, a steady or dovish FOMC, the interest-rate differential
      moving less than ``rate_stability`` percentage points over ``rate_window`` days, a
      breadth bid). A condition whose input is missing is skipped and said; with none
      known the book cannot show patience is viable and acts (the seed: waiting is viable
      *only* under those conditions). Off in ``early``, on in ``patient``. A CPI/PPI or
      FOMC reading older than ``macro_max_age`` calendar days (default 62: a monthly
      release or the longest gap between FOMC meetings, with slack) is stale: missing.
    - ``time_shift_check`` (d): project the book ``projection_days`` forward with
      ``projection_paths`` paths; if the projected CVaR 95 is inside ``cvar_budget``
      (a fraction of portfolio value) the layer stands but its actions wait.
    - ``vix_rsi_overbought``: RSI(14) of the VIX above this is reported as stretched.
    - ``equity_risk_premium`` (5.5 %): the CAPM market premium of layer 3's return check
      (the long-run US equity premium over bills is commonly put at 4-6 %).
    - ``layer2_series``: the custom series (`alvh.MarketState.custom`, each with its
      threshold) that gauge a layer-2 move's sustainability, the seed's liquidity and
      valuation proxies (default names ``quick_ratio``: the market's acid-test ratio,
      firing below its threshold; ``price_to_cash_flow``: the index's P/CF, firing above
      it; the direction is the series'): at layer 2, one past its threshold says the
      stress looks sustained and the layer acts whatever rule (c) says; a series not
      given is skipped and said. They do not count as rule (a) evidence.
    - ``irr_action``: what layer 3 does when that check finds the book no longer earns
      its risk (annualized expected IRR at or below the CAPM-required return):
      ``"close"`` (default: the seed's full defensive posture) buys back its SPX options,
      ``"reduce"`` half of each leg, ``"report"`` only says so.
    """

    require_regime_evidence: bool = True
    early_activation: bool = True
    patience: bool = False
    time_shift_check: bool = True
    macd_expanding_days: int = 3
    breadth_window: int = 20
    skew_z_threshold: float = 2.0
    inflation_ceiling: float = 0.03
    patience_conditions: tuple[str, ...] = (
        "inflation_contained",
        "fomc_steady",
        "rate_differential_stable",
        "breadth_bid",
    )
    rate_window: int = 20
    rate_stability: float = 0.25
    macro_max_age: int = 62
    vix_rsi_role: str = "against"
    contango_against: bool = True
    theta_premium: float = 0.06
    skew_alone_triggers: bool = True
    irr_action: str = "close"
    layer2_series: tuple[str, ...] = ("quick_ratio", "price_to_cash_flow")
    vix_rsi_overbought: float = 70.0
    projection_days: int = 10
    projection_paths: int = 2000
    cvar_budget: float = 0.05
    equity_risk_premium: float = 0.055

    def __post_init__(self) -> None:
        if self.irr_action not in ("report", "reduce", "close"):
            raise _bad("rules.irr_action", self.irr_action, "one of 'report', 'reduce', 'close'")
        if self.vix_rsi_role not in ("for", "against", "ignore"):
            raise _bad("rules.vix_rsi_role", self.vix_rsi_role, "one of 'for', 'against', 'ignore'")
        for name in (
            "require_regime_evidence",
            "early_activation",
            "patience",
            "time_shift_check",
            "contango_against",
            "skew_alone_triggers",
        ):
            if not isinstance(getattr(self, name), bool):
                raise InputTypeError(f"rules.{name} must be true or false")
        conditions = self.patience_conditions
        if isinstance(conditions, str) or not isinstance(conditions, Iterable):
            raise InputTypeError("rules.patience_conditions must be a list of condition names")
        conditions = tuple(conditions)
        for i, name in enumerate(conditions):
            if name not in PATIENCE_CONDITIONS:
                raise _bad(
                    f"rules.patience_conditions[{i}]", name, f"one of {', '.join(PATIENCE_CONDITIONS)}"
                )
        if len(set(conditions)) != len(conditions) or not conditions:
            raise _bad("rules.patience_conditions", list(conditions), "a non-empty list without repeats")
        object.__setattr__(self, "patience_conditions", conditions)
        series = self.layer2_series
        if isinstance(series, str) or not isinstance(series, Iterable):
            raise InputTypeError("rules.layer2_series must be a list of custom series names")
        series = tuple(series)
        for i, name in enumerate(series):
            if not isinstance(name, str) or not name.strip():
                raise _bad(f"rules.layer2_series[{i}]", name, "a custom series name")
        object.__setattr__(self, "layer2_series", series)
        _whole("rules.rate_window", self.rate_window, 1, 250)
        _whole("rules.macro_max_age", self.macro_max_age, 1, 3650)
        _whole("rules.macd_expanding_days", self.macd_expanding_days, 1, 60)
        _whole("rules.breadth_window", self.breadth_window, 2, 500)
        _whole("rules.projection_days", self.projection_days, 5, 10)
        _whole("rules.projection_paths", self.projection_paths, 100, 10_000_000)
        for name, low, high in (
            ("skew_z_threshold", 0.0, 10.0),
            ("inflation_ceiling", -0.5, 1.0),
            ("vix_rsi_overbought", 50.0, 100.0),
            ("cvar_budget", 0.0, 1.0),
            ("equity_risk_premium", -0.2, 0.3),
            ("rate_stability", 0.0, 10.0),
            ("theta_premium", 0.0, 1.0),
        ):
            value = _number(f"rules.{name}", getattr(self, name))
            if not low < value <= high:
                raise _bad(f"rules.{name}", value, f"in ({low:g}, {high:g}]")
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class Sizing:
    """Rule (e): each candidate is sized to offset ``hedge_share`` (default 1: the seed's
    "flatten") of the exposure it addresses (the book's $ per VIX point for VIX calls
    and futures, its loss on a 5 % SPX fall for put spreads, its delta for conversions),
    then clipped so that its risk, its own projected loss at the policy's CVaR level,
    stays within ``layer_cap`` of portfolio value (default 2.5 %, the seed's 2-3 %),
    all layers together within ``total_cap`` (default 6 %). ``cost_per_contract`` ($,
    default 1.00: commissions and fees) is the floor of a trade's cost when ranking candidates per dollar (a
    conversion costs almost no premium). Strike adjustments: ``roll_points`` (15-25,
    default 20) is how far ``roll_short_strikes`` and ``tighten_untested`` move a short
    strike; a short strike within ``threat_sd`` standard deviations of the spot (default
    1.0) is threatened."""

    layer_cap: float = 0.025
    total_cap: float = 0.06
    cost_per_contract: float = 1.0
    roll_points: float = 20.0
    threat_sd: float = 1.0
    hedge_share: float = 1.0

    def __post_init__(self) -> None:
        share = _number("sizing.hedge_share", self.hedge_share)
        if not 0.0 < share <= 2.0:
            raise _bad("sizing.hedge_share", share, "in (0, 2] (the share of the exposure a hedge offsets)")
        object.__setattr__(self, "hedge_share", share)
        points = _number("sizing.roll_points", self.roll_points)
        if not 15.0 <= points <= 25.0 or points % 5.0:
            raise _bad(
                "sizing.roll_points", points, "15, 20 or 25 (the seed's 15-25 points, on the 5-point grid)"
            )
        object.__setattr__(self, "roll_points", points)
        threat = _number("sizing.threat_sd", self.threat_sd)
        if not 0.0 < threat <= 5.0:
            raise _bad("sizing.threat_sd", threat, "in (0, 5] standard deviations")
        object.__setattr__(self, "threat_sd", threat)
        cost = _number("sizing.cost_per_contract", self.cost_per_contract)
        if not 0.0 <= cost <= 1000.0:
            raise _bad("sizing.cost_per_contract", cost, "in [0, 1000] $ per contract")
        object.__setattr__(self, "cost_per_contract", cost)
        for name in ("layer_cap", "total_cap"):
            value = _number(f"sizing.{name}", getattr(self, name))
            if not 0.0 < value <= 1.0:
                raise _bad(
                    f"sizing.{name}",
                    value,
                    "a fraction of portfolio value in (0, 1] (a cap above 100 % is not a cap)",
                )
            object.__setattr__(self, name, value)
        if self.total_cap < self.layer_cap:
            raise _bad("sizing.total_cap", self.total_cap, f"at least sizing.layer_cap ({self.layer_cap:g})")


def _default_layers(layer1_enabled: bool) -> tuple[Layer, Layer, Layer]:
    exits: Any = EXIT_DEFAULTS
    return (
        Layer(
            1,
            17.0,
            22.0,
            1.0,
            ("roll_short_strikes", "tighten_untested", "vix_futures", "short_vix_calls"),
            enabled=layer1_enabled,
            **exits,
        ),
        Layer(2, 24.0, 29.0, 1.0, ("long_vix_calls", "spx_put_spread"), **exits),
        Layer(3, 30.0, None, 1.0, ("neutralize_delta",)),
    )


@dataclass(frozen=True)
class Policy:
    """A layer policy (see the module doc). ``Policy.preset("early" | "patient")``,
    ``Policy.from_toml(path)``; ``version`` hashes the configuration."""

    name: str
    layers: tuple[Layer, Layer, Layer] = field(default_factory=lambda: _default_layers(True))
    rules: Rules = field(default_factory=Rules)
    sizing: Sizing = field(default_factory=Sizing)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise _bad("name", self.name, "a non-empty string")
        layers = tuple(self.layers)
        if len(layers) != LAYERS:
            raise _bad("layers", len(layers), f"exactly {LAYERS} layers")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise InputTypeError(f"layers[{i + 1}] must be a Layer")
            if layer.number != i + 1:
                raise _bad(f"layers[{i + 1}].number", layer.number, f"{i + 1} (in order)")
        for lower, upper in zip(layers, layers[1:]):
            if lower.end is None:
                raise _bad(
                    f"layers[{lower.number}].end",
                    None,
                    f"a VIX level (only layer {LAYERS}'s band is open above)",
                )
            if upper.start < lower.end:
                raise _bad(
                    f"layers[{upper.number}].start",
                    upper.start,
                    f"at or above layer {lower.number}'s band end {lower.end:g} (bands must not overlap)",
                )
        if not isinstance(self.rules, Rules):
            raise InputTypeError("rules must be an alvh.policy.config.Rules")
        if not isinstance(self.sizing, Sizing):
            raise InputTypeError("sizing must be an alvh.policy.config.Sizing")
        object.__setattr__(self, "layers", layers)

    # ----------------------------------------------------------------- presets

    @classmethod
    def preset(cls, name: str) -> Policy:
        """``"early"``: layer 1 acts in the 17-22 band (on evidence, rule (a)) and may
        start below 17 (rule (b)); rule (c) is off. ``"patient"``: the same, with rule
        (c) on: it waits for the next band (24+ from layer 1, 30+ from layer 2) only
        while its conditions hold (`Rules.patience_conditions`), and acts as ``early``
        on any other day (the seed: waiting is viable only under those conditions)."""
        if name == "early":
            return cls("early")
        if name == "patient":
            return cls("patient", rules=Rules(patience=True))
        raise _bad("preset", name, "'early' or 'patient'")

    # ----------------------------------------------------------------- the state machine

    def next_layer(self, vix: float, current: int) -> int:
        """The layer after a VIX close ``vix`` from layer ``current`` (module doc)."""
        v = _number("vix", vix)
        if v <= 0.0:
            raise _bad("vix", v, "positive (VIX points)")
        layer = _whole("current", current, 0, LAYERS)
        entered = [x.number for x in self.layers if x.enabled and x.start <= v]
        if entered and max(entered) > layer:
            return max(entered)
        while layer > 0:
            band = self.layers[layer - 1]
            if v >= band.start - band.exit_buffer:
                break
            layer -= 1
            while layer > 0 and not self.layers[layer - 1].enabled:
                layer -= 1
        return layer

    def layer_path(self, vix_closes: Iterable[float], start: int = 0) -> list[int]:
        """The layer after each close of ``vix_closes``, from layer ``start``."""
        layers: list[int] = []
        layer = start
        for i, v in enumerate(vix_closes):
            try:
                layer = self.next_layer(v, layer)
            except (InvalidInputError, InputTypeError) as exc:
                raise type(exc)(f"vix_closes[{i}]: {exc}") from None
            layers.append(layer)
        return layers

    # ----------------------------------------------------------------- identity

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain data (the TOML document)."""

        def layer(x: Layer) -> dict[str, Any]:
            out: dict[str, Any] = {
                "number": x.number,
                "start": x.start,
                "exit_buffer": x.exit_buffer,
                "actions": list(x.actions),
                "enabled": x.enabled,
                "take_profit_share": x.take_profit_share,
                "restrike": x.restrike,
                "roll": x.roll,
                "roll_days": x.roll_days,
            }
            if x.end is not None:
                out["end"] = x.end
            for optional in ("take_profit", "vix_retrace"):  # TOML has no null: absent = never
                if getattr(x, optional) is not None:
                    out[optional] = getattr(x, optional)
            return out

        return {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "layers": [layer(x) for x in self.layers],
            "rules": {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in ((k, getattr(self.rules, k)) for k in Rules.__dataclass_fields__)
            },
            "sizing": {k: getattr(self.sizing, k) for k in Sizing.__dataclass_fields__},
        }

    @property
    def version(self) -> str:
        """A 16-hex-digit hash of the configuration (not of its name): equal configs
        share it, any change of a band, rule or cap gives a new one."""
        body = self.to_dict()
        body.pop("name")
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_toml(self, path: str | os.PathLike[str]) -> None:
        """Write the policy as TOML (replaced whole, never half-written)."""
        import tomli_w

        atomic_write(Path(path), tomli_w.dumps(self.to_dict()).encode())

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Policy:
        """Read a policy TOML file; errors name the file and the field."""
        return toml.build(path, cls.from_dict)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Policy:
        """The inverse of `to_dict`; unknown keys are errors (a typo is not a default)."""
        known = {"format_version", "name", "layers", "rules", "sizing"}
        unknown = sorted(set(document) - known)
        if unknown:
            raise _bad(unknown[0], "(present)", f"one of the known keys {sorted(known)}")
        version = document.get("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise _bad("format_version", version, str(FORMAT_VERSION))
        for required, what in (
            ("name", "the policy's name"),
            ("layers", "three [[layers]] tables (layer 1, 2, 3)"),
        ):
            if required not in document:  # nothing falls back to a preset silently
                raise _bad(required, "(absent)", what)
        items = document["layers"]
        if not isinstance(items, list):
            raise InputTypeError("layers must be an array of tables ([[layers]])")
        built = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise InputTypeError(f"layers[{i + 1}] must be a table")
            extra = sorted(set(item) - set(Layer.__dataclass_fields__))
            if extra:
                raise _bad(
                    f"layers[{i + 1}].{extra[0]}",
                    "(present)",
                    f"a known layer key ({', '.join(Layer.__dataclass_fields__)})",
                )
            fields = {"number": i + 1, "end": None, **item}
            if "actions" in fields and isinstance(fields["actions"], list):
                fields["actions"] = tuple(fields["actions"])
            built.append(Layer(**fields))
        layers = tuple(built)
        rules = _section(document, "rules", Rules)
        sizing = _section(document, "sizing", Sizing)
        # Policy checks there are exactly three (naming the count otherwise).
        return cls(name=document["name"], layers=layers, rules=rules, sizing=sizing)  # type: ignore[arg-type]

    def decide(
        self,
        state: Any,
        position: Any,
        market: Any,
        *,
        layer: int = 0,
        acted: int | None = None,
        portfolio_value: float,
        committed_risk: float = 0.0,
        seed: int = 0,
    ) -> Any:
        """One day's `alvh.Decision` for ``position`` in ``market`` given the day's
        `alvh.MarketState`: see `alvh.policy.engine`."""
        return engine.decide(
            self,
            state,
            position,
            market,
            layer=layer,
            acted=acted,
            portfolio_value=portfolio_value,
            committed_risk=committed_risk,
            seed=seed,
        )

    def with_changes(self, **changes: Any) -> Policy:
        """A copy with fields replaced (``rules=``, ``sizing=``, ``layers=``, ``name=``)."""
        return replace(self, **changes)


def decide(policy: Policy, state: Any, position: Any, market: Any, **options: Any) -> Any:
    """``policy.decide(state, position, market, ...)`` as a function (`alvh.decide`): one
    day's `alvh.Decision`; see `alvh.policy.engine` for the steps and the options."""
    if not isinstance(policy, Policy):
        raise InputTypeError(f"policy must be an alvh.Policy, got {type(policy).__name__}")
    return policy.decide(state, position, market, **options)


def _section(document: Mapping[str, Any], name: str, kind: Any) -> Any:
    table = document.get(name, {})
    if not isinstance(table, Mapping):
        raise InputTypeError(f"{name} must be a table ([{name}])")
    extra = sorted(set(table) - set(kind.__dataclass_fields__))
    if extra:
        raise _bad(f"{name}.{extra[0]}", "(present)", f"a known key ({', '.join(kind.__dataclass_fields__)})")
    return kind(**table)
