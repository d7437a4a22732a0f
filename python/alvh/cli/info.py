"""``alvh info``: which backend and SIMD path this installation uses."""

from __future__ import annotations

import argparse

from rich.console import Console

import alvh

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alvh info`` to ``commands``."""
    commands.add_parser("info", help="backend and SIMD path in use").set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> None:
    """Print the build information, one ``key: value`` a line."""
    for key, value in alvh.build_info().items():
        console.print(f"{key}: {value}")
