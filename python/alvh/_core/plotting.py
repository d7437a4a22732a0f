"""What every picture alvh writes shares: matplotlib imported on first use (an optional
dependency, ``pip install alvh[plot]``), the output path checked, the PNG rendered in
memory and written atomically, and $ / signed tick labels."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from alvh._core.io import atomic_write
from alvh.errors import InputTypeError, InvalidInputError

__all__ = ["checked_path", "money", "require_matplotlib", "save", "signed"]


def money(value: float, _pos: Any = None) -> str:
    """$ with thousands separators and a sign: -$12,500 / +$3,000 / $0."""
    if abs(value) < 0.5:
        return "$0"
    return f"{'-' if value < 0 else '+'}${abs(value):,.0f}"


def signed(value: float) -> str:
    """+5 / -2.5 / 0 for axis ticks."""
    return "0" if abs(value) < 1e-9 else f"{value:+g}"


def require_matplotlib(what: str = "alvh plots") -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "alvh.risk.plots needs matplotlib: pip install 'alvh[plot]' (or matplotlib>=3.7)"
        ) from exc


def checked_path(path: Any) -> Path:
    """The output path, checked: a str or PathLike in an existing directory."""
    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    target = Path(path)
    if not target.parent.is_dir() and str(target.parent):
        raise InvalidInputError(f"path {str(target)!r}: directory {str(target.parent)!r} does not exist")
    return target


def save(fig: Any, target: Path) -> Path:
    """Render ``fig`` in memory and replace ``target`` whole (never a partial file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write(target, buffer.getvalue())
    return target
