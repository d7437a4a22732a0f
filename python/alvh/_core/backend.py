"""Backend selection: the compiled core (``native``) or the numpy fallback (``python``).

The default is ``native`` when the extension imported, else ``python``; the
environment variable ``ALVH_BACKEND`` overrides it at import time.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from types import ModuleType, TracebackType
from typing import Literal

from alvh.errors import BackendError

BackendName = Literal["native", "python"]

try:
    from alvh import _native as _native_module

    _NATIVE: ModuleType | None = _native_module
    _NATIVE_IMPORT_ERROR: str | None = None
except ImportError as exc:  # pragma: no cover - exercised only without the wheel
    _NATIVE = None
    _NATIVE_IMPORT_ERROR = str(exc)


if _NATIVE is not None and hasattr(os, "register_at_fork"):
    # rayon's worker threads do not survive fork(): a forked child (multiprocessing's
    # default on Linux) computes on its own thread instead of hanging in the pool.
    os.register_at_fork(after_in_child=lambda: _native_module.set_parallel(False))


def _validated(name: str) -> BackendName:
    if name == "python":
        return "python"
    if name == "native":
        if _NATIVE is None:
            raise BackendError(
                f"backend 'native' is not available: the compiled module alvh._native "
                f"failed to import ({_NATIVE_IMPORT_ERROR}); install the alvh wheel or "
                f"use backend 'python'"
            )
        return "native"
    raise BackendError(f"backend must be 'native' or 'python', got {name!r}")


def _initial() -> BackendName:
    requested = os.environ.get("ALVH_BACKEND")
    if requested:
        return _validated(requested.strip().lower())
    return "native" if _NATIVE is not None else "python"


#: The process default: ``ALVH_BACKEND``, else native when the extension imported.
_DEFAULT: BackendName = _initial()
#: `use_backend`'s choice in the current context (thread or asyncio task); None: the
#: process default. A context variable, so that threads switching backends in
#: overlapping ``with`` blocks do not undo each other's switch.
_SELECTED: ContextVar[BackendName | None] = ContextVar("alvh_backend", default=None)


def backend() -> BackendName:
    """The backend in use here: ``"native"`` (Rust core) or ``"python"`` (numpy
    fallback), as `use_backend` set it in this thread (or task), else the process default."""
    chosen = _SELECTED.get()
    return _DEFAULT if chosen is None else chosen


def kernels() -> ModuleType:
    """The module implementing the kernels of the current backend."""
    if backend() == "native":
        assert _NATIVE is not None
        return _NATIVE
    from alvh._fallback import kernels as fallback_kernels

    return fallback_kernels


class use_backend:  # noqa: N801 - used like a function
    """Switch the backend; also a context manager that switches back on exit.

    >>> alvh.use_backend("python")            # from now on, in this thread
    >>> with alvh.use_backend("native"): ...   # only inside the block

    The switch is per thread (a context variable; asyncio tasks inherit it): other
    threads keep their own choice, or the process default (``ALVH_BACKEND``, else
    native). Worker processes start from the process default too.
    """

    def __init__(self, name: str) -> None:
        chosen = _validated(name)
        self._previous: BackendName | None = _SELECTED.get()
        self._token = _SELECTED.set(chosen)

    def __enter__(self) -> use_backend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            _SELECTED.reset(self._token)
        except ValueError:  # the token belongs to another context: restore by value
            _SELECTED.set(self._previous)


def build_info() -> dict[str, object]:
    """How this installation runs: backend, SIMD path of the native kernels, threads."""
    info: dict[str, object] = {"backend": backend(), "native_available": _NATIVE is not None}
    if _NATIVE is not None:
        info.update(_NATIVE.build_info())
    else:
        info["native_import_error"] = _NATIVE_IMPORT_ERROR
    return info
