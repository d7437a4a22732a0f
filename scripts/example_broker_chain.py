"""Write examples/chain_2026-12-04_broker.csv: a broker-style export (its own headers,
MM/DD/YYYY dates, OCC symbols) of the SPX Jan-2027 monthly for the issue-18 market
(examples/market_2026-12-04.toml), so that ``--chain`` / ``--chain-columns`` can be
tried on the trader's book.

Synthetic, and labelled so: the quotes are Black-Scholes prices on the market file with
a steeper SSVI smile (rho -0.70, eta 1.10 instead of -0.78, 0.93), widened to a bid-ask
of about 3 % of the price (at least one 0.05 tick each side, at most 2.50) and rounded
outward to the tick (0.05 below 3.00, 0.10 above); a price under 0.10 is bid 0. Rerun
to rebuild the file byte for byte: ``python scripts/example_broker_chain.py``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

import alvh

ROOT = Path(__file__).resolve().parent.parent
EXPIRY = date(2027, 1, 15)


def _tick(price: float) -> float:
    return 0.05 if price < 3.0 else 0.10


def quotes(price: float) -> tuple[float, float]:
    """(bid, ask) around a model price, rounded outward to the tick."""
    half = min(max(0.015 * price, _tick(price)), 2.5)
    tick = _tick(price)
    bid = 0.0 if price < 0.10 else math.floor((price - half) / tick + 1e-9) * tick
    ask = math.ceil((price + half) / tick - 1e-9) * tick
    return round(max(bid, 0.0), 2), round(ask, 2)


def main() -> Path:
    market = alvh.Market.from_toml(ROOT / "examples" / "market_2026-12-04.toml")
    truth = replace(market, vol_model=alvh.SsviSurface(rho=-0.70, eta=1.10, gamma=0.5))
    strikes = np.arange(5000.0, 6801.0, 25.0)
    t = truth.t(EXPIRY)
    lines = ["Symbol,Expiration Date,Strike,Call/Put,Bid,Ask"]
    for right in ("CALL", "PUT"):
        prices = alvh.bsm.price(
            is_call=right == "CALL",
            spot=truth.spot,
            strike=strikes,
            t=t,
            rate=truth.rate,
            div=truth.div,
            vol=truth.spx_vol(strikes, EXPIRY),
        )
        for strike, price in zip(strikes, prices):
            bid, ask = quotes(float(price))
            symbol = f"SPX   {EXPIRY:%y%m%d}{right[0]}{round(strike * 1000):08d}"
            lines.append(f"{symbol},{EXPIRY:%m/%d/%Y},{strike:.2f},{right},{bid:.2f},{ask:.2f}")
    out = ROOT / "examples" / "chain_2026-12-04_broker.csv"
    out.write_text("\n".join(lines) + "\n")
    return out


if __name__ == "__main__":
    print(main())
