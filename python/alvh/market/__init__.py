"""The market model (DESIGN.md "Market model"), lowest module first:

- `conventions`: day count, the VIX tenor, the vol dynamics rules;
- `vix`: the VIX futures curve (`VixFutures`) and the vol of VIX options (`VolOfVol`);
- `skew`: the default SPX vol surface, `VixLinkedSkew`;
- `svi`: the optional SVI slices per expiry (`SviSlice`, `SviSurface`);
- `snapshot`: `Market`, one dated snapshot of all of the above, and its TOML format;
- `chain`: loading and validating an SPX option chain (`load_chain`);
- `fit`: fitting the vol models to a chain (`fit_vix_linked_skew`, `fit_svi`).
"""

from alvh.market.chain import InvalidChainError, load_chain
from alvh.market.conventions import DAYS_PER_YEAR, DYNAMICS
from alvh.market.fit import FitResult, SviFitResult, fit_svi, fit_vix_linked_skew
from alvh.market.skew import VixLinkedSkew
from alvh.market.snapshot import Market
from alvh.market.svi import SviSlice, SviSurface
from alvh.market.vix import VixFutures, VolOfVol

__all__ = [
    "DAYS_PER_YEAR",
    "DYNAMICS",
    "FitResult",
    "InvalidChainError",
    "Market",
    "SviFitResult",
    "SviSlice",
    "SviSurface",
    "VixFutures",
    "VixLinkedSkew",
    "VolOfVol",
    "fit_svi",
    "fit_vix_linked_skew",
    "load_chain",
]
