//! The SPX smile models both kernels share (the scenario grid and the projection):
//! the VIX-linked quadratic (`Smile`) and per-leg raw SVI slices (`SviSmiles`), each
//! sticky in standardized moneyness `m = ln(K/F) / (atm sqrt(tau))`, with the vol at a
//! strike and its first and second derivatives in the spot (for the smile-adjusted
//! delta and gamma), and the checks of their parameters.

use crate::error::{AlvhError, Result};
use crate::kernels::check_lengths;
use crate::legs::LegKind;
use crate::simd_math::{ln, MulAdd};

/// The SPX smile around the ATM vol in standardized moneyness
/// m = ln(K/F) / (atm sqrt(tau)): sigma = atm * max(1 + skew m + curvature m^2, floor_ratio),
/// m clipped to +-moneyness_limit (the VIX-linked skew of DESIGN.md).
#[derive(Clone, Copy, Debug)]
pub struct Smile {
    pub skew: f64,
    pub curvature: f64,
    pub floor_ratio: f64,
    pub moneyness_limit: f64,
}

impl Smile {
    /// `(sigma, dsigma/dS, d2sigma/dS2)` of a strike at spot `level` around `atm`, the
    /// forward being `level * growth`. Under sticky moneyness the vol at a strike moves
    /// with the spot: `dm/dS = -1 / (S atm sqrt(tau))`, `d2m/dS2 = -(dm/dS) / S`; the
    /// slopes are zero where `m` is clipped or the floor binds.
    #[inline(always)]
    pub(crate) fn vol_and_slopes<M: MulAdd>(
        &self,
        atm: f64,
        level: f64,
        strike: f64,
        growth: f64,
        sqrt_tau: f64,
    ) -> (f64, f64, f64) {
        let raw = ln::<M>(strike / (level * growth)) / (atm * sqrt_tau);
        let m = raw.max(-self.moneyness_limit).min(self.moneyness_limit);
        let shape = M::mul_add(M::mul_add(self.curvature, m, self.skew), m, 1.0);
        // 1 where the smile's slope applies, else 0, as a number: with `if`s here the
        // projection's loop over paths did not vectorize (LLVM kept a branch).
        let sloped = f64::from(u8::from((raw == m) & (shape > self.floor_ratio)));
        let slope = M::mul_add(2.0 * self.curvature, m, self.skew) * sloped;
        let bend = 2.0 * self.curvature * sloped;
        let inv_level = 1.0 / level;
        let dm = -inv_level / (atm * sqrt_tau);
        let sigma_s = atm * slope * dm;
        let sigma_ss = atm * (bend * dm * dm - slope * dm * inv_level);
        (atm * shape.max(self.floor_ratio), sigma_s, sigma_ss)
    }

    /// The vol alone (no slopes): `atm * max(1 + skew m + curvature m^2, floor_ratio)`.
    #[inline(always)]
    pub(crate) fn vol<M: MulAdd>(
        &self,
        atm: f64,
        level: f64,
        strike: f64,
        growth: f64,
        sqrt_tau: f64,
    ) -> f64 {
        let raw = ln::<M>(strike / (level * growth)) / (atm * sqrt_tau);
        let m = raw.max(-self.moneyness_limit).min(self.moneyness_limit);
        atm * M::mul_add(M::mul_add(self.curvature, m, self.skew), m, 1.0).max(self.floor_ratio)
    }
}

/// The shape of one SPX leg's SVI slice (Gatheral's raw parametrization of total
/// variance, `w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2))`, k = ln(K/F)) and
/// its ATM total variance `w0 = w(0)`, in the order of the flat per-leg array.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SviShape {
    pub a: f64,
    pub b: f64,
    pub rho: f64,
    pub m: f64,
    pub sigma: f64,
    pub w0: f64,
}

/// Per-leg SVI smiles, sticky in standardized moneyness: with
/// `x = clip(ln(K/F) / (atm sqrt(tau)), +-moneyness_limit)`,
/// `sigma(K) = atm * max(sqrt(w(x sqrt(w0)) / w0), floor_ratio)` (`alvh.svi`). At the
/// market the slice was fitted in, `atm sqrt(tau) = sqrt(w0)` and this is the fitted
/// SVI vol; elsewhere the smile keeps its shape in standard deviations.
#[derive(Clone, Copy, Debug)]
pub struct SviSmiles<'a> {
    /// `(a, b, rho, m, sigma, w0)` per leg, flat (length 6 x legs); the shapes of
    /// non-SPX legs are ignored.
    pub shapes: &'a [f64],
    pub floor_ratio: f64,
    pub moneyness_limit: f64,
}

impl SviSmiles<'_> {
    /// The floor and the limit positive, one shape per leg, and every SPX leg's shape
    /// a valid raw SVI slice (errors name the parameter and the leg).
    pub(crate) fn check(&self, kind: &[LegKind]) -> Result<()> {
        check_smile_limits(self.floor_ratio, self.moneyness_limit)?;
        check_lengths(6 * kind.len(), &[("svi.shapes", Some(self.shapes.len()))])?;
        for (leg, &leg_kind) in kind.iter().enumerate() {
            if leg_kind == LegKind::SpxOption {
                check_svi_shape(leg, &SviShape::of_leg(self.shapes, leg))?;
            }
        }
        Ok(())
    }

    /// The smile of `leg` (lengths checked beforehand).
    #[inline(always)]
    pub(crate) fn leg(&self, leg: usize) -> SviLegSmile {
        SviLegSmile {
            shape: SviShape::of_leg(self.shapes, leg),
            floor_ratio: self.floor_ratio,
            moneyness_limit: self.moneyness_limit,
        }
    }
}

/// One leg's SVI smile with the floor and the clip: the SVI counterpart of `Smile`
/// (same methods, same conventions), shared by the grid and the projection kernels.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SviLegSmile {
    shape: SviShape,
    floor_ratio: f64,
    moneyness_limit: f64,
}

impl SviLegSmile {
    /// `(sigma, dsigma/dS, d2sigma/dS2)` of a strike at spot `level` around `atm`, the
    /// forward being `level * growth`: `SviShape::vol_ratio` at the standardized
    /// moneyness, with `dm/dS = -1 / (S atm sqrt(tau))`, `d2m/dS2 = -(dm/dS) / S`.
    #[inline(always)]
    pub(crate) fn vol_and_slopes<M: MulAdd>(
        &self,
        atm: f64,
        level: f64,
        strike: f64,
        growth: f64,
        sqrt_tau: f64,
    ) -> (f64, f64, f64) {
        let raw = ln::<M>(strike / (level * growth)) / (atm * sqrt_tau);
        let (ratio, slope, bend) = self.shape.vol_ratio(raw, self.moneyness_limit, self.floor_ratio);
        let inv_level = 1.0 / level;
        let dm = -inv_level / (atm * sqrt_tau);
        let sigma_s = atm * slope * dm;
        let sigma_ss = atm * (bend * dm * dm - slope * dm * inv_level);
        (atm * ratio, sigma_s, sigma_ss)
    }

    /// The vol alone (the slopes are not needed).
    #[inline(always)]
    pub(crate) fn vol<M: MulAdd>(
        &self,
        atm: f64,
        level: f64,
        strike: f64,
        growth: f64,
        sqrt_tau: f64,
    ) -> f64 {
        let raw = ln::<M>(strike / (level * growth)) / (atm * sqrt_tau);
        atm * self.shape.vol_ratio(raw, self.moneyness_limit, self.floor_ratio).0
    }
}

impl SviShape {
    /// The shape of `leg` in a flat `(a, b, rho, m, sigma, w0)`-per-leg array.
    pub fn of_leg(flat: &[f64], leg: usize) -> SviShape {
        let p = &flat[6 * leg..6 * leg + 6];
        SviShape { a: p[0], b: p[1], rho: p[2], m: p[3], sigma: p[4], w0: p[5] }
    }

    /// The flat `(a, b, rho, m, sigma, w0)` form (see `of_leg`).
    pub fn to_flat(&self) -> [f64; 6] {
        [self.a, self.b, self.rho, self.m, self.sigma, self.w0]
    }

    /// `(sigma(K) / atm, its first and second derivatives in x)` at the standardized
    /// moneyness `raw` (clipped here to +-`limit`), floored at `floor_ratio`. With
    /// q(x) = w(x sqrt(w0)) / w0 and R = sqrt(q): R' = q'/(2R), R'' = q''/(2R) - q'^2/(4R^3),
    /// q' = w'(k) / sqrt(w0), q'' = w''(k); 0 where x is clipped or the floor binds.
    #[inline(always)]
    fn vol_ratio(&self, raw: f64, limit: f64, floor_ratio: f64) -> (f64, f64, f64) {
        let x = raw.max(-limit).min(limit);
        let sqrt_w0 = self.w0.sqrt();
        let k = x * sqrt_w0 - self.m;
        let root = (k * k + self.sigma * self.sigma).sqrt();
        let w = self.a + self.b * (self.rho * k + root);
        // w >= 0 by the parameter checks; max(0) only absorbs rounding below zero.
        let ratio = (w.max(0.0) / self.w0).sqrt();
        if raw != x || ratio <= floor_ratio {
            return (ratio.max(floor_ratio), 0.0, 0.0);
        }
        let dq = self.b * (self.rho + k / root) / sqrt_w0;
        let d2q = self.b * self.sigma * self.sigma / (root * root * root);
        let slope = dq / (2.0 * ratio);
        let bend = d2q / (2.0 * ratio) - dq * dq / (4.0 * ratio * ratio * ratio);
        (ratio, slope, bend)
    }
}

pub(crate) fn check_smile_limits(floor_ratio: f64, moneyness_limit: f64) -> Result<()> {
    let positive = |x: f64| x > 0.0 && x.is_finite();
    if !positive(floor_ratio) {
        return Err(AlvhError::invalid("smile.floor_ratio", 0, floor_ratio, "positive and finite"));
    }
    if !positive(moneyness_limit) {
        return Err(AlvhError::invalid("smile.moneyness_limit", 0, moneyness_limit, "positive and finite"));
    }
    Ok(())
}

/// The raw SVI conditions (b >= 0, |rho| < 1, sigma > 0, min w = a + b sigma
/// sqrt(1 - rho^2) >= 0) and w0 = w(0) > 0; errors name the leg.
fn check_svi_shape(leg: usize, s: &SviShape) -> Result<()> {
    let finite = [("svi.a", s.a), ("svi.m", s.m)];
    if let Some(&(arg, x)) = finite.iter().find(|(_, x)| !x.is_finite()) {
        return Err(AlvhError::invalid(arg, leg, x, "finite"));
    }
    if !(s.b >= 0.0 && s.b.is_finite()) {
        return Err(AlvhError::invalid("svi.b", leg, s.b, "zero or positive and finite"));
    }
    if s.rho.is_nan() || s.rho.abs() >= 1.0 {
        return Err(AlvhError::invalid("svi.rho", leg, s.rho, "strictly between -1 and 1"));
    }
    if !(s.sigma > 0.0 && s.sigma.is_finite()) {
        return Err(AlvhError::invalid("svi.sigma", leg, s.sigma, "positive and finite"));
    }
    let min_w = s.a + s.b * s.sigma * (1.0 - s.rho * s.rho).sqrt();
    if min_w.is_nan() || min_w < 0.0 {
        return Err(AlvhError::invalid(
            "svi.a",
            leg,
            s.a,
            "such that a + b sigma sqrt(1 - rho^2) >= 0 (w >= 0)",
        ));
    }
    if !(s.w0 > 0.0 && s.w0.is_finite()) {
        return Err(AlvhError::invalid("svi.w0", leg, s.w0, "positive and finite (the ATM total variance)"));
    }
    Ok(())
}
