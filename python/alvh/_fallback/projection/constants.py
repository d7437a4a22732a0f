"""The projection kernel's constants, the names and values of the native module's
(``alvh._native`` exports the same; `alvh._fallback.kernels` re-exports these).
Every part of the kernel reads them, so they sit below the parts."""

from __future__ import annotations

#: Touch probabilities per (scenario, day) in the touch sums: lower barrier, upper
#: barrier, either.
TOUCH_KINDS = 3
#: Greeks per (scenario, day) in the Greek sums: delta, gamma, vega, theta, vix_delta.
GREEKS = 5
#: ``ProjectionInputs.dynamics``: the smile moves with the spot (sticky moneyness), or
#: an additive vol change (sticky strike, parallel).
STICKY_MONEYNESS, ADDITIVE = 0, 1
