"""The model-independent half of `alvh.bsm` and `alvh.black76`: normalize the
arguments, allocate or check the outputs, call the current backend's kernel, and
give the results the broadcast shape."""

from __future__ import annotations

from typing import Any

import numpy as np

from alvh._core import backend as _backend
from alvh._core.args import check_errors_mode, normalize, output
from alvh._core.types import FloatArray
from alvh.errors import InputTypeError
from alvh.pricing.greeks import NAMES, Greeks

__all__ = ["greeks", "implied_vol", "price"]


# Public names of the underlying argument, per model (the kernels call it "spot").
_UNDERLYING = {"bsm": "spot", "black76": "forward"}


def _inputs(model: str, underlying: Any, div: Any, **named: Any) -> dict[str, Any]:
    args = {"is_call": named.pop("is_call"), _UNDERLYING[model]: underlying, **named}
    if model == "bsm":
        args["div"] = div
    return args


def _staged(outputs: list[FloatArray], args: dict[str, Any]) -> list[FloatArray]:
    """Where the kernel writes: the caller's ``out`` buffers, or fresh ones when an ``out``
    shares memory with an input (``price(strike=a, out=a)``: the kernels read inputs while
    writing outputs, and the native one cannot borrow one array both ways); the results
    are copied into ``out`` afterwards (`_publish`)."""
    inputs = [v for v in args.values() if isinstance(v, np.ndarray)]
    if any(np.may_share_memory(o, i) for o in outputs for i in inputs):
        return [np.empty_like(o) for o in outputs]
    return outputs


def _publish(staged: list[FloatArray], outputs: list[FloatArray]) -> None:
    for tmp, flat in zip(staged, outputs):
        if tmp is not flat:
            flat[...] = tmp


def _kernel_args(model: str, args: dict[str, Any]) -> dict[str, Any]:
    kernel = dict(args)
    kernel["spot"] = kernel.pop(_UNDERLYING[model])
    kernel.setdefault("div", 0.0)
    return kernel


def price(model: str, *, underlying: Any, div: Any, out: Any, errors: str, **named: Any) -> FloatArray:
    errors_nan = check_errors_mode(errors)
    batch = normalize("is_call", **_inputs(model, underlying, div, **named))
    flat = output("out", out, batch.shape)
    if batch.size:
        k = _kernel_args(model, batch.args)
        (into,) = staged = _staged([flat], k)
        _backend.kernels().price(
            model,
            k["is_call"],
            k["spot"],
            k["strike"],
            k["t"],
            k["rate"],
            k["div"],
            k["vol"],
            into,
            errors_nan,
        )
        _publish(staged, [flat])
    return out if out is not None else flat.reshape(batch.shape)


def greeks(model: str, *, underlying: Any, div: Any, out: Any, errors: str, **named: Any) -> Greeks:
    errors_nan = check_errors_mode(errors)
    batch = normalize("is_call", **_inputs(model, underlying, div, **named))
    if out is None:
        result = Greeks.empty(batch.shape)
    elif isinstance(out, Greeks):
        result = out
    else:
        raise InputTypeError(f"out must be an alvh.Greeks (see Greeks.empty), got {type(out).__name__}")
    flats = [output(f"out.{name}", array, batch.shape) for name, array in zip(NAMES, result.arrays())]
    if batch.size:
        k = _kernel_args(model, batch.args)
        staged = _staged(flats, k)
        _backend.kernels().greeks(
            model,
            k["is_call"],
            k["spot"],
            k["strike"],
            k["t"],
            k["rate"],
            k["div"],
            k["vol"],
            staged,
            errors_nan,
        )
        _publish(staged, flats)
    return result


def implied_vol(model: str, *, underlying: Any, div: Any, out: Any, errors: str, **named: Any) -> FloatArray:
    errors_nan = check_errors_mode(errors)
    option_price = named.pop("price")
    batch = normalize("is_call", price=option_price, **_inputs(model, underlying, div, **named))
    flat = output("out", out, batch.shape)
    if batch.size:
        k = _kernel_args(model, batch.args)
        (into,) = staged = _staged([flat], k)
        _backend.kernels().implied_vol(
            model,
            k["price"],
            k["is_call"],
            k["spot"],
            k["strike"],
            k["t"],
            k["rate"],
            k["div"],
            into,
            errors_nan,
        )
        _publish(staged, [flat])
    return out if out is not None else flat.reshape(batch.shape)
