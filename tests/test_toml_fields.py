"""`alvh._core.toml`: the one loader and field locator every TOML format uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import alvh
from alvh._core.toml import TomlText, load
from alvh.errors import InvalidInputError

TEXT = """\
as_of = 2025-02-03
vix = 18.5

[spx_vol]
model = "svi"
skew = -0.3   # comment
[[spx_vol.slices]]
expiry = 2025-03-21
a = 0.01
[[spx_vol.slices]]
expiry = 2025-04-17

[vix_futures]
curve = [
  { expiry = 2025-02-19, price = 19.0 },
  { expiry = 2025-03-18, price = 19.6 },
]

[[scenarios]]
name = "up"
[[scenarios.events]]
date = 2025-02-10
[[scenarios]]
name = "down"
[[scenarios.events]]
kind = "gdp"
[[scenarios.events]]
date = 2025-03-01
"""


@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("vix", 2),
        ("spx_vol.skew", 6),
        ("spx_vol.slices[0].a", 9),
        ("spx_vol.slices[1].expiry", 11),
        ("spx_vol.slices[1].a", 10),  # absent: the line of its table
        ("vix_futures.curve[0].price", 15),
        ("vix_futures.curve[1].expiry", 16),
        ("vix_futures.curve", 14),
        ("scenarios[1].name", 24),
        ("scenarios[0].events[0].date", 22),
        ("scenarios[1].events[1].date", 28),
        ("scenarios[1].events[0].date", 25),  # absent: the line of its table
        ("nowhere.key", None),
    ],
)
def test_a_field_is_found_on_its_line(field: str, line: int | None) -> None:
    assert TomlText(Path("f.toml"), TEXT).line(field) == line


def test_the_error_names_file_line_and_field() -> None:
    err = TomlText(Path("f.toml"), TEXT).error("spx_vol.skew", "must be negative")
    assert str(err) == "f.toml:6: field spx_vol.skew: must be negative"
    assert err.arg == "spx_vol.skew" and err.index is None and err.value is None


def test_load_rejects_non_utf8_and_non_toml(tmp_path: Path) -> None:
    latin = tmp_path / "latin.toml"
    latin.write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match=r"latin\.toml: not UTF-8 text"):
        load(latin)
    broken = tmp_path / "broken.toml"
    broken.write_text("vix = = 1\n")
    with pytest.raises(InvalidInputError, match=r"broken\.toml: not valid TOML: .*line 1"):
        load(broken)
    good = tmp_path / "good.toml"
    good.write_text(TEXT)
    text, document = load(good)
    assert document["vix"] == 18.5 and text.line("vix") == 2


@pytest.mark.parametrize(
    "loader",
    [
        alvh.Position.from_toml,
        alvh.Market.from_toml,
        alvh.Policy.from_toml,
        alvh.MarketState.from_toml,
    ],
)
def test_every_toml_reader_names_a_missing_file_or_a_directory(loader, tmp_path):
    # issue 16 point 9: the readers raised the OS's FileNotFoundError / IsADirectoryError
    with pytest.raises(InvalidInputError, match=rf"{re.escape(str(tmp_path / 'none.toml'))}: no such file"):
        loader(tmp_path / "none.toml")
    with pytest.raises(InvalidInputError, match=rf"{re.escape(str(tmp_path))}: is a directory"):
        loader(tmp_path)
