"""The pricing kernels of the numpy backend, with the interface and semantics of
`alvh._native`'s.

- `price` and `greeks`: generalized Black–Scholes–Merton and Black-76 with the
  formulas and the order of operations of `rust/core/src/kernels.rs`: the
  out-of-the-money member of each call/put pair is valued and the parity term
  S e^{-qT} - K e^{-rT} added for an in-the-money option, N(d) is
  `scipy.special.ndtr` taken at -d directly (never 1 - N(d)). The parity terms use a
  port of the core's own exp, bit for bit, so that a price at a no-arbitrage bound
  (a deep in-the-money option with no time value left) is at the same bound on both
  backends; everything else agrees to rounding.
- `implied_vol`: the core's reduction (`rust/core/src/implied.rs`: the
  out-of-the-money member's undiscounted price), then Peter Jäckel's "Let's Be
  Rational" (Wilmott 2015, with the closed-form branch boundaries of its 2024
  revision, as in the `implied-vol` crate the core uses) on whole arrays: the
  four-branch rational initial guess, then third-order Householder steps on the
  branch's transformed objective (1/ln b on the lowest branch, b on the middle ones,
  ln(b_max - b) on the highest), on the rows not yet converged only, each row kept
  inside the bracket its evaluations prove, with bisection when a step leaves it.
  The normalized Black price uses Jäckel's asymptotic and small-t expansions where
  its two terms nearly cancel, so s is found to the accuracy the price allows.
- Bad input: the validation, exception classes, messages and attributes of the core
  (`rust/core/src/error.rs` via `rust/py/src/errors.rs`), numbers printed as Rust does.

Arguments arrive normalized by `alvh.pricing.dispatch`: each number is a Python float or a
1-D C-contiguous float64 array as long as ``out``; ``is_call`` a bool or a 1-D bool
array. Results are written into ``out`` in place.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import scipy
from numpy.typing import NDArray
from scipy import special

from alvh._core.checks import kernel_error
from alvh._core.types import FloatArray
from alvh.errors import NoSolutionError, ShapeError

Num = Any  # float or FloatArray: numpy broadcasts either way

#: Options per block. Every numpy operation makes a temporary of this length; a block
#: of 32768 keeps them small enough to stay cheap (larger ones cost page faults, and
#: smaller ones Python overhead per operation).
BLOCK = 1 << 15

_NAN = float("nan")
_INF = float("inf")
_DBL_MIN = 2.2250738585072014e-308
_DBL_MAX = 1.7976931348623157e308
_DBL_EPSILON = 2.220446049250313e-16


def _from_bits(bits: int) -> float:
    return float(struct.unpack("<d", bits.to_bytes(8, "little"))[0])


# The constants of the implied-vol crate (lets_be_rational/constants.rs), bit for bit.
_SQRT_PI_OVER_2 = _from_bits(0x3FF4_0D93_1FF6_2706)
_SQRT_2_PI = _from_bits(0x4004_0D93_1FF6_2706)
_SQRT_3 = _from_bits(0x3FFB_B67A_E858_4CAA)
_SQRT_2_OVER_PI = _from_bits(0x3FE9_8845_33D4_3650)
_FRAC_1_SQRT_3 = _from_bits(0x3FE2_79A7_4590_331D)
_FRAC_2_PI_SQRT_27 = _from_bits(0x3FF3_58E1_A79E_D7E1)
_FRAC_SQRT_3_CUBIC_ROOT_2_PI = _from_bits(0x3FEE_095E_1123_53F7)
_SQRT_DBL_MAX = _from_bits(0x5FEF_FFFF_FFFF_FFFF)
_HALF_OF_LN_2_PI = _from_bits(0x3FED_67F1_C864_BEB5)
_FRAC_1_SQRT_2 = 0.7071067811865476
_SQRT_2 = 1.4142135623730951
_INV_SQRT_2PI = 0.3989422804014327
_FRAC_2_SQRT_PI = 1.1283791670955126

_NORMAL_CDF = special.ndtr


# --------------------------------------------------------------------------- errors


def _display(value: float) -> str:
    """``value`` as Rust's ``Display`` for f64 prints it (the core's messages use it)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0.0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    # The shortest decimal that reads back as `value` (repr), positional. Where two
    # shortest decimals are equally close, Python keeps the even last digit and Rust the
    # larger magnitude: take Rust's.
    shortest = Decimal(repr(value)).normalize()
    sign, _, exponent = shortest.as_tuple()
    assert isinstance(exponent, int)
    step = Decimal((sign, (1,), exponent))
    other = shortest + step
    exact = Decimal(value)
    if float(other) == value and abs(other - exact) == abs(shortest - exact):
        shortest = other
    return format(shortest, "f")


def _invalid_value(arg: str, index: int, value: float, requirement: str) -> Exception:
    """`alvh._core.checks.kernel_error`, with the number printed as the core prints it."""
    err = kernel_error(arg, index, value, requirement)
    err.args = (f"{arg} must be {requirement}; got {arg}[{index}] = {_display(value)}",)
    return err


def _no_solution(index: int, value: float, message: str) -> Exception:
    err = NoSolutionError(message)
    err.arg, err.index, err.value = "price", index, value
    return err


def _out_of_bounds(index: int, value: float, lower: float, upper: float) -> Exception:
    """The core's `AlvhError::PriceOutOfBounds`, as the binding maps it."""
    return _no_solution(
        index,
        value,
        (
            f"price[{index}] = {_display(value)} has no implied volatility: it must lie strictly "
            f"between the no-arbitrage bounds {_display(lower)} (discounted intrinsic value) "
            f"and {_display(upper)}"
        ),
    )


def _unresolvable(index: int, value: float, lower: float, upper: float) -> Exception:
    """The core's `AlvhError::PriceUnresolvable`, as the binding maps it."""
    return _no_solution(
        index,
        value,
        (
            f"price[{index}] = {_display(value)} has no resolvable implied volatility: it is within "
            f"rounding of a no-arbitrage bound ({_display(lower)} discounted intrinsic value, "
            f"{_display(upper)} upper bound)"
        ),
    )


def _length_mismatch(arg: str, length: int, expected: int) -> Exception:
    err = ShapeError(
        f"{arg} has length {length}, expected {expected} (all array arguments must have one length)"
    )
    err.arg, err.index, err.value = arg, 0, float(length)
    return err


# --------------------------------------------------------------------- arguments


def _model_is_black76(model: str) -> bool:
    if model == "bsm":
        return False
    if model == "black76":
        return True
    raise ValueError(f"model must be 'bsm' or 'black76', got \"{model}\"")


def _num_arg(name: str, value: Any) -> Num:
    """A float, or a 1-D float64 array (as the binding's extraction accepts them)."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype == np.float64:
        return value
    if isinstance(value, float):
        return value
    kind = type(value)
    if not isinstance(value, (str, bytes)) and (hasattr(kind, "__float__") or hasattr(kind, "__index__")):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{name} must be a float or a 1-D float64 array, got {kind.__name__}")


def _flag_arg(value: Any) -> bool | NDArray[np.bool_]:
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype == np.bool_:
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"is_call must be a bool or a 1-D bool array, got {type(value).__name__}")


def _contiguous(name: str, value: Any) -> None:
    if isinstance(value, np.ndarray) and not value.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")


def _out_arg(name: str, value: Any) -> FloatArray:
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype == np.float64):
        raise TypeError(f"{name} must be a 1-D float64 array, got {type(value).__name__}")
    if not value.flags.c_contiguous or not value.flags.writeable:
        raise ValueError(f"{name} must be a C-contiguous float64 array")
    return value


def _check_lengths(n: int, columns: Sequence[tuple[str, Any]]) -> None:
    for name, value in columns:
        if isinstance(value, np.ndarray) and len(value) != n:
            raise _length_mismatch(name, len(value), n)


def _rows(value: Any, rows: slice) -> Any:
    """Rows ``rows`` of an array argument; a scalar stands for every row."""
    return value[rows] if isinstance(value, np.ndarray) else value


def _at(value: Any, i: int) -> Any:
    return value[i].item() if isinstance(value, np.ndarray) else value


def _signs(is_call: Any) -> Num:
    """+1.0 for calls, -1.0 for puts."""
    if isinstance(is_call, np.ndarray):
        return np.where(is_call, 1.0, -1.0)
    return 1.0 if is_call else -1.0


def _positive(x: Num) -> Any:
    return (x > 0.0) & (x < _INF)


def _finite(x: Num) -> Any:
    return np.abs(x) < _INF


def _first_invalid_row_error(black76: bool, index: int, columns: dict[str, Any]) -> Exception:
    """The core's `OptionBatch::row_error`: the first offending argument of row ``index``."""
    positive = "positive and finite"
    checks = [
        ("forward" if black76 else "spot", "spot", True, positive),
        ("strike", "strike", True, positive),
        ("t", "t", True, "positive and finite (years)"),
        ("rate", "rate", False, "finite"),
    ]
    if not black76:
        checks.append(("div", "div", False, "finite"))
    checks.append(("vol", "vol", True, "positive and finite (1.0 = 100%)"))
    for arg, key, must_be_positive, requirement in checks:
        value = float(_at(columns[key], index))
        if not (math.isfinite(value) and (not must_be_positive or value > 0.0)):
            return _invalid_value(arg, index, value, requirement)
    return _invalid_value("vol", index, float(_at(columns["vol"], index)), positive)


# ------------------------------------------------------------- prices and Greeks


# The exp of the core (simd_math.rs, portable path), operation for operation: the parity
# terms S e^{-qT} and K e^{-rT} then come out bit for bit as the core's (numpy's exp
# differs from it in the last bit for ~10 % of arguments), so a price at a bound, e.g.
# a deep in-the-money option with no time value left, is at the same bound on both
# backends. Range reduction x = k ln2 + r, a degree-13 Taylor polynomial, 2^k in two
# halves.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2^52
_ROUND_MAGIC_BITS = np.float64(_ROUND_MAGIC).view(np.int64)
_EXP_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, 1, -1))


def _core_exp(x: Num) -> FloatArray:
    # In place where possible: every fresh temporary costs page faults (see BLOCK).
    x = np.clip(np.asarray(x, dtype=np.float64), -746.0, 709.8)
    shifted = x * _LOG2E
    shifted += _ROUND_MAGIC
    k_float = shifted - _ROUND_MAGIC
    k = shifted.view(np.int64)
    k -= _ROUND_MAGIC_BITS
    # r = -k LN2_LO + (-k LN2_HI + x): k LN2_HI is exact, so r is x - k ln 2 to ~1e-26.
    r = k_float * -_LN2_HI
    r += x
    k_float *= -_LN2_LO
    r += k_float
    p = np.full_like(r, _EXP_TAYLOR[0])
    for coefficient in _EXP_TAYLOR[1:]:
        p *= r
        p += coefficient
    # e^r = 1 + (r^2 p + r)
    p *= r * r
    p += r
    p += 1.0
    # Times 2^k in two halves (so that subnormal results round as in the core). NaN
    # arguments give garbage exponents, but their p is NaN, so the product stays NaN.
    k_half = k >> 1
    k -= k_half
    k_half += 1023
    k_half <<= 52
    k += 1023
    k <<= 52
    p *= k_half.view(np.float64)
    p *= k.view(np.float64)
    return p


def _parity_terms(spot: Num, strike: Num, t: Num, rate: Num, div: Num) -> tuple[Num, Num, Num]:
    """S e^{-qT}, K e^{-rT} and e^{-qT} (kernels.rs `discounted_forward_and_strike`)."""
    carry_discount = _core_exp(-div * t)
    return spot * carry_discount, strike * _core_exp(-rate * t), carry_discount


def _exp_neg_half_square(x: Num) -> Num:
    """exp(-x^2 / 2) with the rounding error of x*x carried (Dekker's exact square),
    as simd_math.rs `exp_neg_half_square`; clamped like it to |x| <= 40."""
    x = np.clip(x, -40.0, 40.0)
    split = 134217729.0 * x
    x_hi = split - (split - x)
    x_lo = x - x_hi
    hi = x * x
    lo = ((x_hi * x_hi - hi) + 2.0 * x_hi * x_lo) + x_lo * x_lo
    return np.exp(-0.5 * hi) * (1.0 - 0.5 * lo)


def _otm_cdfs(z1: Num, z2: Num, d1: Num, forward_over_strike: Num) -> tuple[Num, Num]:
    """N(z1), N(z2) for z = +-d of the out-of-the-money option. ndtr, except below
    z = -3, where N(z) = erfcx(|z|/sqrt 2) phi(z) sqrt(pi/2) with phi(d1) from the
    exactly split square and phi(d2) = phi(d1) F / K, as the core computes them: ndtr's
    own exp(-z^2/2) carries z's rounding, which the cancellation of two tail terms
    amplifies. Only the tail rows pay for erfcx."""
    cdf1 = np.array(_NORMAL_CDF(z1), dtype=np.float64, ndmin=1)
    cdf2 = np.array(_NORMAL_CDF(z2), dtype=np.float64, ndmin=1)
    z1, z2, d1, ratio = (
        np.broadcast_to(np.asarray(a, dtype=np.float64), cdf1.shape)
        for a in (z1, z2, d1, forward_over_strike)
    )
    tail = (z1 < -3.0) | (z2 < -3.0)
    if tail.any():
        pdf1 = _INV_SQRT_2PI * _exp_neg_half_square(d1[tail])
        pdf2 = pdf1 * np.fmin(ratio[tail], 1e300)
        for cdf, z, pdf in ((cdf1, z1[tail], pdf1), (cdf2, z2[tail], pdf2)):
            lower = z < -3.0
            values = cdf[tail]
            values[lower] = 0.5 * special.erfcx(-z[lower] * _FRAC_1_SQRT_2) * pdf[lower] * _SQRT_2_PI
            cdf[tail] = values
    return cdf1, cdf2


class _Common:
    """The quantities every output needs, for a block of rows (kernels.rs `Common`).

    As in the core, the out-of-the-money member of the call/put pair is valued and the
    parity term added for an in-the-money option, so that the time value keeps full
    relative precision; N(-d) is taken directly, never as 1 - N(d).
    """

    def __init__(self, sign: Num, spot: Num, strike: Num, t: Num, rate: Num, div: Num, vol: Num) -> None:
        self.valid = (
            _positive(spot) & _positive(strike) & _positive(t) & _positive(vol) & _finite(rate) & _finite(div)
        )
        self.sign, self.spot, self.t, self.rate, self.vol = sign, spot, t, rate, vol
        self.carry = rate - div
        self.sqrt_t = np.sqrt(t)
        total_vol = vol * self.sqrt_t
        # Floored so that an underflowed total vol gives the limiting values, not NaN.
        self.inv_total_vol = 1.0 / np.fmax(total_vol, _DBL_MIN)
        # Clamped to the normal range as the core's ln is: S/K under- or overflowing gives
        # a finite log-moneyness (and d1) rather than -inf or inf.
        log_moneyness = np.log(np.clip(spot / strike, _DBL_MIN, _DBL_MAX))
        # As the core: (ln(S/K) + carry t) / (vol sqrt t) +- vol sqrt t / 2, never squaring
        # the vol (overflow above ~1.3e154) nor subtracting an infinite total vol.
        drift = (log_moneyness + self.carry * t) * self.inv_total_vol
        half_total_vol = 0.5 * total_vol
        self.d1 = drift + half_total_vol
        self.d2 = drift - half_total_vol
        self.forward_value, self.strike_value, self.carry_discount = _parity_terms(spot, strike, t, rate, div)
        self.parity = sign * (self.forward_value - self.strike_value)
        self.in_the_money = self.parity > 0.0
        otm_sign = np.where(self.in_the_money, -sign, sign)
        cdf_otm_d1, cdf_otm_d2 = _otm_cdfs(
            otm_sign * self.d1, otm_sign * self.d2, self.d1, self.forward_value / self.strike_value
        )
        if np.ndim(self.d1) == 0:
            cdf_otm_d1, cdf_otm_d2 = cdf_otm_d1[0], cdf_otm_d2[0]
        # fmax, like Rust's f64::max, returns 0 rather than NaN.
        otm_difference = self.forward_value * cdf_otm_d1 - self.strike_value * cdf_otm_d2
        self.otm_value = np.fmax(otm_sign * otm_difference, 0.0)
        self.cdf_signed_d1 = np.where(self.in_the_money, 1.0 - cdf_otm_d1, cdf_otm_d1)
        self.cdf_signed_d2 = np.where(self.in_the_money, 1.0 - cdf_otm_d2, cdf_otm_d2)

    def price(self) -> Num:
        return self.otm_value + np.where(self.in_the_money, self.parity, 0.0)


def _block_inputs(black76: bool, columns: dict[str, Any], rows: slice) -> _Common:
    rate = _rows(columns["rate"], rows)
    # Black-76 is BSM with the dividend yield equal to the rate (zero cost of carry).
    div = rate if black76 else _rows(columns["div"], rows)
    return _Common(
        _signs(_rows(columns["is_call"], rows)),
        _rows(columns["spot"], rows),
        _rows(columns["strike"], rows),
        _rows(columns["t"], rows),
        rate,
        div,
        _rows(columns["vol"], rows),
    )


def _invalid_rows(valid: Any, n: int) -> NDArray[np.intp] | None:
    """Indices (within the block) of the invalid rows, or None when all are valid."""
    if np.all(valid):
        return None
    return np.flatnonzero(~np.broadcast_to(valid, (n,)))


def _extract(
    black76: bool, is_call: Any, spot: Any, strike: Any, t: Any, rate: Any, div: Any, vol: Any
) -> dict[str, Any]:
    columns = {
        "is_call": _flag_arg(is_call),
        "spot": _num_arg("spot", spot),
        "strike": _num_arg("strike", strike),
        "t": _num_arg("t", t),
        "rate": _num_arg("rate", rate),
        "div": _num_arg("div", div),
        "vol": _num_arg("vol", vol),
    }
    for name, value in columns.items():
        _contiguous(name, value)
    return columns


def price(
    model: str,
    is_call: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    div: Any,
    vol: Any,
    out: FloatArray,
    errors_nan: bool,
) -> None:
    """Prices into ``out``. ``model`` is "bsm" or "black76" (then ``spot`` is the forward)."""
    black76 = _model_is_black76(model)
    columns = _extract(black76, is_call, spot, strike, t, rate, div, vol)
    out = _out_arg("out", out)
    n = len(out)
    _check_lengths(n, list(columns.items()))
    first_invalid: int | None = None
    with np.errstate(all="ignore"):
        for start in range(0, n, BLOCK):
            rows = slice(start, min(start + BLOCK, n))
            block = out[rows]
            c = _block_inputs(black76, columns, rows)
            block[...] = c.price()
            bad = _invalid_rows(c.valid, len(block))
            if bad is not None:
                block[bad] = _NAN
                if first_invalid is None:
                    first_invalid = start + int(bad[0])
    if first_invalid is not None and not errors_nan:
        raise _first_invalid_row_error(black76, first_invalid, columns)


def greeks(
    model: str,
    is_call: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    div: Any,
    vol: Any,
    out: Sequence[FloatArray],
    errors_nan: bool,
) -> None:
    """Price and eight Greeks into the nine arrays of ``out`` (price, delta, gamma,
    vega, theta, rho, vanna, volga, charm), in DESIGN.md's raw units."""
    black76 = _model_is_black76(model)
    columns = _extract(black76, is_call, spot, strike, t, rate, div, vol)
    if isinstance(out, (str, bytes)) or len(out) != 9:
        raise TypeError("out must be a sequence of 9 float64 arrays (price and eight Greeks)")
    names = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")
    outs = [_out_arg(f"out.{name}", array) for name, array in zip(names, out)]
    n = len(outs[0])
    _check_lengths(n, list(columns.items()))
    _check_lengths(n, [(f"out.{name}", array) for name, array in zip(names[1:], outs[1:])])
    first_invalid: int | None = None
    with np.errstate(all="ignore"):
        for start in range(0, n, BLOCK):
            rows = slice(start, min(start + BLOCK, n))
            c = _block_inputs(black76, columns, rows)
            values = _all_greeks(c, black76)
            blocks = [array[rows] for array in outs]
            bad = _invalid_rows(c.valid, rows.stop - rows.start)
            for block, value in zip(blocks, values):
                block[...] = value
                if bad is not None:
                    block[bad] = _NAN
            if bad is not None and first_invalid is None:
                first_invalid = start + int(bad[0])
    if first_invalid is not None and not errors_nan:
        raise _first_invalid_row_error(black76, first_invalid, columns)


def _all_greeks(c: _Common, black76: bool) -> tuple[Num, ...]:
    """kernels.rs `all_greeks`, term for term."""
    option_price = c.price()
    pdf_d1 = _INV_SQRT_2PI * _exp_neg_half_square(c.d1)
    discounted_pdf = c.carry_discount * pdf_d1
    delta = c.sign * c.carry_discount * c.cdf_signed_d1
    gamma = discounted_pdf * c.inv_total_vol / c.spot
    vega = c.spot * discounted_pdf * c.sqrt_t
    inv_vol = 1.0 / c.vol
    # Where the density underflows, d1 or d2 may be infinite (total vol ~1e-300): the
    # terms it multiplies are then exactly 0, not 0 * inf = NaN.
    has_density = pdf_d1 > 0.0
    vanna = np.where(has_density, -discounted_pdf * c.d2 * inv_vol, 0.0)
    volga = np.where(has_density, vega * c.d1 * c.d2 * inv_vol, 0.0)
    forward_leg = c.forward_value * c.cdf_signed_d1
    strike_leg = c.strike_value * c.cdf_signed_d2
    div = c.rate - c.carry
    theta = -0.5 * vega * c.vol / c.t + c.sign * (div * forward_leg - c.rate * strike_leg)
    # Black-76 rho holds the forward fixed: only the discount factor moves.
    rho = -c.t * option_price if black76 else c.sign * c.t * strike_leg
    # d(d1)/dT = b / (sigma sqrt T) - d2 / (2 T); charm = -d(delta)/dT.
    d1_dt = c.carry * c.inv_total_vol - 0.5 * c.d2 / c.t
    charm = c.sign * div * c.carry_discount * c.cdf_signed_d1 - np.where(
        has_density, discounted_pdf * d1_dt, 0.0
    )
    return (option_price, delta, gamma, vega, theta, rho, vanna, volga, charm)


# ------------------------------------------------------------- implied volatility
#
# Notation of Jäckel's paper: x = ln(F/K) <= 0 after the reduction to an
# out-of-the-money call, s = sigma sqrt(T) the total volatility, h = x / s,
# t = s / 2, normalized price b(x, s) = price / sqrt(F K), b_max = exp(x / 2).

#: A row has converged when the last Householder correction was below this
#: fraction of s: the method converges cubically, so the error left is ~1e-27 s.
_TOLERANCE = 1e-9
_MAX_ITERATIONS = 100
_R_MIN = -(1.0 - 0.000_000_014_901_161_193_847_656)  # rational_cubic.rs
_R_MAX = 2.0 / (_DBL_EPSILON * _DBL_EPSILON)


def _negative_abs_log_moneyness(forward: FloatArray, strike: FloatArray) -> FloatArray:
    """-|ln(F/K)|, subtracting before the log when F and K are close (bs_option_price.rs)."""
    smaller = np.minimum(forward, strike)
    larger = np.maximum(forward, strike)
    ratio = smaller / larger
    return np.where(
        smaller >= 0.5 * larger,
        -np.log1p((larger - smaller) / smaller),
        np.where(ratio >= _DBL_MIN, np.log(ratio), np.log(smaller) - np.log(larger)),
    )


def _libm_negative_abs_log_moneyness(forward: float, strike: float) -> float:
    """`_negative_abs_log_moneyness` of one row, with libm's log and log1p."""
    smaller, larger = min(forward, strike), max(forward, strike)
    if smaller >= 0.5 * larger:
        return -math.log1p((larger - smaller) / smaller)
    ratio = smaller / larger
    return math.log(ratio) if ratio >= _DBL_MIN else math.log(smaller) - math.log(larger)


def _piecewise(x: FloatArray, pieces: Sequence[tuple[Any, Any]]) -> FloatArray:
    """``function(x)`` on the rows where ``condition`` holds, for each (condition,
    function) in order (the first that holds wins; the last condition may be True).
    Each function only sees its own rows."""
    result = np.empty_like(x)
    remaining = np.ones(x.shape, dtype=bool)
    for condition, function in pieces:
        rows = np.flatnonzero(remaining & condition)
        if len(rows):
            result[rows] = function(x[rows])
        remaining &= ~np.asarray(condition, dtype=bool)
    return result


def _horner(x: FloatArray, coefficients: Sequence[float]) -> FloatArray:
    """The polynomial with ``coefficients`` (highest degree first) at ``x``."""
    value = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        value = value * x + c
    return value


def _rational(x: FloatArray, numerator: Sequence[float], denominator: Sequence[float]) -> FloatArray:
    return _horner(x, numerator) / _horner(x, denominator)


def _one_minus_erfcx(x: FloatArray) -> FloatArray:
    """1 - erfcx(x) without cancellation near 0 (error_function.rs)."""

    def series(x: FloatArray) -> FloatArray:
        ratio = _rational(
            x,
            (
                1.406_928_571_363_456_5e-2,
                1.406_918_874_460_965e-1,
                5.768_900_120_887_374e-1,
                1.151_496_718_178_475_6,
                1.000_000_000_000_000_2,
            ),
            (
                1.246_332_072_834_634_7e-2,
                1.358_008_134_514_386e-1,
                6.248_608_165_864_026e-1,
                1.508_990_859_374_272_3,
                1.903_749_496_242_156_3,
                1.0,
            ),
        )
        return x * (ratio * -x + _FRAC_2_SQRT_PI)

    return _piecewise(x, [((x >= -0.2) & (x <= 1.0 / 3.0), series), (True, lambda x: 1.0 - special.erfcx(x))])


# b(x, s_u) / b_max and b(x, s_l) / b_max as functions of s_c = sqrt(2|x|): the
# rational approximations of the 2024 revision of Let's Be Rational (lets_be_rational.rs).


def _b_u_over_b_max_large(s_c: FloatArray) -> FloatArray:
    y = 1.0 / s_c
    g = _rational(
        y,
        (
            -1.229_189_712_271_654_4,
            6.589_280_957_677_407e2,
            6.169_692_835_129_17e2,
            2.983_680_162_805_663e2,
            8.488_089_220_080_239e1,
            1.455_319_886_249_397_7e1,
            1.375_163_082_077_259_1,
            -4.605_394_817_212_609e-2,
        ),
        (
            5.206_084_752_279_256e2,
            8.881_238_333_960_678e2,
            8.698_830_313_690_185e2,
            5.079_647_179_123_228e2,
            2.030_420_459_952_177_3e2,
            5.436_378_146_588_073e1,
            9.327_034_903_790_405,
            1.0,
        ),
    )
    return (y * g - 1.253_314_137_315_500_3) * (0.113_984_531_941_499_06 * y) + 0.894_954_297_278_031_3


def _b_u_over_b_max_small(s_c: FloatArray) -> FloatArray:
    g = _rational(
        s_c,
        (
            -3.386_756_817_001_176_5e-9,
            -8.733_991_026_156_887e-4,
            -8.143_812_878_548_491e-3,
            -3.512_133_741_041_69e-2,
            -8.976_383_086_137_545e-2,
            -1.416_368_116_424_721e-1,
            -1.344_864_378_589_371e-1,
            -6.063_099_880_334_851e-2,
        ),
        (
            1.421_206_743_529_177_8e-2,
            1.324_801_623_892_073e-1,
            5.959_161_649_351_221e-1,
            1.652_734_794_196_848_7,
            3.018_638_953_766_389_6,
            3.650_335_036_015_884_6,
            2.722_003_340_655_505_5,
            1.0,
        ),
    )
    return (s_c * g + 0.061_461_680_580_514_74) * (s_c * s_c) + 0.789_908_594_556_062_8


def _b_u_over_b_max(s_c: FloatArray) -> FloatArray:
    return _piecewise(
        s_c, [(s_c >= 2.449_489_742_783_178, _b_u_over_b_max_large), (True, _b_u_over_b_max_small)]
    )


def _b_l_over_b_max_small(s_c: FloatArray) -> FloatArray:
    g = _rational(
        s_c,
        (
            4.542_510_209_361_606_4e-7,
            -6.403_639_934_147_98e-6,
            5.971_692_845_958_919e-3,
            3.976_063_144_567_705_5e-2,
            9.807_891_178_635_89e-2,
            8.074_107_237_288_286e-2,
        ),
        (
            6.125_459_704_983_172e-2,
            4.613_270_710_865_565e-1,
            1.365_880_147_571_179,
            1.859_497_767_228_766_5,
            1.0,
        ),
    )
    return (s_c * s_c) * (s_c * (s_c * g - 0.096_727_192_813_394_37) + 0.075_609_966_402_963_62)


def _b_l_over_b_max(s_c: FloatArray) -> FloatArray:
    def piece2(s_c: FloatArray) -> FloatArray:
        return _rational(
            s_c,
            (
                6.971_140_063_983_471e-4,
                6.584_925_270_230_231e-3,
                2.953_705_895_096_301_8e-2,
                6.917_130_174_466_835e-2,
                7.561_014_227_254_904e-2,
                -2.708_128_856_468_558_7e-8,
                1.979_573_792_759_858e-9,
            ),
            (
                6.636_197_582_786_12e-3,
                7.171_486_244_882_935e-2,
                3.783_162_225_306_046e-1,
                1.157_148_318_717_978_3,
                2.129_710_354_999_518,
                2.194_144_852_558_658,
                1.0,
            ),
        )

    def piece3(s_c: FloatArray) -> FloatArray:
        return _rational(
            s_c,
            (
                1.701_257_940_724_605_5e-3,
                1.002_291_337_825_409e-2,
                3.922_517_740_768_760_6e-2,
                7.403_965_818_682_282e-2,
                7.411_485_544_834_501e-2,
                5.311_803_397_279_465e-4,
                -9.332_511_535_483_788e-5,
            ),
            (
                1.619_540_589_593_093_7e-2,
                1.174_400_591_971_610_1e-1,
                5.323_125_844_350_184e-1,
                1.391_232_364_627_114,
                2.344_181_670_708_740_4,
                2.221_723_813_222_813_4,
                1.0,
            ),
        )

    def piece4(s_c: FloatArray) -> FloatArray:
        return _rational(
            s_c,
            (
                1.693_020_807_842_147_5e-3,
                5.183_252_617_163_152e-3,
                2.934_240_565_862_844_5e-2,
                3.921_610_857_820_463_6e-2,
                7.168_217_831_093_633e-2,
                -1.511_669_248_501_119_6e-3,
                1.450_007_229_724_060_4e-3,
            ),
            (
                1.611_699_254_678_867_7e-2,
                7.126_137_099_644_303e-2,
                3.754_374_213_737_579e-1,
                8.487_830_756_737_222e-1,
                1.682_315_917_528_153_2,
                1.617_631_350_230_541_5,
                1.0,
            ),
        )

    return _piecewise(
        s_c,
        [
            (s_c < 0.709_929_573_971_953_9, _b_l_over_b_max_small),
            (s_c < 2.626_785_107_312_739_5, piece2),
            (s_c < 7.348_469_228_349_534, piece3),
            (True, piece4),
        ],
    )


def _rational_cubic(x_minus_x_l: Num, h: Num, y_l: Num, y_r: Num, d_l: Num, d_r: Num, r: Num) -> FloatArray:
    """Delbourgo–Gregory rational cubic interpolation (rational_cubic.rs)."""
    t = x_minus_x_l / h
    omt = 1.0 - t
    t2 = t * t
    omt2 = omt * omt
    cubic = (
        y_r * t2 * t + (r * y_r - h * d_r) * t2 * omt + (r * y_l + h * d_l) * t * omt2 + y_l * omt2 * omt
    ) / (1.0 + (r - 3.0) * t * omt)
    linear = (1.0 - t) * y_l + y_r * t
    return np.where(h == 0.0, 0.5 * (y_l + y_r), np.where(r < _R_MAX, cubic, linear))


def _is_zero(x: Num) -> Any:
    return np.abs(x) < _DBL_MIN


def _minimum_control_parameter(d_l: Num, d_r: Num, slope: Num, prefer_shape: bool) -> FloatArray:
    monotonic = (d_l * slope >= 0.0) & (d_r * slope >= 0.0)
    convex = (d_l <= slope) & (slope <= d_r)
    concave = (d_l >= slope) & (slope >= d_r)
    curved = convex | concave
    d_r_m_d_l = d_r - d_l
    d_r_m_s = d_r - slope
    s_m_d_l = slope - d_l
    r1 = np.where(monotonic & ~_is_zero(slope), (d_r + d_l) / slope, -_DBL_MAX)
    resolvable = ~(_is_zero(s_m_d_l) | _is_zero(d_r_m_s))
    r2 = np.where(
        curved & resolvable, np.fmax(np.abs(d_r_m_d_l / d_r_m_s), np.abs(d_r_m_d_l / s_m_d_l)), -_DBL_MAX
    )
    if prefer_shape:
        r1 = np.where(monotonic & _is_zero(slope), _R_MAX, r1)
        r2 = np.where((curved & ~resolvable) | (~curved & monotonic), _R_MAX, r2)
    r = np.fmax(_R_MIN, np.fmax(r1, r2))
    return np.where(~monotonic & ~curved, _R_MIN, r)


def _control_parameter(numerator: Num, denominator: Num) -> FloatArray:
    return np.where(
        numerator == 0.0,
        0.0,
        np.where(denominator == 0.0, np.where(numerator > 0.0, _R_MAX, _R_MIN), numerator / denominator),
    )


def _convex_control_parameter_left(
    h: Num, y_diff: Num, d_l: Num, d_r: Num, second_derivative_l: Num, prefer_shape: bool
) -> FloatArray:
    r = _control_parameter(second_derivative_l * (0.5 * h) + (d_r - d_l), y_diff / h - d_l)
    return np.fmax(r, _minimum_control_parameter(d_l, d_r, y_diff / h, prefer_shape))


def _convex_control_parameter_right(
    h: Num, y_diff: Num, d_l: Num, d_r: Num, second_derivative_r: Num, prefer_shape: bool
) -> FloatArray:
    r = _control_parameter(second_derivative_r * (0.5 * h) + (d_r - d_l), d_r - y_diff / h)
    return np.fmax(r, _minimum_control_parameter(d_l, d_r, y_diff / h, prefer_shape))


def _householder_factor(nu: FloatArray, h2: FloatArray, h3: FloatArray) -> FloatArray:
    return (nu * (0.5 * h2) + 1.0) / ((nu * (h3 / 6.0) + h2) * nu + 1.0)


def _inv_normalised_vega(x: FloatArray, s: FloatArray) -> FloatArray:
    h = x / s
    t = 0.5 * s
    return _SQRT_2_PI * np.exp(0.5 * (t * t + h * h))


# --- b(x, s) / b'(x, s) where the two Black terms nearly cancel (bs_option_price.rs):
# region 1 (h < -13, deep out of the money, small s) by an asymptotic expansion,
# region 2 (small t) by a Taylor expansion in t; elsewhere with erfcx.

_ETA = -13.0
_TAU = 2.0 * _from_bits(0x3FBA_E89F_995A_D3AE)  # 2 * DBL_EPSILON^(1/16)

_ASYMPTOTIC_COEFFICIENTS = (
    (2.0,),  # a0
    (-2.0, -6.0),  # a1
    (6.0, 60.0, 30.0),  # a2
    (-30.0, -6.3e2, -1.05e3, -2.1e2),  # a3
    (2.1e2, 7.56e3, 2.646e4, 1.764e4, 1.89e3),  # a4
    (-1.89e3, -1.0395e5, -6.237e5, -8.7318e5, -3.1185e5, -2.079e4),  # a5
    (2.079e4, 1.62162e6, 1.486_485e7, 3.567_564e7, 2.675_673e7, 5.94594e6, 2.7027e5),  # a6
    (  # a7
        -2.7027e5,
        -2.837_835e7,
        -3.689_185_5e8,
        -1.352_701_35e9,
        -1.739_187_45e9,
        -8.116_208_1e8,
        -1.229_728_5e8,
        -4.05405e6,
    ),
    (  # a8
        4.05405e6,
        5.513_508e8,
        9.648_639e9,
        5.017_292_28e10,
        9.855_395_55e10,
        7.884_316_44e10,
        2.508_646_14e10,
        2.756_754e9,
        6.891_885e7,
    ),
    (  # a9
        -6.891_885e7,
        -1.178_512_335e10,
        -2.671_294_626e11,
        -1.869_906_238_2e12,
        -5.209_024_520_7e12,
        -6.366_585_525_3e12,
        -3.472_683_013_8e12,
        -8.013_883_878e11,
        -6.678_236_565e10,
        -1.309_458_15e9,
    ),
    (  # a10
        1.309_458_15e9,
        2.749_862_115e11,
        7.837_107_027_75e12,
        7.105_643_705_16e13,
        2.664_616_389_435e14,
        4.618_668_408_354e14,
        3.848_890_340_295e14,
        1.522_637_936_82e14,
        2.664_616_389_435e13,
        1.741_579_339_5e12,
        2.749_862_115e10,
    ),
    (  # a11
        -2.749_862_115e10,
        -6.957_151_150_95e12,
        -2.435_002_902_832_5e14,
        -2.775_903_309_229_05e15,
        -1.348_295_893_054_11e16,
        -3.146_023_750_459_59e16,
        -3.718_028_068_724_97e16,
        -2.247_159_821_756_85e16,
        -6.741_479_465_270_55e15,
        -9.253_011_030_763_5e14,
        -4.870_005_805_665e13,
        -6.324_682_864_5e11,
    ),
    (  # a12
        6.324_682_864_5e11,
        1.897_404_859_35e14,
        8.000_723_823_592_5e15,
        1.120_101_335_302_95e17,
        6.840_618_869_171_588e17,
        2.067_387_036_016_302e18,
        3.289_024_830_025_935e18,
        2.819_164_140_022_23e18,
        1.292_116_897_510_188_8e18,
        3.040_275_052_965_15e17,
        3.360_304_005_908_85e16,
        1.454_677_058_835e15,
        1.581_170_716_125e13,
    ),
    (  # a13
        -1.581_170_716_125e13,
        -5.549_909_213_598_75e15,
        -2.774_954_606_799_375e17,
        -4.680_423_436_801_613e18,
        -3.510_317_577_601_209_5e19,
        -1.333_920_679_488_459_6e20,
        -2.748_685_036_521_674_2e20,
        -3.171_559_657_525_009e20,
        -2.061_513_777_391_255_6e20,
        -7.410_670_441_602_553e19,
        -1.404_127_031_040_483_7e19,
        -1.276_479_119_127_712_5e18,
        -4.624_924_344_665_625e16,
        -4.269_160_933_537_5e14,
    ),
    (  # a14
        4.269_160_933_537_5e14,
        1.733_279_339_016_225e17,
        1.013_968_413_324_491_6e19,
        2.027_936_826_648_983_3e20,
        1.832_385_775_507_831_3e21,
        8.551_133_619_036_546e21,
        2.215_520_983_114_014e22,
        3.311_108_282_456_109e22,
        2.897_219_747_149_095_4e22,
        1.477_013_988_742_676e22,
        4.275_566_809_518_273e21,
        6.663_221_001_846_66e20,
        5.069_842_066_622_458e19,
        1.559_951_405_114_602_5e18,
        1.238_056_670_725_875e16,
    ),
    (  # a15
        -1.238_056_670_725_875e16,
        -5.756_963_518_875_318e18,
        -3.895_545_314_438_965_5e20,
        -9.115_576_035_787_18e21,
        -9.766_688_609_771_979e22,
        -5.491_049_373_938_467_5e23,
        -1.747_152_073_525_876e24,
        -3.283_109_940_361_811e24,
        -3.720_857_932_410_053e24,
        -2.553_529_953_614_742e24,
        -1.048_291_244_115_525_7e24,
        -2.495_931_533_608_394_5e23,
        -3.255_562_869_923_992_8e22,
        -2.103_594_469_797_041_5e21,
        -5.565_064_734_912_808e19,
        -3.837_975_679_250_212_5e17,
    ),
    (  # a16
        3.837_975_679_250_212_5e17,
        2.026_451_158_644_112e20,
        1.570_499_647_949_187e22,
        4.250_819_047_115_799e23,
        5.328_705_305_491_592e24,
        3.552_470_203_661_060_7e25,
        1.361_780_244_736_74e26,
        3.142_569_795_546_323e26,
        4.478_161_958_653_511e26,
        3.980_588_407_692_009_4e26,
        2.199_798_856_882_426e26,
        7.427_892_244_018_582e25,
        1.480_195_918_192_108_6e25,
        1.639_601_632_458_951_2e24,
        9.108_897_958_105_285e22,
        2.093_999_530_598_916e21,
        1.266_531_974_152_57e19,
    ),
)


def _asymptotic_scaled_black(h: FloatArray, t: FloatArray) -> FloatArray:
    """Region 1: Jäckel's asymptotic expansion of b / b' for h -> -inf, to 17 terms
    (the terms only shrink in this region, so none is cut off)."""
    e = (t / h) ** 2
    r = t * -t + h * h
    q = (h / r) ** 2
    omega = np.zeros_like(h)
    for coefficients in reversed(_ASYMPTOTIC_COEFFICIENTS):
        omega = omega * q + _horner(e, coefficients)
    return (t / r) * omega


def _y_prime_tail(h: FloatArray) -> FloatArray:
    w = 1.0 / (h * h)
    ratio = _rational(
        w,
        (
            -6.681_824_903_261_685e4,
            -8.383_602_146_074_198e4,
            -2.780_574_569_386_430_8e4,
            -3.473_503_544_549_563_2e3,
            -1.755_626_332_354_220_6e2,
            -2.999_999_999_999_466,
        ),
        (
            6.928_651_867_980_375e4,
            1.256_997_038_092_390_9e5,
            6.688_679_416_565_168e4,
            1.456_254_563_850_703_4e4,
            1.440_438_903_760_433_7e3,
            6.352_087_774_483_173_6e1,
            1.0,
        ),
    )
    return w * (ratio * w + 1.0)


def _y_prime_middle(h: FloatArray) -> FloatArray:
    return _rational(
        -h,
        (
            -8.459_243_640_658_06e-10,
            4.276_659_783_590_871_4e-8,
            3.071_739_227_491_390_3e-4,
            5.545_521_007_735_379_5e-3,
            4.565_090_035_135_299e-2,
            2.218_084_473_657_601_4e-1,
            6.191_144_987_969_411e-1,
            1.000_000_000_059_431_8,
        ),
        (
            3.082_202_041_792_714_7e-4,
            5.529_045_357_693_659e-3,
            4.676_254_890_319_496e-2,
            2.367_770_140_309_464e-1,
            7.657_648_983_658_903e-1,
            1.568_549_723_607_765_2,
            1.872_428_636_958_916_3,
            1.0,
        ),
    )


def _y_prime(h: FloatArray) -> FloatArray:
    """Y'(h) = 1 + h sqrt(pi/2) erfcx(-h/sqrt 2) without cancellation (minimax rationals
    for h <= -0.46875, as in bs_option_price.rs)."""
    return _piecewise(
        h,
        [
            (h < -4.0, _y_prime_tail),
            (h <= -0.46875, _y_prime_middle),
            (True, lambda h: special.erfcx(-_FRAC_1_SQRT_2 * h) * (h * _SQRT_PI_OVER_2) + 1.0),
        ],
    )


def _small_t_scaled_black(h: FloatArray, t: FloatArray) -> FloatArray:
    """Region 2: b / b' as a series in t^2 (to t^13)."""
    a = _y_prime(h)
    h2 = h * h
    t2 = t * t
    b0 = 2.0 * a
    b1 = (a * (3.0 + h2) - 1.0) / 3.0
    b2 = ((h2 * (10.0 + h2) + 15.0) * a + (-7.0 - h2)) / 60.0
    b3 = (((h2 * (21.0 + h2) + 105.0) * h2 + 105.0) * a + (h2 * (-18.0 - h2) - 57.0)) / 2520.0
    b4 = (
        (((h2 * (36.0 + h2) + 378.0) * h2 + 1260.0) * h2 + 945.0) * a
        + ((h2 * (-33.0 - h2) - 285.0) * h2 - 561.0)
    ) / 181_440.0
    b5 = (
        ((((h2 * (55.0 + h2) + 990.0) * h2 + 6930.0) * h2 + 17325.0) * h2 + 10395.0) * a
        + (((h2 * (-52.0 - h2) - 840.0) * h2 - 4680.0) * h2 - 6555.0)
    ) / 19_958_400.0
    b6 = (
        (((((h2 * (78.0 + h2) + 2145.0) * h2 + 25740.0) * h2 + 135_135.0) * h2 + 270_270.0) * h2 + 135_135.0)
        * a
        + ((((h2 * (-75.0 - h2) - 1926.0) * h2 - 20370.0) * h2 - 82845.0) * h2 - 89055.0)
    ) / 3_113_510_400.0
    return ((((((t2 * b6 + b5) * t2 + b4) * t2 + b3) * t2 + b2) * t2 + b1) * t2 + b0) * t


def _expansion_regions(h: FloatArray, t: FloatArray) -> tuple[Any, Any]:
    region1 = (h < _ETA) & (t + h < _TAU + 0.5 + _ETA)
    region2 = ~region1 & (h * (-0.5 / _ETA) + (t - _TAU) < 0.0)
    return region1, region2


def _scaled_normalised_black(h: FloatArray, t: FloatArray) -> FloatArray:
    """b(x, s) / b'(x, s) for x <= 0, to full relative precision."""
    bx = np.empty_like(h)
    region1, region2 = _expansion_regions(h, t)
    for rows, formula in (
        (np.flatnonzero(region1), _asymptotic_scaled_black),
        (np.flatnonzero(region2), _small_t_scaled_black),
        (np.flatnonzero(~(region1 | region2)), _erfcx_scaled_black),
    ):
        if len(rows):
            bx[rows] = formula(h[rows], t[rows])
    return bx


def _erfcx_scaled_black(h: FloatArray, t: FloatArray) -> FloatArray:
    return _SQRT_PI_OVER_2 * (
        special.erfcx(-_FRAC_1_SQRT_2 * (h + t)) - special.erfcx(-_FRAC_1_SQRT_2 * (h - t))
    )


def _lowest_branch_guess(beta: FloatArray, x: FloatArray, s_l: FloatArray, b_l: FloatArray) -> FloatArray:
    """The rational guess in the lower map f(s) = 2π/√27 |x| Φ(-|x|/(√3 s))³."""
    z = -_FRAC_1_SQRT_3 * x / s_l
    y = z * z
    s2 = s_l * s_l
    phi_m = 0.5 * special.erfc(_FRAC_1_SQRT_2 * z)
    phi2 = phi_m * phi_m
    f_l = -_FRAC_2_PI_SQRT_27 * x * (phi2 * phi_m)
    fp_l = 2.0 * math.pi * y * phi2 * np.exp(s2 * 0.125 + y)
    inv_norm_pdf_z = _SQRT_2_PI * np.exp(0.5 * y)
    fpp_l = (
        (math.pi / 6.0)
        * y
        / (s2 * s_l)
        * phi_m
        * ((-8.0 * _SQRT_3 * s_l) * x + ((3.0 * s2) * (s2 - 8.0) - 8.0 * x * x) * phi_m * inv_norm_pdf_z)
        * np.exp(2.0 * y + 0.25 * s2)
    )
    r2 = _convex_control_parameter_right(b_l, f_l, 1.0, fp_l, fpp_l, True)
    f = _rational_cubic(beta, b_l, 0.0, f_l, 1.0, fp_l, r2)
    t = beta / b_l
    f = np.where(f > 0.0, f, (f_l * t + (b_l * -t + b_l)) * t)
    # Inverse of the lower map.
    quantile = special.ndtri(_FRAC_SQRT_3_CUBIC_ROOT_2_PI * np.cbrt(f) / np.cbrt(np.abs(x)))
    return np.abs(x * _FRAC_1_SQRT_3 / quantile)


def _highest_branch_guess(
    beta: FloatArray, x: FloatArray, s_u: FloatArray, b_u: FloatArray, b_max: FloatArray
) -> FloatArray:
    """The rational guess in the upper map f(s) = Φ(-s/2)."""
    w = (x / s_u) ** 2
    f_u = 0.5 * special.erfc((0.5 * _FRAC_1_SQRT_2) * s_u)
    fp_u = -0.5 * np.exp(0.5 * w)
    fpp_u = _SQRT_PI_OVER_2 * np.exp((0.125 * s_u) * s_u + w) * w / s_u
    h = b_max - b_u
    r_uu = _convex_control_parameter_left(h, -f_u, fp_u, -0.5, fpp_u, True)
    f = np.where(
        (fpp_u >= -_SQRT_DBL_MAX) & (fpp_u < _SQRT_DBL_MAX),
        _rational_cubic(beta - b_u, h, f_u, 0.0, fp_u, -0.5, r_uu),
        -_DBL_MAX,
    )
    t = (beta - b_u) / h
    f = np.where(f > 0.0, f, (f_u * (1.0 - t) + 0.5 * h * t) * (1.0 - t))
    return -2.0 * special.ndtri(f)


# Objectives, each returning (Householder correction, model above target, model below target).


def _step_lowest(s: FloatArray, x: FloatArray, ln_beta: FloatArray) -> tuple[FloatArray, Any, Any]:
    """g(s) = 1/ln b(s) - 1/ln beta, with b/b' from erfcx so that nothing underflows."""
    h = x / s
    t = 0.5 * s
    bx = _scaled_normalised_black(h, t)
    ln_b = np.log(bx) - 0.5 * (t * t + h * h) - _HALF_OF_LN_2_PI
    bpob = 1.0 / bx
    x2_over_s3 = h * h / s
    b_h2 = x2_over_s3 - 0.25 * s
    nu = (ln_beta - ln_b) * ln_b / ln_beta / bpob
    lam = 1.0 / ln_b
    ot_lambda = 2.0 * lam + 1.0
    h2 = b_h2 - bpob * ot_lambda
    b_h3 = b_h2 * b_h2 - 3.0 * (x2_over_s3 / s) - 0.25
    mu = 6.0 * lam * (lam + 1.0)
    h3 = (bpob * bpob) * (2.0 + mu) + b_h3 - (3.0 * b_h2 * bpob) * ot_lambda
    return nu * _householder_factor(nu, h2, h3), ln_b > ln_beta, ln_b < ln_beta


def _normalised_black(x: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """b(x, s) for x <= 0 (the expansions where the two Black terms nearly cancel, else
    Cody's split between erfc and erfcx), and 1/b'(x, s)."""
    h = x / s
    t = 0.5 * s
    q = 0.5 * (t * t + h * h)
    exp_neg_q = np.exp(-q)
    inv_vega = np.where(exp_neg_q >= _DBL_MIN, _SQRT_2_PI / exp_neg_q, _SQRT_2_PI * np.exp(q))
    b = np.empty_like(s)
    region1, region2 = _expansion_regions(h, t)
    expanded = region1 | region2
    rows = np.flatnonzero(expanded)
    if len(rows):
        b[rows] = _scaled_normalised_black(h[rows], t[rows]) * (_INV_SQRT_2PI * exp_neg_q[rows])
    rows = np.flatnonzero(~expanded)
    if len(rows):
        b[rows] = _codys_normalised_black(x[rows], h[rows], t[rows], exp_neg_q[rows])
    return b, inv_vega


def _codys_normalised_black(x: FloatArray, h: FloatArray, t: FloatArray, exp_neg_q: FloatArray) -> FloatArray:
    threshold = 0.46875
    q1 = -_FRAC_1_SQRT_2 * (h + t)
    q2 = -_FRAC_1_SQRT_2 * (h - t)
    half_x = 0.5 * x
    first = _piecewise(q1, [(q1 < threshold, special.erfc), (True, special.erfcx)])
    first *= np.where(q1 < threshold, np.exp(half_x), exp_neg_q)
    second = _piecewise(q2, [(q2 < threshold, special.erfc), (True, special.erfcx)])
    second *= np.where(q2 < threshold, np.exp(-half_x), exp_neg_q)
    return np.fmax(0.5 * (first - second), 0.0)


def _step_middle(s: FloatArray, x: FloatArray, beta: FloatArray) -> tuple[FloatArray, Any, Any]:
    """g(s) = b(s) - beta."""
    b, inv_vega = _normalised_black(x, s)
    nu = (beta - b) * inv_vega
    h = x / s
    x2_over_s3 = h * h / s
    h2 = x2_over_s3 - 0.25 * s
    h3 = h2 * h2 - 3.0 * (x2_over_s3 / s) - 0.25
    return nu * _householder_factor(nu, h2, h3), b > beta, b < beta


def _step_highest(s: FloatArray, x: FloatArray, ln_beta_bar: FloatArray) -> tuple[FloatArray, Any, Any]:
    """g(s) = ln(b_max - beta) - ln(b_max - b(s)); b_max - b is a sum of two positive
    terms, so it keeps full precision where b is within rounding of b_max."""
    h = x / s
    t = 0.5 * s
    gp = _SQRT_2_OVER_PI / (special.erfcx(_FRAC_1_SQRT_2 * (t + h)) + special.erfcx(_FRAC_1_SQRT_2 * (t - h)))
    g = ln_beta_bar + np.log(gp) + (0.5 * (t * t + h * h) + _HALF_OF_LN_2_PI)
    x2_over_s3 = h * h / s
    b_h2 = x2_over_s3 - 0.5 * t
    b_h3 = b_h2 * b_h2 - 3.0 * x2_over_s3 / s - 0.25
    nu = -g / gp
    h2 = b_h2 + gp
    h3 = gp * (2.0 * gp + 3.0 * b_h2) + b_h3
    return nu * _householder_factor(nu, h2, h3), g > 0.0, g < 0.0


def _bisect(low: FloatArray, high: FloatArray) -> FloatArray:
    """A point inside (low, high), for a row whose Householder step left its bracket."""
    middle = np.where(high > 2.0 * low, np.sqrt(low * high), 0.5 * (low + high))
    middle = np.where(low > 0.0, middle, 0.5 * high)
    return np.where(high < _INF, middle, 2.0 * low)


def _solve(step: Any, s: FloatArray, x: FloatArray, target: FloatArray) -> FloatArray:
    """Householder iterations of ``step`` on every row until each converges.

    Each row keeps the bracket (low, high) its own evaluations prove; a step that
    leaves it (or is not finite) is replaced by a bisection of the bracket. Only the
    rows not yet converged are carried into the next iteration.
    """
    result = np.full(len(s), _NAN)
    position = np.arange(len(s))
    low = np.zeros(len(s))
    high = np.full(len(s), _INF)
    for _ in range(_MAX_ITERATIONS):
        if not len(position):
            break
        ds, above, below = step(s, x, target)
        high = np.where(above, np.minimum(high, s), high)
        low = np.where(below, np.maximum(low, s), low)
        exact = ~(above | below) & np.isfinite(ds)
        small = np.abs(ds) <= _TOLERANCE * s
        proposal = s + ds
        outside = ~((proposal > low) & (proposal < high))
        # A last correction below the resolution of s can land on the bracket's edge
        # (s itself): keep s then, rather than bisecting away from the root.
        new_s = np.where(exact | (small & outside), s, proposal)
        rebracket = np.flatnonzero(outside & ~small & ~exact)
        if len(rebracket):
            new_s[rebracket] = _bisect(low[rebracket], high[rebracket])
        collapsed = (high - low) <= 4.0 * _DBL_EPSILON * new_s
        done = exact | small | collapsed
        result[position[done]] = new_s[done]
        keep = ~done
        position, s, x, target = position[keep], new_s[keep], x[keep], target[keep]
        low, high = low[keep], high[keep]
    return result


def _guess_fallback(s: FloatArray, low: Num, high: Num) -> FloatArray:
    """The guess, or a point of its branch's interval where the guess is not usable."""
    fallback = np.where(np.isfinite(high), 0.5 * (low + high), 2.0 * low)
    return np.where(np.isfinite(s) & (s > 0.0), s, fallback)


def _normalised_implied_vol(beta: FloatArray, beta_bar: FloatArray, x: FloatArray) -> FloatArray:
    """Total volatility s for out-of-the-money calls: x < 0, 0 < beta < b_max = e^{x/2};
    ``beta_bar`` is b_max - beta computed without cancellation."""
    n = len(beta)
    s = np.full(n, _NAN)
    b_max = np.exp(0.5 * x)
    sqrt_ax = np.sqrt(-x)
    s_c = _SQRT_2 * sqrt_ax
    ome = _one_minus_erfcx(sqrt_ax)
    b_c = 0.5 * b_max * ome
    lower = beta < b_c
    s_l = s_c - _SQRT_PI_OVER_2 * ome
    b_l = _b_l_over_b_max(s_c) * b_max
    s_u = s_c + _SQRT_PI_OVER_2 * (2.0 - ome)
    b_u = _b_u_over_b_max(s_c) * b_max
    lowest = lower & (beta < b_l)
    lower_middle = lower & ~lowest
    upper_middle = ~lower & (beta <= b_u)
    highest = ~lower & ~upper_middle
    # Middle objective: both middle branches, and the highest one up to b_max / 2.
    middle_rows = []
    i = np.flatnonzero(lowest)
    if len(i):
        guess = _guess_fallback(_lowest_branch_guess(beta[i], x[i], s_l[i], b_l[i]), 0.0, s_l[i])
        s[i] = _solve(_step_lowest, guess, x[i], np.log(beta[i]))
    i = np.flatnonzero(lower_middle)
    if len(i):
        inv_v_l = _inv_normalised_vega(x[i], s_l[i])
        inv_v_c = _SQRT_2_PI / b_max[i]
        h = b_c[i] - b_l[i]
        r = _convex_control_parameter_right(h, s_c[i] - s_l[i], inv_v_l, inv_v_c, 0.0, False)
        guess = _rational_cubic(beta[i] - b_l[i], h, s_l[i], s_c[i], inv_v_l, inv_v_c, r)
        middle_rows.append((i, _guess_fallback(guess, s_l[i], s_c[i])))
    i = np.flatnonzero(upper_middle)
    if len(i):
        inv_v_c = _SQRT_2_PI / b_max[i]
        inv_v_u = _inv_normalised_vega(x[i], s_u[i])
        h = b_u[i] - b_c[i]
        r = _convex_control_parameter_left(h, s_u[i] - s_c[i], inv_v_c, inv_v_u, 0.0, False)
        guess = _rational_cubic(beta[i] - b_c[i], h, s_c[i], s_u[i], inv_v_c, inv_v_u, r)
        middle_rows.append((i, _guess_fallback(guess, s_c[i], s_u[i])))
    i = np.flatnonzero(highest)
    if len(i):
        guess = _guess_fallback(_highest_branch_guess(beta[i], x[i], s_u[i], b_u[i], b_max[i]), s_u[i], _INF)
        top = beta[i] > 0.5 * b_max[i]
        j = i[top]
        if len(j):
            s[j] = _solve(_step_highest, guess[top], x[j], np.log(beta_bar[j]))
        middle_rows.append((i[~top], guess[~top]))
    if middle_rows:
        i = np.concatenate([rows for rows, _ in middle_rows])
        if len(i):
            guess = np.concatenate([g for _, g in middle_rows])
            s[i] = _solve(_step_middle, guess, x[i], beta[i])
    return s


def _libm_exp(y: float) -> float:
    try:
        return math.exp(y)
    except OverflowError:
        return _INF


def _price_bounds(calls: Any, forward_value: Num, strike_value: Num) -> tuple[Num, Num, Num]:
    """The parity term S e^{-qT} - K e^{-rT} (calls) or its negative (puts), and the
    open no-arbitrage interval (max(parity, 0), S e^{-qT} or K e^{-rT}) of the price."""
    parity = np.where(calls, forward_value - strike_value, strike_value - forward_value)
    return parity, np.fmax(parity, 0.0), np.where(calls, forward_value, strike_value)


def _implied_vol_block(
    black76: bool,
    option_price: Num,
    is_call: Any,
    spot: Num,
    strike: Num,
    t: Num,
    rate: Num,
    div: Num,
    n: int,
) -> FloatArray:
    """Implied volatilities of ``n`` rows; NaN wherever the core reports an error."""
    if black76:
        div = rate
    valid = (
        (option_price >= 0.0)
        & (option_price < _INF)
        & _positive(spot)
        & _positive(strike)
        & _positive(t)
        & _finite(rate)
        & _finite(div)
    )
    calls = np.broadcast_to(np.asarray(is_call, dtype=bool), (n,))
    forward_value, strike_value, _ = _parity_terms(spot, strike, t, rate, div)
    parity, lower, upper = _price_bounds(calls, forward_value, strike_value)
    rows = np.flatnonzero(valid & (option_price > lower) & (option_price < upper))
    vol = np.full(n, _NAN)
    if not len(rows):
        return vol
    full = (option_price, strike, t, forward_value, strike_value, parity)
    option_price, strike, t, forward_value, strike_value, parity = (
        np.broadcast_to(v, (n,))[rows] for v in full
    )
    calls = calls[rows]
    # As in the core (implied.rs `prepare_row`): solve for the out-of-the-money member of
    # the pair, whose price is the time value, recovered exactly from the parity terms;
    # then undiscount it. From there on as the implied-vol crate (solver.rs):
    # beta = (price - intrinsic) / sqrt(F K), x = -|ln(F/K)|.
    in_the_money = parity > 0.0
    otm_price = np.where(in_the_money, option_price - parity, option_price)
    discount = strike_value / strike
    undiscounted = otm_price / discount
    forward = forward_value / discount
    otm_calls = calls != in_the_money
    intrinsic = np.fmax(np.where(otm_calls, forward - strike, strike - forward), 0.0)
    cap = np.where(otm_calls, forward, strike)
    sqrt_fk = np.sqrt(forward) * np.sqrt(strike)
    beta = (undiscounted - intrinsic) / sqrt_fk
    # b_max - beta from the distance to the cap, without cancellation.
    beta_bar = (cap - undiscounted) / sqrt_fk
    x = _negative_abs_log_moneyness(forward, strike)
    b_max = np.exp(0.5 * x)
    # numpy's exp and log may differ from libm's in the last bit. Where beta is within
    # rounding of b_max, take x and b_max from libm as the crate does, so that both
    # backends agree on which rows have a solution.
    near_cap = np.flatnonzero(np.abs(beta - b_max) <= 8.0 * _DBL_EPSILON * b_max)
    for i in near_cap.tolist():
        x[i] = _libm_negative_abs_log_moneyness(float(forward[i]), float(strike[i]))
        b_max[i] = _libm_exp(0.5 * x[i])
    solvable = (undiscounted < cap) & (beta > _DBL_MIN) & (beta < b_max) & np.isfinite(x) & np.isfinite(beta)
    total_vol = np.full(len(rows), _NAN)
    at_the_money = solvable & (x == 0.0)
    # At the money b = erf(s / (2 sqrt 2)) inverts in closed form.
    total_vol[at_the_money] = 2.0 * _SQRT_2 * special.erfinv(beta[at_the_money])
    general = np.flatnonzero(solvable & (x < 0.0))
    if len(general):
        total_vol[general] = _normalised_implied_vol(beta[general], beta_bar[general], x[general])
    sigma = total_vol / np.sqrt(t)
    vol[rows] = np.where(np.isfinite(sigma) & (sigma > 0.0), sigma, _NAN)
    return vol


def _implied_row_error(black76: bool, index: int, columns: dict[str, Any]) -> Exception:
    """The error of row ``index`` (which has no solution), as implied.rs `prepare_row`
    and the solver report it."""
    value = float(_at(columns["price"], index))
    spot, strike = float(_at(columns["spot"], index)), float(_at(columns["strike"], index))
    t, rate = float(_at(columns["t"], index)), float(_at(columns["rate"], index))
    div = rate if black76 else float(_at(columns["div"], index))
    is_call = bool(_at(columns["is_call"], index))
    if not (value >= 0.0 and math.isfinite(value)):
        return _invalid_value("price", index, value, "non-negative and finite")
    checks = [
        ("forward" if black76 else "spot", spot, True, "positive and finite"),
        ("strike", strike, True, "positive and finite"),
        ("t", t, True, "positive and finite (years)"),
        ("rate", rate, False, "finite"),
        ("div", div, False, "finite"),
    ]
    for arg, x, must_be_positive, requirement in checks:
        if not (math.isfinite(x) and (not must_be_positive or x > 0.0)):
            return _invalid_value(arg, index, x, requirement)
    # The same numpy arithmetic as the vectorized pass, on this one row.
    with np.errstate(all="ignore"):
        forward_value, strike_value, _ = _parity_terms(*(np.array([v]) for v in (spot, strike, t, rate, div)))
        _, lower, upper = _price_bounds(np.array([is_call]), forward_value, strike_value)
    lower_bound, upper_bound = float(lower[0]), float(upper[0])
    if value > lower_bound and value < upper_bound:
        # Inside the bounds but too close to one for double precision to resolve.
        return _unresolvable(index, value, lower_bound, upper_bound)
    return _out_of_bounds(index, value, lower_bound, upper_bound)


def implied_vol(
    model: str,
    price: Any,
    is_call: Any,
    spot: Any,
    strike: Any,
    t: Any,
    rate: Any,
    div: Any,
    out: FloatArray,
    errors_nan: bool,
) -> None:
    """Implied volatilities into ``out`` (NaN where no volatility reproduces the price)."""
    black76 = _model_is_black76(model)
    option_price = _num_arg("price", price)
    columns = _extract(black76, is_call, spot, strike, t, rate, div, 1.0)
    _contiguous("price", option_price)
    columns["price"] = option_price
    out = _out_arg("out", out)
    n = len(out)
    order = ("price", "is_call", "spot", "strike", "t", "rate", "div")
    _check_lengths(n, [(name, columns[name]) for name in order])
    first_failed: int | None = None
    with np.errstate(all="ignore"):
        for start in range(0, n, BLOCK):
            rows = slice(start, min(start + BLOCK, n))
            block = out[rows]
            block[...] = _implied_vol_block(
                black76,
                _rows(option_price, rows),
                _rows(columns["is_call"], rows),
                _rows(columns["spot"], rows),
                _rows(columns["strike"], rows),
                _rows(columns["t"], rows),
                _rows(columns["rate"], rows),
                _rows(columns["div"], rows),
                len(block),
            )
            if first_failed is None:
                failed = np.flatnonzero(np.isnan(block))
                if len(failed):
                    first_failed = start + int(failed[0])
    if first_failed is not None and not errors_nan:
        raise _implied_row_error(black76, first_failed, columns)


def build_info() -> dict[str, object]:
    """How this backend runs: vectorized numpy on the calling thread."""
    return {
        "simd": "numpy",
        "threads": 1,
        "block": BLOCK,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
    }
