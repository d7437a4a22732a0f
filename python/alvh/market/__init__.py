"""The market model (DESIGN.md "Market model"), lowest module first:

- `conventions`: day count, the VIX tenor, the vol dynamics rules;
- `vix`: the VIX futures curve (`VixFutures`) and the vol of VIX options (`VolOfVol`);
- `term`: the VIX-linked ATM term structure (`VixTermStructure`);
- `ssvi`: the default SPX surface (`SsviSurface`), free of static arbitrage, its ATM
  level solved from the VIX (through `cboe`);
- `svi`: the optional SVI slices per expiry (`SviSlice`, `SviSurface`);
- `cboe`: the Cboe VIX calculation on any chain (`vix_index`, `model_chain`);
- `snapshot`: `Market`, one dated snapshot of all of the above, and its TOML format;
- `chain`: loading and validating an SPX option chain (`load_chain`);
- `fit`: fitting the vol models to a chain (`fit_ssvi`, `fit_svi`);
- `slices`: per-expiry SSVI slices read off a chain alone (`fit_ssvi_slices`) and the
  bundled real SPX chain the default surface is fitted to (`reference_chain`);
- `arbitrage`: static-arbitrage checks of a market's surface (`check_arbitrage`).
"""

from alvh.market.arbitrage import ArbitrageReport, check_arbitrage
from alvh.market.cboe import VixIndex, model_chain, vix_index
from alvh.market.chain import InvalidChainError, load_chain
from alvh.market.conventions import DAYS_PER_YEAR, DYNAMICS
from alvh.market.fit import FitResult, SviFitResult, fit_ssvi, fit_svi
from alvh.market.slices import fit_ssvi_slices, reference_chain
from alvh.market.snapshot import Market
from alvh.market.ssvi import SsviSurface
from alvh.market.svi import SviSlice, SviSurface
from alvh.market.term import VixTermStructure
from alvh.market.vix import VixFutures, VolOfVol

__all__ = [
    "ArbitrageReport",
    "SsviSurface",
    "VixIndex",
    "check_arbitrage",
    "model_chain",
    "vix_index",
    "DAYS_PER_YEAR",
    "DYNAMICS",
    "FitResult",
    "InvalidChainError",
    "Market",
    "SviFitResult",
    "SviSlice",
    "SviSurface",
    "VixFutures",
    "VixTermStructure",
    "VolOfVol",
    "fit_ssvi",
    "fit_svi",
    "fit_ssvi_slices",
    "reference_chain",
    "load_chain",
]
