"""Issue 16's hostile sweep, kept: hypothesis mutates valid inputs (TOML and CSV files:
truncation, byte flips, inserted junk, swapped value types; pricing arrays: NaN, inf,
huge, tiny, negative) and asserts the package answers with a result or one of its own
errors naming the problem — never another exception, never a silently wrong price."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import alvh
from alvh.errors import AlvhError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: The TOML loaders and a valid file of each.
LOADERS = {
    "market": (alvh.Market.from_toml, EXAMPLES / "market_2025-02-03.toml"),
    "position": (alvh.Position.from_toml, EXAMPLES / "condor_vix_hedge.toml"),
    "policy": (alvh.Policy.from_toml, EXAMPLES / "policy_patient.toml"),
    "state": (alvh.MarketState.from_toml, EXAMPLES / "state_2025-02-03.toml"),
}


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` truncated, with bytes flipped, junk inserted, or a value's type swapped."""
    data = bytearray(original)
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "swap", "empty"]))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))])
    if kind == "empty":
        return b""
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "insert":
        i = draw(st.integers(0, len(data)))
        junk = draw(
            st.sampled_from([b"= =", b"[[", b"\xff\xfe", b"1e999", b"nan", b"-", b'"x"', b"\n[x]\n", b"\x00"])
        )
        return bytes(data[:i] + junk + data[i:])
    # swap: a number for a string, a boolean, an array, a huge or negative number
    text = data.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if "=" in line and not line.lstrip().startswith("#")]
    if not lines:
        return bytes(data)
    line = draw(st.sampled_from(lines))
    key = line.split("=", 1)[0]
    value = draw(st.sampled_from(['"text"', "true", "[1, 2]", "-1e308", "0", "-5", "1e400", "{ a = 1 }"]))
    return text.replace(line, f"{key}= {value}", 1).encode()


@pytest.mark.parametrize("name", sorted(LOADERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_file_loads_or_fails_with_our_error(name: str, data: st.DataObject, tmp_path: Path) -> None:
    load, source = LOADERS[name]
    path = tmp_path / f"{name}.toml"
    path.write_bytes(data.draw(mutated(source.read_bytes())))
    try:
        load(path)
    except AlvhError as exc:
        assert str(exc).strip()  # says something


FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-320, 5e-324, 1e308, -1e308, 1e-12, 1e12]),
    st.floats(min_value=1e-6, max_value=1e6),
)


@settings(max_examples=300, deadline=None)
@given(
    is_call=st.booleans(),
    spot=FLOATS,
    strike=FLOATS,
    t=FLOATS,
    rate=st.one_of(FLOATS, st.floats(-0.5, 0.5)),
    div=st.one_of(FLOATS, st.floats(-0.5, 0.5)),
    vol=FLOATS,
)
@example(is_call=False, spot=1.0, strike=1.0, t=710.0, rate=-1.0, div=0.0, vol=1.0)  # K e^-rT overflows
@example(is_call=False, spot=1.0, strike=1.0, t=1.0, rate=0.0, div=-710.0, vol=1.0)  # S e^-qT overflows
def test_pricing_any_floats_gives_a_bounded_price_or_names_the_argument(
    is_call: bool, spot: float, strike: float, t: float, rate: float, div: float, vol: float
) -> None:
    args = dict(is_call=is_call, spot=spot, strike=strike, t=t, rate=rate, div=div, vol=vol)
    try:
        price = float(alvh.bsm.price(**args))
    except AlvhError as exc:
        named = str(exc).split(" ", 1)[0].split("[", 1)[0]
        assert named in args, str(exc)
        assert math.isnan(float(alvh.bsm.price(**args, errors="nan")))
        return
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        forward = float(np.float64(spot) * np.exp(np.float64(-div) * t)) if math.isfinite(spot) else math.inf
        cash = (
            float(np.float64(strike) * np.exp(np.float64(-rate) * t)) if math.isfinite(strike) else math.inf
        )
    upper = forward if is_call else cash
    if math.isinf(price):
        # only when the true price is beyond the largest double: its bound overflows too
        assert price > 0 and math.isinf(upper), (args, price)
        return
    assert math.isfinite(price) or math.isnan(price)
    if math.isfinite(price) and all(math.isfinite(x) for x in (spot, strike, t, rate, div, forward, cash)):
        intrinsic = max(forward - cash, 0.0) if is_call else max(cash - forward, 0.0)
        scale = max(forward, cash, 1e-300)
        assert -1e-9 * scale <= price - intrinsic and price <= upper * (1 + 1e-12) + 1e-300, (args, price)


@st.composite
def mutated_csv(draw: st.DrawFn) -> str:
    rows = [
        "date,open,high,low,close",
        "2020-01-02,10,12,9,11",
        "2020-01-03,11,13,10,12",
        "2020-01-06,12,14,11,13",
    ]
    kind = draw(st.sampled_from(["cell", "drop_column", "duplicate", "order", "truncate"]))
    if kind == "cell":
        r = draw(st.integers(1, 3))
        c = draw(st.integers(0, 4))
        cells = rows[r].split(",")
        cells[c] = draw(st.sampled_from(["", "abc", "-1", "0", "nan", "inf", "1e400", "2020-02-30", "ä"]))
        rows[r] = ",".join(cells)
    elif kind == "drop_column":
        c = draw(st.integers(0, 4))
        rows = [",".join(x for i, x in enumerate(row.split(",")) if i != c) for row in rows]
    elif kind == "duplicate":
        rows.append(rows[-1])
    elif kind == "order":
        rows = [rows[0], rows[2], rows[1], rows[3]]
    else:
        text = "\n".join(rows)
        return text[: draw(st.integers(0, len(text)))]
    return "\n".join(rows) + "\n"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated_csv())
def test_a_mutated_history_file_loads_or_fails_with_our_error(text: str, tmp_path: Path) -> None:
    from alvh.backtesting.data import load_ohlc

    path = tmp_path / "spx.csv"
    path.write_text(text, encoding="utf-8")
    try:
        frame = load_ohlc(path)
    except AlvhError as exc:
        assert "spx.csv" in str(exc)
        return
    closes = frame["close"].to_numpy()
    assert np.all(np.isfinite(closes)) and np.all(closes > 0)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_a_directory_or_an_unreadable_file_is_our_error(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load, source = LOADERS[name]
    with pytest.raises(AlvhError, match="dir"):
        load(tmp_path)  # a directory where a file goes
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes())
    real_open = Path.open
    real_read = Path.read_bytes

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    def refuse_read(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    # the sandbox runs as root, which ignores file modes: the refusal is simulated
    monkeypatch.setattr(Path, "open", refuse)
    monkeypatch.setattr(Path, "read_bytes", refuse_read)
    import builtins

    real_builtin_open = builtins.open

    def refuse_builtin(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_builtin_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", refuse_builtin)
    with pytest.raises(AlvhError, match=source.name):
        load(path)
