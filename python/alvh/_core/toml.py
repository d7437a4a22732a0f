"""Reading alvh's TOML files: one loader for every format (market, position, policy, state,
scenarios) and one way to find the line of a field in the text, so that every format's
errors say ``FILE:LINE: field DOTTED.FIELD: problem`` alike.

Python's TOML parser keeps no positions, so `TomlText.line` finds a field by reading the
text the way TOML lays it out: table headers ``[a.b]``, arrays of tables ``[[a.b]]``
(counted, so ``scenarios[1].events[0].date`` is the ``date =`` of the first
``[[scenarios.events]]`` of the second ``[[scenarios]]``), and arrays of inline tables
(``curve = [{expiry = ..., price = ...}, ...]``: ``vix_futures.curve[2].price`` is the
third ``price =`` under ``[vix_futures]``). A field it cannot find gives the line of its
table, or no line; the error is raised either way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from alvh._core.checks import input_error
from alvh._core.io import tomllib
from alvh.errors import InvalidInputError

__all__ = ["TomlText", "build", "load"]

T = TypeVar("T")

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]")
_SEGMENT = re.compile(r"([^.\[\]]+)(?:\[(\d+)\])?")


def load(path: str | os.PathLike[str]) -> tuple[TomlText, dict[str, Any]]:
    """Read and parse a TOML file: its text (for `TomlText.line`) and its document. A file
    that is missing, unreadable, not UTF-8 or not TOML is an `InvalidInputError` naming
    the file (one error type for every TOML reader of alvh, not the OS's exceptions)."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{source}: is a directory, not a TOML file") from None
    except PermissionError:
        raise InvalidInputError(f"{source}: cannot be read (permission denied)") from None
    except OSError as exc:
        raise InvalidInputError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{source}: not UTF-8 text ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"{source}: not valid TOML: {exc}") from None
    return TomlText(source, text), document


def build(path: str | os.PathLike[str], from_dict: Callable[[dict[str, Any]], T]) -> T:
    """``from_dict`` of the TOML document at ``path``; its errors (`InvalidInputError`,
    `InputTypeError`) prefixed with the file's name, as every reader of a format says them."""
    from alvh.errors import InputTypeError

    source = Path(path)
    _, document = load(source)
    try:
        return from_dict(document)
    except (InvalidInputError, InputTypeError) as exc:
        raise type(exc)(f"{source}: {exc}") from None


def _parse_field(dotted: str) -> list[tuple[str, int | None]]:
    return [(m.group(1), None if m.group(2) is None else int(m.group(2))) for m in _SEGMENT.finditer(dotted)]


@dataclass
class _Walk:
    """Where a line is: the current table and the index of each array of tables on its path."""

    section: str = ""
    indices: tuple[int, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    def enter(self, name: str, is_array: bool) -> None:
        if is_array:
            self.counts[name] = self.counts.get(name, -1) + 1
            for other in [k for k in self.counts if k.startswith(name + ".")]:
                del self.counts[other]  # a new parent item restarts its nested arrays
        self.section = name
        parts = name.split(".")
        prefixes = (".".join(parts[: i + 1]) for i in range(len(parts)))
        self.indices = tuple(self.counts[p] for p in prefixes if p in self.counts)


@dataclass(frozen=True)
class TomlText:
    """The text of a TOML file, for locating its fields and raising errors that name them."""

    source: Path
    text: str

    def line(self, dotted: str) -> int | None:
        """The 1-based line of field ``dotted`` (``spx_vol.skew``, ``scenarios[1].name``,
        ``vix_futures.curve[0].price``, ``vix`` for a top-level key), the line of its
        table when the key is absent, or None."""
        segments = _parse_field(dotted)
        if not segments:
            return None
        key = segments[-1][0]
        tables = segments[:-1]
        table = ".".join(name for name, _ in tables)
        want = tuple(i for _, i in tables if i is not None)
        lines = self.text.splitlines()
        headers = {m.group(2) for m in map(_HEADER.match, lines) if m}
        inline = bool(tables) and tables[-1][1] is not None and table not in headers
        if inline:  # an array of inline tables under its parent table: count the key
            table = ".".join(name for name, _ in tables[:-1])
            item, want = want[-1], want[:-1]
        key_at = re.compile(rf"(^|[{{,\s]){re.escape(key)}\s*=")
        walk, table_line, seen = _Walk(), None, -1
        for number, text in enumerate(lines, start=1):
            code = text.split("#")[0]
            header = _HEADER.match(code)
            if header:
                walk.enter(header.group(2), header.group(1) == "[[")
                if walk.section == table and walk.indices == want and table_line is None:
                    table_line = number
                continue
            if walk.section != table or walk.indices != want or not key_at.search(code):
                continue
            if not inline:
                return number
            seen += 1
            if seen == item:
                return number
        return table_line

    def error(self, dotted: str, problem: str) -> InvalidInputError:
        """``FILE:LINE: field DOTTED: problem``, with ``.arg`` the dotted field."""
        line = self.line(dotted)
        where = f"{self.source}:{line}" if line else f"{self.source}"
        return input_error(f"{where}: field {dotted}: {problem}", arg=dotted)
