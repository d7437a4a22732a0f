"""Rebuild alvh's bundled real SPX chain (python/alvh/market/sample/), byte for byte.

    python scripts/extract_reference_chain.py PARQUET

``PARQUET`` is ``parquet/chains/SPX_20260403_20260630.parquet`` of the GitHub repository
markrichardson/qsmile (MIT; commit e172b64d6a6338172f91f20c77dbeb5ca355dcf9): all 318
strikes of the SPX 2026-06-30 expiry, calls and puts, bid/ask/volume/open interest,
fetched on 2026-04-03 (Good Friday: the exchange was closed, so the quotes are the
2026-04-02 close). Its SHA-256 is checked; the CSV is written through a temporary file
and a rename (never half-written) in the order of the source, and SOURCES.md records the
provenance, the licence and the CSV's checksum. `alvh.market.slices.reference_chain`
reads it; `SsviSurface`'s default ``rho`` and ``eta`` are its SSVI-slice fit.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "python" / "alvh" / "market" / "sample"
CSV_NAME = "spx_chain_2026-04-02.csv"
PARQUET_SHA256 = "f65270542cadeb6dfe5e54195f2273c633c32fabe02e22d73b58d687c62f2683"
QSMILE_COMMIT = "e172b64d6a6338172f91f20c77dbeb5ca355dcf9"

LICENCE = """MIT License, Copyright (c) 2025 Mark Richardson. Permission is hereby granted, free
of charge, to any person obtaining a copy of this software and associated documentation
files (the "Software"), to deal in the Software without restriction, including without
limitation the rights to use, copy, modify, merge, publish, distribute, sublicense,
and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions: The above copyright notice and
this permission notice shall be included in all copies or substantial portions of the
Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND."""


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))


def _table_row(name: str, digest: str, rows: int) -> str:
    origin = (
        f"`parquet/chains/SPX_20260403_20260630.parquet` of github.com/markrichardson/qsmile at commit "
        f"`{QSMILE_COMMIT}` (SHA-256 `{PARQUET_SHA256}`): {rows} rows, the SPX 2026-06-30 expiry, calls "
        "and puts; columns expiryDate, strike, optionType, bid, ask, volume, openInterest kept (lastPrice "
        "dropped). Fetched 2026-04-03, a Good Friday with the exchange closed: the quotes are the "
        "2026-04-02 close."
    )
    return f"| {name} | `{digest}` | {origin} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parquet", type=Path)
    args = parser.parse_args(argv)

    import polars as pl

    raw = args.parquet.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != PARQUET_SHA256:
        print(f"{args.parquet}: SHA-256 {digest}, expected {PARQUET_SHA256}", file=sys.stderr)
        return 1
    frame = pl.read_parquet(io.BytesIO(raw))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["expiry", "strike", "type", "bid", "ask", "volume", "open_interest"])
    for row in frame.iter_rows(named=True):
        writer.writerow(
            [
                row["expiryDate"],
                _number(row["strike"]),
                row["optionType"],
                _number(row["bid"]),
                _number(row["ask"]),
                _number(row["volume"]),
                _number(row["openInterest"]),
            ]
        )
    data = buffer.getvalue().encode()
    OUT.mkdir(parents=True, exist_ok=True)
    _write_atomic(OUT / CSV_NAME, data)
    sources = f"""# alvh reference SPX chain: provenance

Written by `scripts/extract_reference_chain.py` (rerun it to rebuild the CSV byte for
byte); `alvh.market.slices.reference_chain` reads it.

| file | SHA-256 | from |
|---|---|---|
{_table_row(CSV_NAME, hashlib.sha256(data).hexdigest(), frame.height)}

## Licence

- qsmile: {LICENCE}
"""
    _write_atomic(OUT / "SOURCES.md", sources.encode())
    print(f"wrote {OUT / CSV_NAME} ({frame.height} rows) and SOURCES.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
