"""Backend selection: the compiled core (``native``) or the numpy fallback (``python``).

The default is ``native`` when the extension imported, else ``python``; the
environment variable ``ALVH_BACKEND`` overrides it at import time.
"""

from __future__ import annotations

import os
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


_current: BackendName = _initial()


def backend() -> BackendName:
    """The backend in use: ``"native"`` (Rust core) or ``"python"`` (numpy fallback)."""
    return _current


def kernels() -> ModuleType:
    """The module implementing the kernels of the current backend."""
    if _current == "native":
        assert _NATIVE is not None
        return _NATIVE
    from alvh._fallback import kernels as fallback_kernels

    return fallback_kernels


class use_backend:  # noqa: N801 - used like a function
    """Switch the backend; also a context manager that switches back on exit.

    >>> alvh.use_backend("python")            # from now on
    >>> with alvh.use_backend("native"): ...   # only inside the block
    """

    def __init__(self, name: str) -> None:
        global _current
        self._previous: BackendName = _current
        _current = _validated(name)

    def __enter__(self) -> use_backend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _current
        _current = self._previous


def build_info() -> dict[str, object]:
    """How this installation runs: backend, SIMD path of the native kernels, threads."""
    info: dict[str, object] = {"backend": _current, "native_available": _NATIVE is not None}
    if _NATIVE is not None:
        info.update(_NATIVE.build_info())
    else:
        info["native_import_error"] = _NATIVE_IMPORT_ERROR
    return info
