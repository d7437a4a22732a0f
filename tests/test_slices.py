"""`alvh.market.slices`: per-expiry SSVI slices read off a chain alone, the bundled real
SPX chain, and the link from its fit to `SsviSurface`'s defaults."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from alvh import black76
from alvh.errors import InputTypeError, InvalidInputError
from alvh.market import SsviSurface
from alvh.market.slices import (
    REFERENCE_CHAIN_AS_OF,
    REFERENCE_CHAIN_FILE,
    fit_ssvi_slices,
    reference_chain,
)
from alvh.market.ssvi import ssvi_total_variance

AS_OF = date(2025, 1, 2)


def _chain(slices: list[tuple[date, float, float, float, float, float]], strikes: np.ndarray) -> pl.DataFrame:
    """Calls and puts on ``strikes`` priced off exact SSVI slices ``(expiry, forward,
    rate, theta, rho, phi)``, quoted at mid +- 0.05."""
    rows = []
    for expiry, forward, rate, theta, rho, phi in slices:
        t = (expiry - AS_OF).days / 365.0
        k = np.log(strikes / forward)
        vol = np.sqrt(ssvi_total_variance(k, theta, rho=rho, eta=phi * (1 + theta), gamma=0.0) / t)
        for is_call, kind in ((True, "call"), (False, "put")):
            price = black76.price(is_call=is_call, forward=forward, strike=strikes, t=t, rate=rate, vol=vol)
            for strike, p in zip(strikes, price):
                rows.append(
                    {
                        "expiry": expiry,
                        "strike": float(strike),
                        "type": kind,
                        "bid": p - 0.05,
                        "ask": p + 0.05,
                    }
                )
    return pl.DataFrame(rows).with_columns(pl.col("bid").clip(lower_bound=0.0))


def test_fit_recovers_known_slices_forward_and_discount() -> None:
    truth = [
        (date(2025, 2, 1), 6010.0, 0.04, 0.0035, -0.8, 18.0),
        (date(2025, 4, 2), 6050.0, 0.042, 0.011, -0.7, 9.0),
    ]
    out = fit_ssvi_slices(_chain(truth, np.arange(4000.0, 7000.0, 5.0)), as_of=AS_OF, weighting="equal")
    assert out.height == 2 and out.get_column("skipped").null_count() == 2
    for row, (_, forward, rate, theta, rho, phi) in zip(out.iter_rows(named=True), truth):
        assert row["forward"] == pytest.approx(forward, rel=1e-6)
        assert row["rate"] == pytest.approx(rate, abs=1e-5)
        assert row["theta"] == pytest.approx(theta, rel=2e-3)
        assert row["rho"] == pytest.approx(rho, abs=5e-3)
        assert row["phi"] == pytest.approx(phi, rel=1e-2)
        assert row["rmse"] < 0.2
        # every slice returned is inside Theorem 4.2's butterfly bounds
        psi = row["theta"] * row["phi"]
        assert psi * (1 + abs(row["rho"])) < 4 and psi * row["phi"] * (1 + abs(row["rho"])) <= 4 + 1e-9
    assert out.get_column("calendar_ok").to_list() == [True, True]


def test_a_slice_under_the_previous_is_flagged_and_thin_or_expired_expiries_skipped() -> None:
    strikes = np.arange(4000.0, 7000.0, 5.0)
    chain = _chain(
        [
            (date(2025, 2, 1), 6010.0, 0.04, 0.006, -0.7, 12.0),
            (date(2025, 3, 1), 6020.0, 0.04, 0.004, -0.7, 12.0),
        ],
        strikes,
    )
    thin = pl.DataFrame(
        {
            "expiry": [date(2025, 5, 1)] * 2 + [date(2024, 12, 20)] * 2,
            "strike": [6000.0, 6000.0, 6000.0, 6000.0],
            "type": ["call", "put"] * 2,
            "bid": [200.0, 190.0, 10.0, 10.0],
            "ask": [201.0, 191.0, 11.0, 11.0],
        }
    )
    out = fit_ssvi_slices(pl.concat([chain, thin]), as_of=AS_OF)
    by_expiry = {r["expiry"]: r for r in out.iter_rows(named=True)}
    assert by_expiry[date(2025, 3, 1)]["calendar_ok"] is False
    assert "fewer than 3 for put-call parity" in by_expiry[date(2025, 5, 1)]["skipped"]
    assert "on or before as_of" in by_expiry[date(2024, 12, 20)]["skipped"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weighting": "price"}, "weighting must be one of"),
        ({"max_abs_k": 0.0}, "max_abs_k must be in"),
        ({"gamma": 1.5}, "gamma must be in"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        fit_ssvi_slices(reference_chain(), as_of=REFERENCE_CHAIN_AS_OF, **kwargs)  # type: ignore[arg-type]


def test_as_of_must_be_a_date_and_a_chain_with_no_fit_says_why() -> None:
    with pytest.raises(InputTypeError, match="as_of must be a date"):
        fit_ssvi_slices(reference_chain(), as_of="2026-04-02")  # type: ignore[arg-type]
    with pytest.raises(
        InvalidInputError, match=r"no expiry an SSVI slice can be fitted to \(2026-06-30: expires"
    ):
        fit_ssvi_slices(reference_chain(), as_of=date(2026, 7, 1))


def test_reference_chain_is_the_documented_file() -> None:
    chain = reference_chain()
    assert chain.height == 636
    assert chain.get_column("expiry").unique().to_list() == [date(2026, 6, 30)]
    sources = (REFERENCE_CHAIN_FILE.parent / "SOURCES.md").read_text()
    digest = hashlib.sha256(Path(REFERENCE_CHAIN_FILE).read_bytes()).hexdigest()
    assert re.search(rf"\| {REFERENCE_CHAIN_FILE.name} \| `{digest}` \|", sources)


def test_the_default_surface_is_the_reference_chains_fit() -> None:
    """`SsviSurface`'s rho and eta are the vega-weighted slice fit of the bundled SPX
    chain (gamma = 1/2), rounded to two decimals: refitting must give them back."""
    row = fit_ssvi_slices(reference_chain(), as_of=REFERENCE_CHAIN_AS_OF).row(0, named=True)
    default = SsviSurface()
    assert default.gamma == 0.5
    assert round(row["rho"], 2) == default.rho
    assert round(row["eta_at_gamma"], 2) == default.eta
    # a real fit, not a loose one: the parity forward near the 2026-04-02 SPX level, a
    # plausible bill rate, and about a vol point of RMSE over 371 out-of-the-money mids
    assert 6500 < row["forward"] < 6700 and 0.03 < row["rate"] < 0.05
    assert row["rows_used"] > 300 and row["rmse"] < 1.5
    assert 0.15 < row["atm_vol"] < 0.25 and math.isfinite(row["phi"])


def test_cli_prints_the_reference_fit_and_writes_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from alvh.cli import main

    out = tmp_path / "slices.csv"
    assert main(["slices", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2026-06-30" in printed and "-0.776" in printed and "0.931" in printed
    table = pl.read_csv(out, try_parse_dates=True)
    assert table.get_column("expiry").to_list() == [date(2026, 6, 30)]
    assert table.get_column("rho")[0] == pytest.approx(-0.7757, abs=1e-3)


def test_cli_needs_the_quote_date_of_a_users_chain(capsys: pytest.CaptureFixture[str]) -> None:
    from alvh.cli import main

    assert main(["slices", str(REFERENCE_CHAIN_FILE)]) == 2
    assert "--as-of is required" in capsys.readouterr().out
    assert main(["slices", str(REFERENCE_CHAIN_FILE), "--as-of", "2026-13-01"]) == 2
    assert "is not a date" in capsys.readouterr().out
