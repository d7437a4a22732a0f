"""The book's own legs against an option chain's quotes (`legs_vs_quotes`): for each SPX
leg the chain's bid, ask, mid and spread beside the model's price, and a flag where the
model is off the mid by more than the spread — the first thing to check before trusting
any Greek or projection of the book (issue 18: "does your model price my legs?").
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from alvh.book.analytics import leg_greeks
from alvh.book.instruments import SpxOption
from alvh.book.position import Position
from alvh.market.chain import is_loaded_chain, load_chain
from alvh.market.snapshot import Market

if TYPE_CHECKING:
    import polars as pl

__all__ = ["legs_vs_quotes"]


def legs_vs_quotes(position: Position, market: Market, chain: Any) -> pl.DataFrame:
    """One row per leg of ``position``: ``leg`` (0-based), ``type``, ``expiry``,
    ``strike``, ``right``, ``quantity``, the chain's ``bid``, ``ask``, ``mid`` and
    ``spread`` (index points; null when the chain has no quote for the leg: VIX legs,
    or an SPX expiry / strike / right not in it), ``model`` (the leg's price in
    ``market``, `alvh.book.analytics.leg_greeks`), ``model_minus_mid`` and
    ``off_by_more_than_spread`` (``|model - mid| > ask - bid``; null when unquoted).

    ``chain``: a loaded chain (`alvh.market.chain.load_chain`) or anything it loads. A
    quote with a zero bid is compared like any other (its mid is ask / 2, its spread
    the ask), so a far wing priced above its offer is flagged.
    """
    import polars as pl

    frame = chain if is_loaded_chain(chain) else load_chain(chain)
    quotes: dict[tuple[dt.date, float, str], tuple[float, float]] = {}
    for row in frame.iter_rows(named=True):
        quotes.setdefault((row["expiry"], float(row["strike"]), row["type"]), (row["bid"], row["ask"]))
    model = leg_greeks(position, market)["price"].to_list()
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "leg",
            "type",
            "expiry",
            "strike",
            "right",
            "quantity",
            "bid",
            "ask",
            "mid",
            "spread",
            "model",
            "model_minus_mid",
            "off_by_more_than_spread",
        )
    }
    for i, leg in enumerate(position.legs):
        quote = None
        if isinstance(leg, SpxOption):
            quote = quotes.get((leg.expiry, float(leg.strike), "call" if leg.is_call else "put"))
        bid: float | None = None
        ask: float | None = None
        mid = gap = spread = None
        if quote is not None:
            bid, ask = quote
            mid, spread = 0.5 * (bid + ask), ask - bid
            gap = float(model[i]) - mid
        rows["leg"].append(i)
        rows["type"].append(leg.kind)
        rows["expiry"].append(leg.expiry)
        rows["strike"].append(getattr(leg, "strike", None))
        rows["right"].append(getattr(leg, "right", None))
        rows["quantity"].append(leg.quantity)
        rows["bid"].append(bid)
        rows["ask"].append(ask)
        rows["mid"].append(mid)
        rows["spread"].append(spread)
        rows["model"].append(float(model[i]))
        rows["model_minus_mid"].append(gap)
        rows["off_by_more_than_spread"].append(None if gap is None else abs(gap) > (spread or 0.0))
    schema = {
        "leg": pl.Int64,
        "type": pl.String,
        "expiry": pl.Date,
        "strike": pl.Float64,
        "right": pl.String,
        "quantity": pl.Int64,
        "off_by_more_than_spread": pl.Boolean,
    }
    return pl.DataFrame(rows, schema={k: schema.get(k, pl.Float64) for k in rows})
