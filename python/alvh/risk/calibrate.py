"""Calibration of the scenario defaults (`alvh.risk.scenarios`) from real data.

- `spx_vix_dynamics`: the spot–vol coupling and the mean reversion of ln VIX, from
  the daily S&P 500 and VIX closes bundled with ``arch`` (2014–2018).
- `event_jumps`: SPX (1999–2018) and VIX (2014–2018) moves on GDP advance-release
  days and earnings-season days against ordinary days.
- `gdp_regimes`: frequencies of GDP growth regimes in ``statsmodels``' quarterly US
  macro data (1959–2009), and the SPX drift per regime where the samples overlap.

Each returns a frozen dataclass with ``.to_polars()``; all are deterministic (no
random numbers, no clock). Needs the ``data`` extra (``pip install 'alvh[data]'``:
``arch`` and ``statsmodels``), imported on first use.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import astuple, dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from alvh.risk.scenarios import earnings_season_days, gdp_advance_release

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "EventJump",
    "EventJumps",
    "GdpRegime",
    "GdpRegimes",
    "SpxVixDynamics",
    "event_jumps",
    "gdp_regimes",
    "spx_vix_dynamics",
]

#: Trading days per year: daily moments are annualized by this (sqrt for vols).
TRADING_DAYS_PER_YEAR = 252

#: GDP regimes by annualized quarterly real growth g: (name, lower, upper), meaning
#: lower < g <= upper, except that g = 0 exactly is a stall, not a recession. The
#: cut-offs: ~3 % is above the postwar US trend (expansion), 1.5-3 % near or a
#: little below trend (soft landing), 0-1.5 % well below it (stall), < 0 a
#: contracting quarter (recession in this module's sense, not NBER's).
GDP_REGIME_BOUNDS = (
    ("expansion", 0.03, math.inf),
    ("soft landing", 0.015, 0.03),
    ("stall", 0.0, 0.015),
    ("recession", -math.inf, 0.0),
)


def _require() -> tuple[Any, Any]:
    """The optional data stack (arch, statsmodels.api), or an ImportError naming the extra."""
    try:
        import arch.data.sp500
        import arch.data.vix
        import statsmodels.api as sm
    except ImportError as exc:
        raise ImportError(
            "alvh.risk.calibrate needs the optional 'data' extra (arch and statsmodels): "
            "pip install 'alvh[data]'"
        ) from exc
    return arch.data, sm


def _frame(rows: list[Any]) -> pl.DataFrame:
    import polars as pl

    names = [f.name for f in fields(rows[0])]
    return pl.DataFrame([astuple(row) for row in rows], schema=names, orient="row")


def _spx_closes() -> tuple[list[dt.date], np.ndarray]:
    data, _ = _require()
    frame = data.sp500.load()
    return [ts.date() for ts in frame.index], frame["Close"].to_numpy(dtype=np.float64)


def _vix_closes() -> tuple[list[dt.date], np.ndarray]:
    data, _ = _require()
    # The file has NaN rows on exchange holidays: no close, so no row.
    frame = data.vix.load().dropna()
    return [ts.date() for ts in frame.index], frame["vix"].to_numpy(dtype=np.float64)


def _log_changes(dates: list[dt.date], closes: np.ndarray) -> dict[dt.date, float]:
    """Close-to-close log change, keyed by the later day."""
    changes = np.diff(np.log(closes))
    return dict(zip(dates[1:], changes.tolist()))


# --------------------------------------------------------------------------- dynamics


@dataclass(frozen=True)
class SpxVixDynamics:
    """Daily SPX/VIX dynamics, 2014–2018 (arch's sp500 ``Close`` and vix ``vix``).

    - ``vix_beta``: OLS slope of daily Δln VIX on the SPX log-return (same days),
      with ``vix_beta_stderr`` (statsmodels OLS, with a constant).
    - ``vol_of_vix``: that regression's residual std × sqrt(252).
    - ``vix_phi``: AR(1) coefficient of daily ln VIX (OLS of ln VIX_t on ln VIX_t-1);
      ``vix_kappa = -ln(phi) * 252`` per year; ``vix_theta = exp(c / (1 - phi))``
      in points (the long-run level of that sample).
    """

    vix_beta: float
    vix_beta_stderr: float
    vol_of_vix: float
    vix_phi: float
    vix_kappa: float
    vix_theta: float
    n_obs: int
    first_date: dt.date
    last_date: dt.date

    def to_polars(self) -> pl.DataFrame:
        """One row, one column per field."""
        return _frame([self])


def spx_vix_dynamics() -> SpxVixDynamics:
    """Calibrate `SpxVixDynamics` on the days both series have a close (2014–2018)."""
    _, sm = _require()
    spx_dates, spx = _spx_closes()
    vix_dates, vix = _vix_closes()
    spx_by_day = dict(zip(spx_dates, spx.tolist()))
    common = [day for day in vix_dates if day in spx_by_day]
    vix_by_day = dict(zip(vix_dates, vix.tolist()))
    spx_common = np.array([spx_by_day[d] for d in common])
    ln_vix = np.log(np.array([vix_by_day[d] for d in common]))
    spx_returns = np.diff(np.log(spx_common))
    vix_changes = np.diff(ln_vix)

    coupling = sm.OLS(vix_changes, sm.add_constant(spx_returns)).fit()
    ar1 = sm.OLS(ln_vix[1:], sm.add_constant(ln_vix[:-1])).fit()
    constant, phi = (float(x) for x in ar1.params)
    return SpxVixDynamics(
        vix_beta=float(coupling.params[1]),
        vix_beta_stderr=float(coupling.bse[1]),
        vol_of_vix=math.sqrt(float(coupling.mse_resid) * TRADING_DAYS_PER_YEAR),
        vix_phi=phi,
        vix_kappa=-math.log(phi) * TRADING_DAYS_PER_YEAR,
        vix_theta=math.exp(constant / (1.0 - phi)),
        n_obs=int(spx_returns.size),
        first_date=common[1],
        last_date=common[-1],
    )


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class EventJump:
    """Moves on one kind of event day against ordinary days (neither GDP nor earnings).

    SPX: daily log-returns (1999–2018); VIX: daily Δln VIX (2014–2018).
    ``spx_jump_mean`` = event mean − ordinary mean; ``spx_jump_std`` =
    sqrt(max(var_event − var_ordinary, 0)) (the excess variance); the same for
    ``vix_jump_mean`` / ``vix_jump_std``. Stds use ddof = 1.
    """

    kind: str
    n_event_days: int
    spx_event_mean: float
    spx_event_std: float
    n_ordinary_days: int
    spx_ordinary_mean: float
    spx_ordinary_std: float
    spx_jump_mean: float
    spx_jump_std: float
    n_vix_event_days: int
    vix_event_mean: float
    vix_event_std: float
    vix_ordinary_mean: float
    vix_ordinary_std: float
    vix_jump_mean: float
    vix_jump_std: float


@dataclass(frozen=True)
class EventJumps:
    """`EventJump` for ``gdp`` and ``earnings`` days, with the SPX sample's range.

    Event days follow the rules of `alvh.risk.scenarios`: GDP = `gdp_advance_release`
    of each quarter (or the next trading day in the data if the rule's day has no
    close); earnings = `earnings_season_days` (trading days in the four weeks from
    the 15th of Jan/Apr/Jul/Oct).
    """

    gdp: EventJump
    earnings: EventJump
    first_date: dt.date
    last_date: dt.date

    def to_polars(self) -> pl.DataFrame:
        """One row per kind of event."""
        return _frame([self.gdp, self.earnings])


def _jump(
    kind: str,
    event_days: set[dt.date],
    ordinary_days: set[dt.date],
    spx: dict[dt.date, float],
    vix: dict[dt.date, float],
) -> EventJump:
    def moments(series: dict[dt.date, float], days: set[dt.date]) -> tuple[int, float, float]:
        values = np.array([series[d] for d in sorted(days) if d in series])
        return int(values.size), float(values.mean()), float(values.std(ddof=1))

    n_event, spx_event_mean, spx_event_std = moments(spx, event_days)
    n_ordinary, spx_ordinary_mean, spx_ordinary_std = moments(spx, ordinary_days)
    n_vix, vix_event_mean, vix_event_std = moments(vix, event_days)
    _, vix_ordinary_mean, vix_ordinary_std = moments(vix, ordinary_days)
    return EventJump(
        kind=kind,
        n_event_days=n_event,
        spx_event_mean=spx_event_mean,
        spx_event_std=spx_event_std,
        n_ordinary_days=n_ordinary,
        spx_ordinary_mean=spx_ordinary_mean,
        spx_ordinary_std=spx_ordinary_std,
        spx_jump_mean=spx_event_mean - spx_ordinary_mean,
        spx_jump_std=math.sqrt(max(spx_event_std**2 - spx_ordinary_std**2, 0.0)),
        n_vix_event_days=n_vix,
        vix_event_mean=vix_event_mean,
        vix_event_std=vix_event_std,
        vix_ordinary_mean=vix_ordinary_mean,
        vix_ordinary_std=vix_ordinary_std,
        vix_jump_mean=vix_event_mean - vix_ordinary_mean,
        vix_jump_std=math.sqrt(max(vix_event_std**2 - vix_ordinary_std**2, 0.0)),
    )


def event_jumps() -> EventJumps:
    """Calibrate `EventJumps`: GDP advance-release days and earnings-season days."""
    spx_dates, spx_closes = _spx_closes()
    vix_dates, vix_closes = _vix_closes()
    spx = _log_changes(spx_dates, spx_closes)
    # A VIX change counts only where SPX traded too (the VIX file runs into 2019).
    vix = {d: v for d, v in _log_changes(vix_dates, vix_closes).items() if d in spx}
    trading_days = sorted(spx)
    first, last = trading_days[0], trading_days[-1]

    gdp_days: set[dt.date] = set()
    for year in range(first.year - 1, last.year + 1):
        for quarter in range(1, 5):
            release = gdp_advance_release(year, quarter)
            if not first <= release <= last:
                continue
            # The reaction is on the release day's close, or the next close there is.
            gdp_days.add(next(d for d in trading_days if d >= release))
    earnings_days = {d for d in earnings_season_days(first, last) if d in spx}
    ordinary_days = set(trading_days) - gdp_days - earnings_days
    return EventJumps(
        gdp=_jump("gdp", gdp_days, ordinary_days, spx, vix),
        earnings=_jump("earnings", earnings_days, ordinary_days, spx, vix),
        first_date=first,
        last_date=last,
    )


# --------------------------------------------------------------------------- GDP regimes


@dataclass(frozen=True)
class GdpRegime:
    """One GDP growth regime.

    ``frequency``: share of quarters 1959Q2–2009Q3 whose annualized real GDP growth
    ``(realgdp_t / realgdp_t-1)^4 - 1`` falls in (``growth_low``, ``growth_high``]
    as `GDP_REGIME_BOUNDS` define them. ``n_spx_quarters``, ``spx_drift``,
    ``spx_drift_stderr``: over the quarters where the SPX data overlap (1999Q1 on),
    the mean annualized SPX log-return of the quarter (4 × the quarter's log
    change, first quarter from the first close) and its standard error.

    How far the drift mapping is honest: with 7–15 quarters per regime it is noisy.
    Expansion (+0.16 ± 0.06) and recession (−0.42 ± 0.18) are clearly apart and
    are used as defaults; soft landing (−0.07 ± 0.10) and stall (+0.09 ± 0.07)
    cannot be ordered, so `alvh.risk.scenarios` assumes theirs (and says so). The drift
    is the market's while the regime unfolds, not a forecast from the release.
    """

    regime: str
    growth_low: float
    growth_high: float
    n_quarters: int
    frequency: float
    n_spx_quarters: int
    spx_drift: float
    spx_drift_stderr: float


@dataclass(frozen=True)
class GdpRegimes:
    """The four `GdpRegime` s (expansion, soft landing, stall, recession)."""

    regimes: tuple[GdpRegime, ...]
    first_quarter: str
    last_quarter: str

    def by_name(self, regime: str) -> GdpRegime:
        """The regime called ``regime``."""
        for row in self.regimes:
            if row.regime == regime:
                return row
        raise KeyError(regime)

    def to_polars(self) -> pl.DataFrame:
        """One row per regime."""
        return _frame(list(self.regimes))


def _regime_of(growth: float) -> str:
    if growth == 0.0:
        return "stall"
    return next(name for name, low, high in GDP_REGIME_BOUNDS if low < growth <= high)


def gdp_regimes() -> GdpRegimes:
    """Calibrate `GdpRegimes` from ``statsmodels.datasets.macrodata`` (``realgdp``)."""
    _, sm = _require()
    macro = sm.datasets.macrodata.load_pandas().data
    years = macro["year"].to_numpy().astype(int)
    quarters = macro["quarter"].to_numpy().astype(int)
    gdp = macro["realgdp"].to_numpy(dtype=np.float64)
    growth = (gdp[1:] / gdp[:-1]) ** 4 - 1.0
    labels = [(int(y), int(q)) for y, q in zip(years[1:], quarters[1:])]

    spx_dates, spx_closes = _spx_closes()
    ln_spx = np.log(spx_closes)

    def quarter_drift(year: int, quarter: int) -> float | None:
        start = dt.date(year, 3 * quarter - 2, 1)
        end = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
        inside = [i for i, d in enumerate(spx_dates) if start <= d < end]
        if not inside or spx_dates[-1] < end - dt.timedelta(days=7):
            return None
        before = inside[0] - 1 if inside[0] > 0 else inside[0]
        return float(4.0 * (ln_spx[inside[-1]] - ln_spx[before]))

    per_regime: dict[str, list[float]] = {name: [] for name, _, _ in GDP_REGIME_BOUNDS}
    counts = {name: 0 for name, _, _ in GDP_REGIME_BOUNDS}
    for (year, quarter), g in zip(labels, growth.tolist()):
        regime = _regime_of(g)
        counts[regime] += 1
        drift = quarter_drift(year, quarter)
        if drift is not None:
            per_regime[regime].append(drift)
    total = sum(counts.values())
    rows = []
    for name, low, high in GDP_REGIME_BOUNDS:
        drifts = np.array(per_regime[name])
        rows.append(
            GdpRegime(
                regime=name,
                growth_low=low,
                growth_high=high,
                n_quarters=counts[name],
                frequency=counts[name] / total,
                n_spx_quarters=int(drifts.size),
                spx_drift=float(drifts.mean()) if drifts.size else math.nan,
                spx_drift_stderr=float(drifts.std(ddof=1) / math.sqrt(drifts.size))
                if drifts.size > 1
                else math.nan,
            )
        )
    first, last = labels[0], labels[-1]
    return GdpRegimes(
        regimes=tuple(rows),
        first_quarter=f"{first[0]}Q{first[1]}",
        last_quarter=f"{last[0]}Q{last[1]}",
    )
