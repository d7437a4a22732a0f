"""A hedge's exits (DESIGN.md "The layer policy": a hedge is bought by a layer and must
also be sold): the rules of `alvh.policy.config.Layer` applied to one held hedge on one
day (`hedge_exit`), used by the backtest's replay (`alvh.backtesting.daily`) and
available to a live book.

In the order they are checked (the first that applies wins):

1. ``layer_left``: the layer that bought the hedge is no longer held: sell all;
2. ``take_profit``: the hedge is worth ``take_profit`` times its cost or more: sell
   ``take_profit_share`` of it (once per hedge: the rest runs to its other exits);
3. ``vix_retrace``: the VIX has fallen ``vix_retrace`` of its highest close since the
   hedge was bought: sell all;
4. ``roll`` / ``expiry``: ``roll_days`` calendar days or fewer before the hedge's first
   expiry: roll it to the next expiry when the layer allows (``roll``), else sell.

A take-profit or retrace sale with ``restrike`` lets the layer buy again while it holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["EXIT_DEFAULTS", "EXIT_RULES", "Exit", "HeldHedge", "contracts_sold", "hedge_exit"]

#: The exit rules, in the order they are checked.
EXIT_RULES = ("layer_left", "take_profit", "vix_retrace", "roll", "expiry")

#: The presets' exits on layers 1 and 2: the walk-forward choice of
#: ``scripts/exit_sweep.py`` (take profit off/2x/3x/5x x VIX retrace off/25 %/40 %,
#: restrike with either; best mean Sharpe of early and patient on 2000-2011 only; the
#: 2012-2022 figures are in its output and issue 15's note). Layer 3's hedges (delta
#: neutralizers) keep only the layer-left and expiry exits.
EXIT_DEFAULTS: dict[str, float | bool | None] = {
    "take_profit": 3.0,
    "take_profit_share": 1.0,
    "vix_retrace": None,
    "restrike": True,
    "roll": True,
}


@dataclass(frozen=True)
class HeldHedge:
    """What the exit rules read of a held hedge: the ``layer`` that bought it, its
    ``cost`` ($ premium and costs paid for what is still held), its ``value`` today ($
    model value), the highest VIX close since it was bought (``vix_peak``), the calendar
    days to its first expiry, and whether its take-profit already fired."""

    layer: int
    cost: float
    value: float
    vix_peak: float
    days_to_expiry: int
    took_profit: bool = False


@dataclass(frozen=True)
class Exit:
    """An exit that fires: the ``rule`` (`EXIT_RULES`), the ``share`` of the hedge sold
    (a roll sells all and buys the next), whether the layer may then buy again
    (``restrike``), and the reason in words (journaled with the sale)."""

    rule: str
    share: float
    restrike: bool
    text: str


def hedge_exit(layers: Any, held: HeldHedge, *, layer: int, vix: float) -> Exit | None:
    """The exit of ``held`` today under the policy's ``layers`` (its `Layer` tuple), with
    the book in ``layer`` and the VIX at ``vix``; None when it is kept (module doc)."""
    rules = layers[held.layer - 1]
    if held.layer > layer:
        return Exit("layer_left", 1.0, False, f"layer {held.layer} left (the book is in layer {layer})")
    if rules.take_profit is not None and not held.took_profit and held.cost > 0.0:
        multiple = held.value / held.cost
        if multiple >= rules.take_profit:
            share = rules.take_profit_share
            sold = "all of it" if share >= 1.0 else f"{share:.0%} of it"
            return Exit(
                "take_profit",
                share,
                rules.restrike,
                f"take profit: worth {held.value:,.0f} $, {multiple:.1f}x its cost {held.cost:,.0f} $ "
                f"(layers[{held.layer}].take_profit = {rules.take_profit:g}): sold {sold}",
            )
    if rules.vix_retrace is not None and vix <= (1.0 - rules.vix_retrace) * held.vix_peak:
        fallen = 1.0 - vix / held.vix_peak
        return Exit(
            "vix_retrace",
            1.0,
            rules.restrike,
            f"VIX retrace: {vix:.2f} is {fallen:.0%} below its {held.vix_peak:.2f} peak since the hedge "
            f"was bought (layers[{held.layer}].vix_retrace = {rules.vix_retrace:g})",
        )
    if held.days_to_expiry <= rules.roll_days:
        if rules.roll:
            return Exit(
                "roll",
                1.0,
                False,
                f"roll: {held.days_to_expiry} day(s) to expiry with layer {held.layer} still held",
            )
        return Exit("expiry", 1.0, False, f"expiry in {held.days_to_expiry} day(s)")
    return None


def contracts_sold(contracts: int, share: float) -> int:
    """Whole contracts of ``contracts`` a sale of ``share`` sells: rounded, at least one,
    at most all."""
    return max(1, min(contracts, math.floor(contracts * share + 0.5)))
