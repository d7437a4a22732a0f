//! Vectorized European option kernels: generalized Black–Scholes–Merton (spot,
//! rate, dividend yield) and Black-76 (futures price).
//!
//! Black-76 is BSM with the dividend yield set equal to the rate (zero cost of
//! carry), except for rho, which for Black-76 holds the forward fixed (rho = -T V).
//! So one kernel body serves both; a const generic picks the rho formula.
//!
//! Shape of the computation: the batch is cut into chunks for rayon, each chunk
//! into blocks of `BLOCK` options; scalar arguments are expanded into a stack
//! buffer once per chunk so that the inner loop reads only slices, has no branch
//! that depends on data, and auto-vectorizes. The inner loops are compiled three
//! times (AVX-512, AVX2+FMA, portable baseline; see `simd.rs`) and the best one the
//! CPU has is picked at run time. Invalid rows are found inside the same pass (a
//! branch-free validity mask); they become NaN, and in `ErrorMode::Raise` the first
//! one is reported (a cold path that runs only when something is wrong).
//!
//! Greeks are raw derivatives in the units of DESIGN.md: vega per 1.00 vol,
//! theta = dV/dt per year of calendar time, rho per 1.00 rate, charm per year.

use crate::error::{AlvhError, Result};
use crate::simd_math::{exp, ln, norm_cdf_pair, norm_pdf, MulAdd};
use rayon::prelude::*;

/// Options per inner block (the stack buffers are this long).
pub const BLOCK: usize = 256;
/// Options per rayon task.
const CHUNK: usize = 16 * BLOCK;
/// Below this many options everything runs on the calling thread.
pub const PARALLEL_THRESHOLD: usize = 4 * CHUNK;

/// A numeric argument: one value for the whole batch, or one value per option.
#[derive(Clone, Copy, Debug)]
pub enum Column<'a> {
    Scalar(f64),
    Values(&'a [f64]),
}

/// The call/put flag: one for the batch, or one per option.
#[derive(Clone, Copy, Debug)]
pub enum Flags<'a> {
    Scalar(bool),
    Values(&'a [bool]),
}

/// What to do with an invalid row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorMode {
    /// Return an error naming the first invalid row.
    Raise,
    /// Write NaN into every output of invalid rows and compute the rest.
    Nan,
}

/// The pricing model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// Generalized Black–Scholes–Merton on spot with continuous dividend yield.
    Bsm,
    /// Black-76 on a futures/forward price (the `spot` column holds the forward).
    Black76,
}

/// Inputs of a batch of European options. For `Model::Black76`, `spot` is the
/// forward price and `div` is ignored.
#[derive(Clone, Copy, Debug)]
pub struct OptionBatch<'a> {
    pub is_call: Flags<'a>,
    pub spot: Column<'a>,
    pub strike: Column<'a>,
    pub t: Column<'a>,
    pub rate: Column<'a>,
    pub div: Column<'a>,
    pub vol: Column<'a>,
}

/// Output buffers for all nine values, each as long as the batch.
pub struct GreeksOut<'a> {
    pub price: &'a mut [f64],
    pub delta: &'a mut [f64],
    pub gamma: &'a mut [f64],
    pub vega: &'a mut [f64],
    pub theta: &'a mut [f64],
    pub rho: &'a mut [f64],
    pub vanna: &'a mut [f64],
    pub volga: &'a mut [f64],
    pub charm: &'a mut [f64],
}

impl Column<'_> {
    /// The number of values, or None for a scalar (it broadcasts).
    pub(crate) fn len(&self) -> Option<usize> {
        match self {
            Column::Scalar(_) => None,
            Column::Values(v) => Some(v.len()),
        }
    }

    /// The values for rows `start..start + n`, from the slice or from `buffer`
    /// (filled with the scalar).
    #[inline]
    fn rows<'b>(&'b self, start: usize, n: usize, buffer: &'b [f64; BLOCK]) -> &'b [f64] {
        match self {
            Column::Scalar(_) => &buffer[..n],
            Column::Values(v) => &v[start..start + n],
        }
    }

    fn fill(&self, buffer: &mut [f64; BLOCK]) {
        if let Column::Scalar(x) = self {
            buffer.fill(*x);
        }
    }

    pub(crate) fn at(&self, i: usize) -> f64 {
        match self {
            Column::Scalar(x) => *x,
            Column::Values(v) => v[i],
        }
    }
}

impl Flags<'_> {
    /// The number of flags, or None for a scalar (it broadcasts).
    pub(crate) fn len(&self) -> Option<usize> {
        match self {
            Flags::Scalar(_) => None,
            Flags::Values(v) => Some(v.len()),
        }
    }

    /// +1 for calls, -1 for puts, for rows `start..start + n`.
    #[inline]
    fn signs(&self, start: usize, n: usize, buffer: &mut [f64; BLOCK]) {
        match self {
            Flags::Scalar(call) => buffer[..n].fill(if *call { 1.0 } else { -1.0 }),
            Flags::Values(v) => {
                for (sign, &call) in buffer[..n].iter_mut().zip(&v[start..start + n]) {
                    *sign = if call { 1.0 } else { -1.0 };
                }
            }
        }
    }
}

/// Checks that every array argument has the length `n` (the batch length).
pub(crate) fn check_lengths(n: usize, columns: &[(&'static str, Option<usize>)]) -> Result<()> {
    for &(arg, len) in columns {
        if let Some(len) = len {
            if len != n {
                return Err(AlvhError::LengthMismatch { arg, len, expected: n });
            }
        }
    }
    Ok(())
}

impl OptionBatch<'_> {
    fn check(&self, n: usize) -> Result<()> {
        check_lengths(
            n,
            &[
                ("is_call", self.is_call.len()),
                ("spot", self.spot.len()),
                ("strike", self.strike.len()),
                ("t", self.t.len()),
                ("rate", self.rate.len()),
                ("div", self.div.len()),
                ("vol", self.vol.len()),
            ],
        )
    }

    /// The error for row `i`, which the kernel found invalid. Argument order
    /// matches the public signature, so the first offending argument is named.
    pub(crate) fn row_error(&self, model: Model, i: usize) -> AlvhError {
        let positive = "positive and finite";
        let mut checks: Vec<(&'static str, f64, bool, &'static str)> = vec![
            (if model == Model::Bsm { "spot" } else { "forward" }, self.spot.at(i), true, positive),
            ("strike", self.strike.at(i), true, positive),
            ("t", self.t.at(i), true, "positive and finite (years)"),
            ("rate", self.rate.at(i), false, "finite"),
        ];
        if model == Model::Bsm {
            checks.push(("div", self.div.at(i), false, "finite"));
        }
        checks.push(("vol", self.vol.at(i), true, "positive and finite (1.0 = 100%)"));
        for (arg, value, must_be_positive, requirement) in checks {
            let ok = value.is_finite() && (!must_be_positive || value > 0.0);
            if !ok {
                return AlvhError::InvalidValue { arg, index: i, value, requirement };
            }
        }
        // Unreachable when the kernel and this check agree; say something true anyway.
        AlvhError::InvalidValue { arg: "vol", index: i, value: self.vol.at(i), requirement: positive }
    }
}

/// Scalar columns expanded once per chunk.
struct ScalarBuffers {
    spot: [f64; BLOCK],
    strike: [f64; BLOCK],
    t: [f64; BLOCK],
    rate: [f64; BLOCK],
    div: [f64; BLOCK],
    vol: [f64; BLOCK],
    sign: [f64; BLOCK],
}

impl ScalarBuffers {
    fn new(batch: &OptionBatch<'_>, model: Model) -> Box<Self> {
        let mut b = Box::new(ScalarBuffers {
            spot: [0.0; BLOCK],
            strike: [0.0; BLOCK],
            t: [0.0; BLOCK],
            rate: [0.0; BLOCK],
            div: [0.0; BLOCK],
            vol: [0.0; BLOCK],
            sign: [0.0; BLOCK],
        });
        batch.spot.fill(&mut b.spot);
        batch.strike.fill(&mut b.strike);
        batch.t.fill(&mut b.t);
        batch.rate.fill(&mut b.rate);
        batch.vol.fill(&mut b.vol);
        if model == Model::Bsm {
            batch.div.fill(&mut b.div);
        }
        b
    }
}

/// One block of rows as plain slices of equal length (`sign` is +1 call, -1 put).
pub(crate) struct Rows<'a> {
    pub sign: &'a [f64],
    pub spot: &'a [f64],
    pub strike: &'a [f64],
    pub t: &'a [f64],
    pub rate: &'a [f64],
    pub div: &'a [f64],
    pub vol: &'a [f64],
}

impl Rows<'_> {
    /// The same rows with every slice cut to exactly `n` (lets the compiler drop
    /// the bounds checks of the hot loop, which it needs to vectorize it).
    #[inline(always)]
    fn cut(&self, n: usize) -> Rows<'_> {
        Rows {
            sign: &self.sign[..n],
            spot: &self.spot[..n],
            strike: &self.strike[..n],
            t: &self.t[..n],
            rate: &self.rate[..n],
            div: &self.div[..n],
            vol: &self.vol[..n],
        }
    }

    /// The per-option quantities of row `i`.
    #[inline(always)]
    fn option<M: MulAdd>(&self, i: usize) -> Common {
        common::<M>(
            self.sign[i],
            self.spot[i],
            self.strike[i],
            self.t[i],
            self.rate[i],
            self.div[i],
            self.vol[i],
        )
    }
}

/// The quantities every output needs, for one option.
struct Common {
    valid: bool,
    sign: f64,
    spot: f64,
    t: f64,
    rate: f64,
    carry: f64,
    vol: f64,
    sqrt_t: f64,
    inv_total_vol: f64,
    d1: f64,
    d2: f64,
    carry_discount: f64, // e^{(b - r) T}
    pdf_d1: f64,
    forward_value: f64, // S e^{(b - r) T}: the discounted forward
    strike_value: f64,  // K e^{-r T}: the discounted strike
    in_the_money: bool, // sign * (forward_value - strike_value) > 0
    otm_value: f64,     // value of the out-of-the-money option of the pair (call or put)
    cdf_signed_d1: f64, // N(sign * d1)
    cdf_signed_d2: f64, // N(sign * d2)
}

/// (S e^{-qT}, K e^{-rT}, e^{-qT}): the parity terms, computed the one way that the
/// pricer and the implied-vol solver share, so that a price's time value is
/// recovered exactly by subtracting them.
#[inline(always)]
pub(crate) fn discounted_forward_and_strike<M: MulAdd>(
    spot: f64,
    strike: f64,
    t: f64,
    rate: f64,
    div: f64,
) -> (f64, f64, f64) {
    let discounts = Discounts::new::<M>(t, rate, div);
    (spot * discounts.carry, strike * discounts.rate, discounts.carry)
}

#[inline(always)]
fn common<M: MulAdd>(sign: f64, spot: f64, strike: f64, t: f64, rate: f64, div: f64, vol: f64) -> Common {
    let discounts = Discounts::new::<M>(t, rate, div);
    common_discounted::<M>(sign, spot, strike, t, rate, div, vol, discounts)
}

/// `(e^{-qT}, e^{-rT})` of one (t, rate, div): computed once where many options share
/// them (the projection values every path of a leg on a day with the same ones).
#[derive(Clone, Copy)]
pub(crate) struct Discounts {
    carry: f64,
    rate: f64,
}

impl Discounts {
    #[inline(always)]
    pub(crate) fn new<M: MulAdd>(t: f64, rate: f64, div: f64) -> Discounts {
        Discounts { carry: exp::<M>(-div * t), rate: exp::<M>(-rate * t) }
    }
}

/// [`common`] with the discount factors given: the same arithmetic.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn common_discounted<M: MulAdd>(
    sign: f64,
    spot: f64,
    strike: f64,
    t: f64,
    rate: f64,
    div: f64,
    vol: f64,
    discounts: Discounts,
) -> Common {
    let valid = (spot > 0.0)
        & (spot < f64::INFINITY)
        & (strike > 0.0)
        & (strike < f64::INFINITY)
        & (t > 0.0)
        & (t < f64::INFINITY)
        & (vol > 0.0)
        & (vol < f64::INFINITY)
        & (rate.abs() < f64::INFINITY)
        & (div.abs() < f64::INFINITY);
    let carry = rate - div;
    let sqrt_t = t.sqrt();
    let total_vol = vol * sqrt_t;
    // Floored so that an underflowed total vol (vol and t both ~1e-300) gives the
    // limiting values instead of inf * 0 = NaN.
    let inv_total_vol = 1.0 / total_vol.max(f64::MIN_POSITIVE);
    let log_moneyness = ln::<M>(spot / strike);
    // d1,2 = (ln(S/K) + carry t) / (vol sqrt t) +- vol sqrt t / 2: never squaring the
    // vol (vol^2 overflows above ~1.3e154, which turned d2 into the wrong infinity and
    // the price into 0) and never subtracting an infinite total vol, so a vol up to the
    // largest double gives the limits (call -> S e^-qT, put -> K e^-rT).
    let drift = (log_moneyness + carry * t) * inv_total_vol;
    let half_total_vol = 0.5 * total_vol;
    let d1 = drift + half_total_vol;
    let d2 = drift - half_total_vol;
    let carry_discount = discounts.carry;
    let (forward_value, strike_value) = (spot * carry_discount, strike * discounts.rate);
    // Value the out-of-the-money member of the call/put pair and add the parity
    // term for an in-the-money option: the time value then keeps full relative
    // precision instead of being the small difference of two large numbers, which
    // matters for deep in-the-money Greeks and implied vols.
    let in_the_money = sign * (forward_value - strike_value) > 0.0;
    let otm_sign = if in_the_money { -sign } else { sign };
    let pdf_d1 = norm_pdf::<M>(d1);
    // phi(d2) = phi(d1) F / K exactly, which spares an exp (the kernel is bound by
    // floating-point throughput; measured +5 % on the price path, +7 % on Greeks). It is also
    // more accurate than exp(-d2^2/2), whose argument carries d2's rounding. The
    // clamp keeps an absurd F/K (beyond e^690) from making 0 * inf; there phi(d1)
    // has underflowed and the term is below 1e-300 of the option's scale anyway.
    let pdf_d2 = pdf_d1 * (forward_value / strike_value).min(1e300);
    let (cdf_otm_d1, cdf_otm_d2) = norm_cdf_pair::<M>(otm_sign * d1, pdf_d1, otm_sign * d2, pdf_d2);
    let otm_value = (otm_sign * (forward_value * cdf_otm_d1 - strike_value * cdf_otm_d2)).max(0.0);
    let cdf_signed_d1 = if in_the_money { 1.0 - cdf_otm_d1 } else { cdf_otm_d1 };
    let cdf_signed_d2 = if in_the_money { 1.0 - cdf_otm_d2 } else { cdf_otm_d2 };
    Common {
        valid,
        sign,
        spot,
        t,
        rate,
        carry,
        vol,
        sqrt_t,
        inv_total_vol,
        d1,
        d2,
        carry_discount,
        pdf_d1,
        forward_value,
        strike_value,
        in_the_money,
        otm_value,
        cdf_signed_d1,
        cdf_signed_d2,
    }
}

impl Common {
    #[inline(always)]
    fn price(&self) -> f64 {
        let parity =
            if self.in_the_money { self.sign * (self.forward_value - self.strike_value) } else { 0.0 };
        self.otm_value + parity
    }
}

/// Prices of one block; returns the number of invalid rows.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // measured: the indexed loop vectorizes best here
fn price_rows_body<M: MulAdd>(rows: &Rows<'_>, price: &mut [f64]) -> usize {
    let n = price.len();
    let rows = rows.cut(n);
    let mut invalid = 0usize;
    for i in 0..n {
        let c = rows.option::<M>(i);
        invalid += (!c.valid) as usize;
        price[i] = if c.valid { c.price() } else { f64::NAN };
    }
    invalid
}

/// Price and the eight Greeks of one option (for the scenario grid): the same
/// computation as the batch kernels, on plain values. Black-76 when `BLACK76` (then
/// `spot` is the forward and `div` must equal `rate`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn option_values<M: MulAdd, const BLACK76: bool>(
    sign: f64,
    spot: f64,
    strike: f64,
    t: f64,
    rate: f64,
    div: f64,
    vol: f64,
) -> [f64; 9] {
    all_greeks::<BLACK76>(&common::<M>(sign, spot, strike, t, rate, div, vol))
}

/// The price of one option (the projection's revaluation): the batch kernels'
/// computation on plain values, with the discount factors of its (t, rate, div)
/// precomputed; Black-76 when `spot` is the forward and `div == rate`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn option_price<M: MulAdd>(
    sign: f64,
    spot: f64,
    strike: f64,
    t: f64,
    rate: f64,
    div: f64,
    vol: f64,
    discounts: Discounts,
) -> f64 {
    common_discounted::<M>(sign, spot, strike, t, rate, div, vol, discounts).price()
}

/// All nine outputs of one option, in DESIGN.md's raw units.
#[inline(always)]
fn all_greeks<const BLACK76: bool>(c: &Common) -> [f64; 9] {
    let price = c.price();
    let discounted_pdf = c.carry_discount * c.pdf_d1;
    let delta = c.sign * c.carry_discount * c.cdf_signed_d1;
    let gamma = discounted_pdf * c.inv_total_vol / c.spot;
    let vega = c.spot * discounted_pdf * c.sqrt_t;
    let inv_vol = 1.0 / c.vol;
    // Where the density underflows, d1 or d2 may be infinite (total vol ~1e-300):
    // the terms it multiplies are then exactly 0, not 0 * inf = NaN.
    let has_density = c.pdf_d1 > 0.0;
    let vanna = if has_density { -discounted_pdf * c.d2 * inv_vol } else { 0.0 };
    let volga = if has_density { vega * c.d1 * c.d2 * inv_vol } else { 0.0 };
    let forward_leg = c.forward_value * c.cdf_signed_d1;
    let strike_leg = c.strike_value * c.cdf_signed_d2;
    let div = c.rate - c.carry;
    let theta = -0.5 * vega * c.vol / c.t + c.sign * (div * forward_leg - c.rate * strike_leg);
    let rho = if BLACK76 { -c.t * price } else { c.sign * c.t * strike_leg };
    // d(d1)/dT = b / (sigma sqrt T) - d2 / (2 T); charm = -d(delta)/dT.
    let d1_dt = c.carry * c.inv_total_vol - 0.5 * c.d2 / c.t;
    let density_term = if has_density { discounted_pdf * d1_dt } else { 0.0 };
    let charm = c.sign * div * c.carry_discount * c.cdf_signed_d1 - density_term;
    [price, delta, gamma, vega, theta, rho, vanna, volga, charm]
}

/// All nine outputs of one block; returns the number of invalid rows.
#[inline(always)]
fn greeks_rows_body<M: MulAdd, const BLACK76: bool>(rows: &Rows<'_>, out: [&mut [f64]; 9]) -> usize {
    let [price, delta, gamma, vega, theta, rho, vanna, volga, charm] = out;
    let n = price.len();
    let (delta, gamma, vega, theta) = (&mut delta[..n], &mut gamma[..n], &mut vega[..n], &mut theta[..n]);
    let (rho, vanna, volga, charm) = (&mut rho[..n], &mut vanna[..n], &mut volga[..n], &mut charm[..n]);
    let rows = rows.cut(n);
    let mut invalid = 0usize;
    for i in 0..n {
        let c = rows.option::<M>(i);
        invalid += (!c.valid) as usize;
        let g = all_greeks::<BLACK76>(&c);
        let keep = |x: f64| if c.valid { x } else { f64::NAN };
        price[i] = keep(g[0]);
        delta[i] = keep(g[1]);
        gamma[i] = keep(g[2]);
        vega[i] = keep(g[3]);
        theta[i] = keep(g[4]);
        rho[i] = keep(g[5]);
        vanna[i] = keep(g[6]);
        volga[i] = keep(g[7]);
        charm[i] = keep(g[8]);
    }
    invalid
}

simd_dispatch! {
    /// (S e^{-qT}, K e^{-rT}) for a block, computed exactly as the pricing kernels on
    /// this CPU compute them, for the implied-vol solver's parity reduction.
    pub(crate) fn parity_rows(rows: &Rows<'_>, forward_value: &mut [f64], strike_value: &mut [f64]) {
        let n = forward_value.len();
        let strike_value = &mut strike_value[..n];
        let rows = rows.cut(n);
        for i in 0..n {
            let (f, k, _) = discounted_forward_and_strike::<M>(rows.spot[i], rows.strike[i], rows.t[i], rows.rate[i], rows.div[i]);
            forward_value[i] = f;
            strike_value[i] = k;
        }
    }
}

simd_dispatch! {
    fn price_rows(rows: &Rows<'_>, price: &mut [f64]) -> usize {
        price_rows_body::<M>(rows, price)
    }
}

simd_dispatch! {
    fn greeks_rows_bsm(rows: &Rows<'_>, out: [&mut [f64]; 9]) -> usize {
        greeks_rows_body::<M, false>(rows, out)
    }
}

simd_dispatch! {
    fn greeks_rows_black76(rows: &Rows<'_>, out: [&mut [f64]; 9]) -> usize {
        greeks_rows_body::<M, true>(rows, out)
    }
}

/// Runs `block_fn` over `start..start + len` rows of the batch in blocks; returns the
/// first invalid row (global index), if any.
fn run_chunk(
    batch: &OptionBatch<'_>,
    model: Model,
    start: usize,
    len: usize,
    mut block_fn: impl FnMut(&Rows<'_>, usize, usize) -> usize,
) -> Option<usize> {
    let mut first_invalid = None;
    for_each_block(batch, model, start, len, |rows, offset, n| {
        let invalid = block_fn(rows, offset, n);
        if invalid > 0 && first_invalid.is_none() {
            first_invalid = (0..n).find(|&i| !row_is_valid(rows, i)).map(|i| start + offset + i);
        }
    });
    first_invalid
}

/// Calls `f(rows, offset, n)` for the rows `start + offset .. start + offset + n` of
/// the batch, block by block, with scalar columns expanded (for Black-76 the `div`
/// slice is the rate: zero cost of carry).
pub(crate) fn for_each_block(
    batch: &OptionBatch<'_>,
    model: Model,
    start: usize,
    len: usize,
    mut f: impl FnMut(&Rows<'_>, usize, usize),
) {
    let mut buffers = ScalarBuffers::new(batch, model);
    let mut offset = 0;
    while offset < len {
        let n = BLOCK.min(len - offset);
        let row0 = start + offset;
        batch.is_call.signs(row0, n, &mut buffers.sign);
        let div_column = if model == Model::Bsm { &batch.div } else { &batch.rate };
        let div_buffer = if model == Model::Bsm { &buffers.div } else { &buffers.rate };
        let rows = Rows {
            sign: &buffers.sign[..n],
            spot: batch.spot.rows(row0, n, &buffers.spot),
            strike: batch.strike.rows(row0, n, &buffers.strike),
            t: batch.t.rows(row0, n, &buffers.t),
            rate: batch.rate.rows(row0, n, &buffers.rate),
            div: div_column.rows(row0, n, div_buffer),
            vol: batch.vol.rows(row0, n, &buffers.vol),
        };
        f(&rows, offset, n);
        offset += n;
    }
}

fn row_is_valid(rows: &Rows<'_>, i: usize) -> bool {
    let positive = |x: f64| x > 0.0 && x.is_finite();
    positive(rows.spot[i])
        && positive(rows.strike[i])
        && positive(rows.t[i])
        && positive(rows.vol[i])
        && rows.rate[i].is_finite()
        && rows.div[i].is_finite()
}

fn finish(
    batch: &OptionBatch<'_>,
    model: Model,
    mode: ErrorMode,
    first_invalid: Option<usize>,
) -> Result<()> {
    match (mode, first_invalid) {
        (ErrorMode::Raise, Some(i)) => Err(batch.row_error(model, i)),
        _ => Ok(()),
    }
}

/// Prices of a batch into `out` (its length is the batch length).
pub fn price(batch: &OptionBatch<'_>, model: Model, mode: ErrorMode, out: &mut [f64]) -> Result<()> {
    let n = out.len();
    batch.check(n)?;
    let chunk_fn = |chunk_index: usize, out_chunk: &mut [f64]| {
        run_chunk(batch, model, chunk_index * CHUNK, out_chunk.len(), |rows, offset, len| {
            price_rows(rows, &mut out_chunk[offset..offset + len])
        })
    };
    let first_invalid = if n < PARALLEL_THRESHOLD || !crate::parallel_allowed() {
        out.chunks_mut(CHUNK).enumerate().filter_map(|(k, c)| chunk_fn(k, c)).min()
    } else {
        out.par_chunks_mut(CHUNK).enumerate().filter_map(|(k, c)| chunk_fn(k, c)).min()
    };
    finish(batch, model, mode, first_invalid)
}

/// Price and all eight Greeks of a batch, in one fused pass per option.
pub fn greeks(batch: &OptionBatch<'_>, model: Model, mode: ErrorMode, out: GreeksOut<'_>) -> Result<()> {
    let n = out.price.len();
    batch.check(n)?;
    let lengths = [
        ("out.delta", out.delta.len()),
        ("out.gamma", out.gamma.len()),
        ("out.vega", out.vega.len()),
        ("out.theta", out.theta.len()),
        ("out.rho", out.rho.len()),
        ("out.vanna", out.vanna.len()),
        ("out.volga", out.volga.len()),
        ("out.charm", out.charm.len()),
    ];
    check_lengths(n, &lengths.map(|(arg, len)| (arg, Some(len))))?;
    let block_fn = match model {
        Model::Bsm => greeks_rows_bsm,
        Model::Black76 => greeks_rows_black76,
    };
    let chunk_fn = |chunk_index: usize, o: [&mut [f64]; 9]| {
        let [p, d, g, v, th, rh, va, vo, ch] = o;
        run_chunk(batch, model, chunk_index * CHUNK, p.len(), |rows, offset, len| {
            let r = offset..offset + len;
            block_fn(
                rows,
                [
                    &mut p[r.clone()],
                    &mut d[r.clone()],
                    &mut g[r.clone()],
                    &mut v[r.clone()],
                    &mut th[r.clone()],
                    &mut rh[r.clone()],
                    &mut va[r.clone()],
                    &mut vo[r.clone()],
                    &mut ch[r],
                ],
            )
        })
    };
    let GreeksOut { price, delta, gamma, vega, theta, rho, vanna, volga, charm } = out;
    let first_invalid = if n < PARALLEL_THRESHOLD || !crate::parallel_allowed() {
        let chunks = price
            .chunks_mut(CHUNK)
            .zip(delta.chunks_mut(CHUNK))
            .zip(gamma.chunks_mut(CHUNK))
            .zip(vega.chunks_mut(CHUNK))
            .zip(theta.chunks_mut(CHUNK))
            .zip(rho.chunks_mut(CHUNK))
            .zip(vanna.chunks_mut(CHUNK))
            .zip(volga.chunks_mut(CHUNK))
            .zip(charm.chunks_mut(CHUNK));
        chunks
            .enumerate()
            .filter_map(|(k, ((((((((p, d), g), v), th), rh), va), vo), ch))| {
                chunk_fn(k, [p, d, g, v, th, rh, va, vo, ch])
            })
            .min()
    } else {
        (
            price.par_chunks_mut(CHUNK),
            delta.par_chunks_mut(CHUNK),
            gamma.par_chunks_mut(CHUNK),
            vega.par_chunks_mut(CHUNK),
            theta.par_chunks_mut(CHUNK),
            rho.par_chunks_mut(CHUNK),
            vanna.par_chunks_mut(CHUNK),
            volga.par_chunks_mut(CHUNK),
            charm.par_chunks_mut(CHUNK),
        )
            .into_par_iter()
            .enumerate()
            .filter_map(|(k, (p, d, g, v, th, rh, va, vo, ch))| chunk_fn(k, [p, d, g, v, th, rh, va, vo, ch]))
            .min()
    };
    finish(batch, model, mode, first_invalid)
}
