//! Branch-free `exp`, `ln`, `norm_pdf` and `norm_cdf` that LLVM can inline and
//! auto-vectorize.
//!
//! Written by hand on purpose: `f64::exp`/`f64::ln` are opaque calls into libm, so a
//! loop that calls them never vectorizes, and the SIMD math crates (sleef-rs,
//! `std::simd` based ones) need nightly Rust. Everything here is plain `f64`
//! arithmetic and bit manipulation with no data-dependent branch, marked
//! `#[inline(always)]` so it is compiled inside each CPU-specific clone of the
//! kernels (see `kernels.rs`).
//!
//! Multiply-adds go through the [`MulAdd`] parameter: [`Fused`] (one rounding,
//! one instruction) in the clones compiled for CPUs with FMA, [`Separate`] in the
//! portable baseline, where `f64::mul_add` would be a slow libm call. Rust never
//! contracts `a * b + c` by itself, hence the explicit choice.
//!
//! Accuracy (tested against 50-digit references in this file's tests):
//! `exp` and `ln` within 2 ulp; `norm_cdf` within 1e-14 relative over [-38, 8.3]
//! (the far tail, down to the smallest normal numbers).

#![allow(clippy::excessive_precision, clippy::unreadable_literal)]

/// How `a * b + c` is evaluated.
pub trait MulAdd {
    fn mul_add(a: f64, b: f64, c: f64) -> f64;
    /// x*x as an unevaluated sum hi + lo, exactly.
    fn exact_square(x: f64) -> (f64, f64);
}

/// Hardware fused multiply-add (only inside code compiled with the `fma` feature).
pub struct Fused;

/// Separate multiply and add (the portable baseline).
pub struct Separate;

impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }

    #[inline(always)]
    fn exact_square(x: f64) -> (f64, f64) {
        let hi = x * x;
        (hi, x.mul_add(x, -hi))
    }
}

impl MulAdd for Separate {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }

    /// Dekker/Veltkamp splitting: exact without an FMA.
    #[inline(always)]
    fn exact_square(x: f64) -> (f64, f64) {
        const SPLIT: f64 = 134217729.0; // 2^27 + 1
        let c = SPLIT * x;
        let x_hi = c - (c - x);
        let x_lo = x - x_hi;
        let hi = x * x;
        let lo = ((x_hi * x_hi - hi) + 2.0 * x_hi * x_lo) + x_lo * x_lo;
        (hi, lo)
    }
}

const LOG2E: f64 = std::f64::consts::LOG2_E;
// ln 2 split so that k * LN2_HI is exact for |k| < 2^11 (fdlibm's constants).
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
// 1.5 * 2^52: adding it rounds to the nearest integer, which lands in the low bits.
const ROUND_MAGIC: f64 = 6755399441055744.0;

/// e^x, within 2 ulp, for any x (overflows to +inf above 709.78, gradual
/// underflow to 0 below -708.4). Range reduction x = k ln2 + r, |r| <= ln2/2, then a
/// degree-13 Taylor polynomial (truncation error < 5e-18), then 2^k applied in two
/// halves so that subnormal results are right.
#[inline(always)]
pub fn exp<M: MulAdd>(x: f64) -> f64 {
    let x = x.clamp(-746.0, 709.8);
    let shifted = x * LOG2E + ROUND_MAGIC;
    let k_float = shifted - ROUND_MAGIC;
    let k = (shifted.to_bits() as i64).wrapping_sub(ROUND_MAGIC.to_bits() as i64);
    let r = M::mul_add(-k_float, LN2_LO, M::mul_add(-k_float, LN2_HI, x));
    // Horner from the top coefficient 1/13! down to 1/2!.
    let mut p = 1.0 / 6227020800.0;
    p = M::mul_add(p, r, 1.0 / 479001600.0);
    p = M::mul_add(p, r, 1.0 / 39916800.0);
    p = M::mul_add(p, r, 1.0 / 3628800.0);
    p = M::mul_add(p, r, 1.0 / 362880.0);
    p = M::mul_add(p, r, 1.0 / 40320.0);
    p = M::mul_add(p, r, 1.0 / 5040.0);
    p = M::mul_add(p, r, 1.0 / 720.0);
    p = M::mul_add(p, r, 1.0 / 120.0);
    p = M::mul_add(p, r, 1.0 / 24.0);
    p = M::mul_add(p, r, 1.0 / 6.0);
    p = M::mul_add(p, r, 0.5);
    let e_r = 1.0 + M::mul_add(r * r, p, r);
    let k_half = k >> 1;
    let k_rest = k - k_half;
    let scale_a = f64::from_bits(((k_half + 1023) as u64) << 52);
    let scale_b = f64::from_bits(((k_rest + 1023) as u64) << 52);
    e_r * scale_a * scale_b
}

// fdlibm __ieee754_log polynomial (|error| < 2^-58.45 on the reduced range).
const LG1: f64 = 6.666666666666735130e-01;
const LG2: f64 = 3.999999999940941908e-01;
const LG3: f64 = 2.857142874366239149e-01;
const LG4: f64 = 2.222219843214978396e-01;
const LG5: f64 = 1.818357216161805012e-01;
const LG6: f64 = 1.531383769920937332e-01;
const LG7: f64 = 1.479819860511658591e-01;

/// Natural log for positive finite x (inputs are clamped to the normal range),
/// fdlibm's algorithm made branch-free: x = 2^e m with m in [sqrt(2)/2, sqrt(2)),
/// ln m = 2 atanh(f / (2 + f)) with f = m - 1.
#[inline(always)]
pub fn ln<M: MulAdd>(x: f64) -> f64 {
    let x = x.clamp(f64::MIN_POSITIVE, f64::MAX);
    let bits = x.to_bits();
    let mut e = ((bits >> 52) as i64) - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let big = m > std::f64::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += big as i64;
    let e = e as f64;
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * horner::<M, 3>(w, [LG6, LG4, LG2]);
    let t2 = z * horner::<M, 4>(w, [LG7, LG5, LG3, LG1]);
    let r = t2 + t1;
    e * LN2_HI - ((hfsq - (s * (hfsq + r) + e * LN2_LO)) - f)
}

/// exp(-x^2 / 2) to full relative precision even where x^2 is large: the rounding
/// error of x*x (up to 1e-13 relative at x = 38) is carried in `lo` and applied
/// as a first-order correction.
#[inline(always)]
pub fn exp_neg_half_square<M: MulAdd>(x: f64) -> f64 {
    // Beyond |x| = 40 the result underflows anyway; the clamp keeps infinities out of
    // the splitting (NaN stays NaN).
    let x = x.clamp(-40.0, 40.0);
    let (hi, lo) = M::exact_square(x);
    exp::<M>(-0.5 * hi) * (1.0 - 0.5 * lo)
}

const INV_SQRT_2PI: f64 = 0.398942280401432677939946059934;

/// The standard normal density.
#[inline(always)]
pub fn norm_pdf<M: MulAdd>(x: f64) -> f64 {
    INV_SQRT_2PI * exp_neg_half_square::<M>(x)
}

const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
const INV_SQRT_PI: f64 = 0.564189583547756286948079451561;

/// c[0] x^(N-1) + ... + c[N-1], by Horner's rule.
#[inline(always)]
fn horner<M: MulAdd, const N: usize>(x: f64, c: [f64; N]) -> f64 {
    let mut acc = c[0];
    for &coefficient in &c[1..] {
        acc = M::mul_add(acc, x, coefficient);
    }
    acc
}

/// The pieces of Phi(x) = erfc(-x / sqrt 2) / 2, by W. J. Cody's rational approximations for
/// erfc (Math. Comp. 23 (1969) 631-637; coefficients as in his CALERF), evaluated
/// branch-free: all three ranges are computed as numerator/denominator pairs, the
/// right pair is selected per lane, and the caller does one division. The Gaussian factor
/// exp(-y^2) is the exactly-squared `density` instead of Cody's exp of a split square.
#[inline(always)]
fn erfc_parts<M: MulAdd>(x: f64, density: f64) -> ErfcParts {
    let y = (x * FRAC_1_SQRT_2).abs().min(40.0);
    let u = y * y;
    // exp(-y^2) = sqrt(2 pi) * phi(x).
    let gauss = density * 2.506628274631000502415765284811;

    // Range 1, y <= 0.46875: erfc = 1 - y * A(u) / B(u).
    let a_num = horner::<M, 5>(
        u,
        [
            0.185777706184603153,
            3.16112374387056560,
            113.864154151050156,
            377.485237685302021,
            3209.37758913846947,
        ],
    );
    let a_den = horner::<M, 5>(
        u,
        [1.0, 23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062],
    );
    // Range 2, 0.46875 < y <= 4: erfc = exp(-y^2) * C(y) / D(y).
    let c_num = horner::<M, 9>(
        y,
        [
            2.15311535474403846e-8,
            0.564188496988670089,
            8.88314979438837594,
            66.1191906371416295,
            298.635138197400131,
            881.952221241769090,
            1712.04761263407058,
            2051.07837782607147,
            1230.33935479799725,
        ],
    );
    let c_den = horner::<M, 9>(
        y,
        [
            1.0,
            15.7449261107098347,
            117.693950891312499,
            537.181101862009858,
            1621.38957456669019,
            3290.79923573345963,
            4362.61909014324716,
            3439.36767414372164,
            1230.33935480374942,
        ],
    );
    // Range 3, y > 4: erfc = exp(-y^2) / y * (1/sqrt(pi) - z P(z) / Q(z)), z = 1/y^2.
    // Multiplying P and Q through by u^6 turns them into polynomials in u = y^2, which
    // saves the division for z (all coefficients are positive: no cancellation).
    let p_u = horner::<M, 6>(
        u,
        [
            6.58749161529837803e-4,
            0.0160837851487422766,
            0.125781726111229246,
            0.360344899949804439,
            0.305326634961232344,
            0.0163153871373020978,
        ],
    );
    let q_u = horner::<M, 6>(
        u,
        [
            0.00233520497626869185,
            0.0605183413124413191,
            0.527905102951428412,
            1.87295284992346047,
            2.56852019228982242,
            1.0,
        ],
    ) * u;
    let tail_num = M::mul_add(q_u, INV_SQRT_PI, -p_u);
    let tail_den = q_u * y;

    let small = y <= 0.46875;
    let middle = y <= 4.0;
    ErfcParts {
        num: if small {
            -y * a_num
        } else if middle {
            c_num
        } else {
            tail_num
        },
        den: if small {
            a_den
        } else if middle {
            c_den
        } else {
            tail_den
        },
        base: if small { 1.0 } else { 0.0 },
        factor: if small { 1.0 } else { gauss },
        negative: x < 0.0,
    }
}

/// erfc(|x| / sqrt 2) = base + factor * num / den, with the division left to the
/// caller so that two CDFs can share one.
struct ErfcParts {
    num: f64,
    den: f64,
    base: f64,
    factor: f64,
    negative: bool,
}

impl ErfcParts {
    #[inline(always)]
    fn cdf<M: MulAdd>(&self, ratio: f64) -> f64 {
        let half = 0.5 * M::mul_add(self.factor, ratio, self.base);
        if self.negative {
            half
        } else {
            1.0 - half
        }
    }
}

/// The standard normal CDF, given `density = norm_pdf(x)` (callers have it already).
#[inline(always)]
pub fn norm_cdf_with_pdf<M: MulAdd>(x: f64, density: f64) -> f64 {
    let parts = erfc_parts::<M>(x, density);
    parts.cdf::<M>(parts.num / parts.den)
}

/// Phi(x1) and Phi(x2) with one division between them (a reciprocal of the product
/// of the two denominators; at most ~1e17, so no overflow).
#[inline(always)]
pub fn norm_cdf_pair<M: MulAdd>(x1: f64, density1: f64, x2: f64, density2: f64) -> (f64, f64) {
    let p1 = erfc_parts::<M>(x1, density1);
    let p2 = erfc_parts::<M>(x2, density2);
    let inv = 1.0 / (p1.den * p2.den);
    (p1.cdf::<M>(p1.num * p2.den * inv), p2.cdf::<M>(p2.num * p1.den * inv))
}

/// Like [`norm_cdf_pair`], and also the ratios R(x) = num/den of Cody's tail ranges
/// (for x < -0.6629, Phi(x) = exp(-x^2/2) R(x) / 2) and R(x1) - R(x2) computed without
/// forming the two quotients first. The implied-vol solver uses them to evaluate the
/// normalized Black price with the Gaussian factor taken out (Jäckel's erfcx form).
#[inline(always)]
pub fn norm_cdf_pair_and_tail_ratios<M: MulAdd>(
    x1: f64,
    density1: f64,
    x2: f64,
    density2: f64,
) -> (f64, f64, f64, f64) {
    let p1 = erfc_parts::<M>(x1, density1);
    let p2 = erfc_parts::<M>(x2, density2);
    let inv = 1.0 / (p1.den * p2.den);
    let (r1, r2) = (p1.num * p2.den * inv, p2.num * p1.den * inv);
    let ratio_difference = M::mul_add(p1.num, p2.den, -(p2.num * p1.den)) * inv;
    (p1.cdf::<M>(r1), p2.cdf::<M>(r2), r1, ratio_difference)
}

/// Where [`norm_cdf_pair_and_tail_ratios`]' ratios mean what it says: x below this.
pub const TAIL_RATIO_START: f64 = -0.46875 * std::f64::consts::SQRT_2;

/// The standard normal CDF.
#[inline(always)]
pub fn norm_cdf<M: MulAdd>(x: f64) -> f64 {
    norm_cdf_with_pdf::<M>(x, norm_pdf::<M>(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(x: f64) -> f64 {
        super::exp::<Separate>(x)
    }
    fn ln(x: f64) -> f64 {
        super::ln::<Separate>(x)
    }
    fn norm_cdf(x: f64) -> f64 {
        super::norm_cdf::<Separate>(x)
    }
    fn norm_cdf_fused(x: f64) -> f64 {
        super::norm_cdf::<Fused>(x)
    }

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            ((a - b) / b).abs()
        }
    }

    #[test]
    fn exp_matches_std_within_two_ulp() {
        let mut worst: f64 = 0.0;
        let mut x = -745.0;
        while x < 709.0 {
            let (got, want) = (exp(x), x.exp());
            if want > f64::MIN_POSITIVE {
                worst = worst.max(rel(got, want));
            }
            x += 0.0137;
        }
        assert!(worst < 4.5e-16, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-800.0), 0.0);
        assert!(exp(-740.0) > 0.0);
        assert!(exp(800.0).is_infinite());
    }

    #[test]
    fn ln_matches_std_within_two_ulp() {
        let mut worst: f64 = 0.0;
        let mut x = 1e-300;
        while x < 1e300 {
            worst = worst.max(rel(ln(x), x.ln()));
            x *= 1.0123;
        }
        for i in 1..2000 {
            let x = 1.0 + (i as f64 - 1000.0) * 1e-7;
            let (got, want) = (ln(x), x.ln());
            assert!((got - want).abs() <= 2.0 * f64::EPSILON * want.abs(), "{x}: {got} vs {want}");
        }
        assert!(worst < 4.5e-16, "worst relative error {worst:e}");
        assert_eq!(ln(1.0), 0.0);
    }

    // References from mpmath at 50 digits: ncdf(x).
    const CDF_REFERENCE: [(f64, f64); 12] = [
        (-38.0, 2.88542835e-316),
        (-37.5, 4.605353009581955e-308),
        (-30.0, 4.906713927148187e-198),
        (-20.0, 2.7536241186062337e-89),
        (-10.0, 7.619853024160525e-24),
        (-5.0, 2.866515718791939e-07),
        (-1.0, 0.15865525393145705),
        (-0.3, 0.3820885778110474),
        (0.0, 0.5),
        (0.3, 0.6179114221889527),
        (1.0, 0.8413447460685429),
        (5.0, 0.9999997133484281),
    ];

    #[test]
    fn norm_cdf_matches_high_precision_reference() {
        for (x, want) in CDF_REFERENCE {
            let got = norm_cdf(x);
            let fused = norm_cdf_fused(x);
            let tolerance = if want < f64::MIN_POSITIVE { 1e-8 } else { 1e-14 };
            assert!(rel(got, want) < tolerance, "Phi({x}) = {got:e}, want {want:e}");
            assert!(rel(fused, want) < tolerance, "fused Phi({x}) = {fused:e}, want {want:e}");
        }
        assert_eq!(norm_cdf(-40.0), 0.0);
        assert_eq!(norm_cdf(40.0), 1.0);
        assert_eq!(norm_cdf(f64::NEG_INFINITY), 0.0);
    }

    // Either side of Cody's range boundaries y = 0.46875 and y = 4 (x = -+y sqrt 2).
    const BOUNDARY_REFERENCE: [(f64, f64); 8] = [
        (-0.6629126073633883, 0.25369326339071074),
        (-0.6629126073613884, 0.25369326339135123),
        (0.6629126073613884, 0.7463067366086488),
        (0.6629126073633883, 0.7463067366092893),
        (-5.656854249493381, 7.708628950095092e-09),
        (-5.6568542494913805, 7.708628950184891e-09),
        (5.6568542494913805, 0.999999992291371),
        (5.656854249493381, 0.999999992291371),
    ];

    #[test]
    fn norm_cdf_is_accurate_on_both_sides_of_range_boundaries() {
        for (x, want) in BOUNDARY_REFERENCE {
            let got = norm_cdf(x);
            assert!(rel(got, want) < 1e-14, "Phi({x}) = {got:e}, want {want:e}");
        }
    }
}

/// `(sin(2 pi u), cos(2 pi u))` for `u` in [0, 1], branch-free so that loops over it
/// vectorize (libm's `sin_cos` is an opaque call with a data-dependent argument
/// reduction; the projection's Box-Muller transform needs one per path and day).
///
/// The reduction is exact: `4u = k + f` with `k = round(4u)` and `|f| <= 1/2` (both
/// exact in binary floating point), so `2 pi u = k pi/2 + theta` with
/// `theta = f pi/2`, `|theta| <= pi/4`; the Taylor series to theta^15 (sine) and
/// theta^16 (cosine) are then within 5e-17 absolute, and the quadrant `k mod 4`
/// rotates the pair.
#[inline(always)]
pub fn sin_cos_two_pi<M: MulAdd>(u: f64) -> (f64, f64) {
    let t = 4.0 * u;
    let k = t.round();
    let theta = (t - k) * std::f64::consts::FRAC_PI_2;
    let x2 = theta * theta;
    // sin: theta * (1 - x2/3! + x2^2/5! - ... - x2^7/15!)
    let mut s = -1.0 / 1_307_674_368_000.0;
    for c in [
        1.0 / 6_227_020_800.0,
        -1.0 / 39_916_800.0,
        1.0 / 362_880.0,
        -1.0 / 5_040.0,
        1.0 / 120.0,
        -1.0 / 6.0,
        1.0,
    ] {
        s = M::mul_add(s, x2, c);
    }
    let sin = theta * s;
    // cos: 1 - x2/2! + x2^2/4! - ... + x2^8/16!
    let mut c_poly = 1.0 / 20_922_789_888_000.0;
    for c in [
        -1.0 / 87_178_291_200.0,
        1.0 / 479_001_600.0,
        -1.0 / 3_628_800.0,
        1.0 / 40_320.0,
        -1.0 / 720.0,
        1.0 / 24.0,
        -0.5,
        1.0,
    ] {
        c_poly = M::mul_add(c_poly, x2, c);
    }
    let cos = c_poly;
    // SAFETY: the argument is finite and whole (max/min map a NaN to -8), so the
    // conversion is exact. (`as` would add a saturating conversion that does not
    // vectorize.)
    #[allow(clippy::manual_clamp)] // max/min map a NaN to a number; clamp would keep it
    let quadrant = unsafe { k.max(-8.0).min(8.0).to_int_unchecked::<i32>() } & 3;
    let swap = quadrant & 1 == 1;
    let (s0, c0) = if swap { (cos, sin) } else { (sin, cos) };
    let sin_sign = if quadrant >= 2 { -1.0 } else { 1.0 };
    let cos_sign = if quadrant == 1 || quadrant == 2 { -1.0 } else { 1.0 };
    (sin_sign * s0, cos_sign * c0)
}

#[cfg(test)]
mod sin_cos_tests {
    use super::*;

    #[test]
    fn sin_cos_two_pi_matches_libm() {
        let mut worst = 0.0f64;
        for i in 0..=200_000u32 {
            let u = f64::from(i) / 200_000.0;
            let (s, c) = sin_cos_two_pi::<Separate>(u);
            let angle = std::f64::consts::TAU * u;
            // libm sees 2 pi u rounded (error up to ~4e-16 near 2 pi): compare with that.
            worst = worst.max((s - angle.sin()).abs()).max((c - angle.cos()).abs());
        }
        assert!(worst < 1e-15, "worst {worst:e}");
        assert_eq!(sin_cos_two_pi::<Separate>(0.25), (1.0, 0.0));
        assert_eq!(sin_cos_two_pi::<Separate>(0.5).0, 0.0);
    }
}
