//! The SPX smile models both kernels share (the scenario grid and the projection):
//! the SSVI smile of the default surface (`Ssvi`, sticky in log-moneyness around the
//! ATM total variance) and per-leg raw SVI slices (`SviSmiles`, sticky in standardized
//! moneyness `m = ln(K/F) / (atm sqrt(tau))`), each with the vol at a strike and its
//! first and second derivatives in the spot (for the smile-adjusted delta and gamma),
//! and the checks of their parameters.

use crate::error::{AlvhError, Result};
use crate::kernels::check_lengths;
use crate::legs::LegKind;
use crate::simd_math::{exp, ln, MulAdd};

/// The SSVI smile of Gatheral & Jacquier (2014) with the power-law curvature
/// (`alvh.market.ssvi.SsviSurface`): at ATM total variance `theta = atm^2 tau` and
/// log-moneyness `k = ln(K/F)`,
/// `w = theta/2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2))`,
/// `phi = eta / (theta^gamma (1 + theta)^(1 - gamma))`, `sigma = sqrt(w / tau)`.
/// `theta` follows the scenario's ATM vol, `k` the scenario's forward (the smile moves
/// with the spot). No floor or clip: `w >= theta (1 - rho^2) / 2 > 0`.
#[derive(Clone, Copy, Debug)]
pub struct Ssvi {
    pub rho: f64,
    pub eta: f64,
    pub gamma: f64,
}

impl Ssvi {
    /// `|rho| < 1`, `eta >= 0` (0: a flat smile) and `0 < gamma <= 1`, all finite; the
    /// no-arbitrage region is enforced where a surface is built (`SsviSurface`).
    pub(crate) fn check(&self) -> Result<()> {
        if !(self.rho.is_finite() && self.rho.abs() < 1.0) {
            return Err(AlvhError::invalid("smile.rho", 0, self.rho, "finite and strictly between -1 and 1"));
        }
        if !(self.eta.is_finite() && self.eta >= 0.0) {
            return Err(AlvhError::invalid("smile.eta", 0, self.eta, "zero or positive and finite"));
        }
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(AlvhError::invalid("smile.gamma", 0, self.gamma, "in (0, 1]"));
        }
        Ok(())
    }

    /// `(theta, phi(theta))` of the ATM vol `atm` at `tau`: `phi` as
    /// `eta exp(-gamma ln theta - (1 - gamma) ln(1 + theta))`, with this crate's `ln`
    /// and `exp` (generic over `M`, branch-free) so that the projection's loop over
    /// paths, where `atm` differs per path, still vectorizes (`powf` does not).
    #[inline(always)]
    fn theta_phi<M: MulAdd>(&self, atm: f64, tau: f64) -> (f64, f64) {
        let theta = atm * atm * tau;
        let power = M::mul_add(-self.gamma, ln::<M>(theta), -(1.0 - self.gamma) * ln::<M>(1.0 + theta));
        (theta, self.eta * exp::<M>(power))
    }

    /// `(sigma, dsigma/dS, d2sigma/dS2)` of a strike at spot `level` around `atm`, the
    /// forward being `level * growth`. With `w_k = theta phi / 2 (rho + z / r)`,
    /// `w_kk = theta phi^2 (1 - rho^2) / (2 r^3)` (`z = phi k + rho`, `r = sqrt(z^2 + 1 -
    /// rho^2)`): `sigma_k = w_k / (2 sigma tau)`, `sigma_kk = w_kk / (2 sigma tau) - w_k^2 /
    /// (4 sigma^3 tau^2)`, and `dk/dS = -1/S`, `d2k/dS2 = 1/S^2`.
    #[inline(always)]
    pub(crate) fn vol_and_slopes<M: MulAdd>(
        &self,
        atm: f64,
        level: f64,
        strike: f64,
        growth: f64,
        sqrt_tau: f64,
    ) -> (f64, f64, f64) {
        let tau = sqrt_tau * sqrt_tau;
        let (theta, phi) = self.theta_phi::<M>(atm, tau);
        let k = ln::<M>(strike / (level * growth));
        let rho = self.rho;
        let z = M::mul_add(phi, k, rho);
        let one_minus = 1.0 - rho * rho;
        let r = M::mul_add(z, z, one_minus).sqrt();
        let half_theta = 0.5 * theta;
        let w = half_theta * (M::mul_add(rho * phi, k, 1.0) + r);
        let sigma = (w / tau).sqrt();
        let w_k = half_theta * phi * (rho + z / r);
        let w_kk = half_theta * phi * phi * one_minus / (r * r * r);
        let two_sigma_tau = 2.0 * sigma * tau;
        let sigma_k = w_k / two_sigma_tau;
        let sigma_kk = (w_kk - w_k * sigma_k / sigma) / two_sigma_tau;
        let inv_level = 1.0 / level;
        (sigma, -sigma_k * inv_level, (sigma_kk + sigma_k) * inv_level * inv_level)
    }

    /// The vol alone (no slopes): `sqrt(w / tau)`.
    #[inline(always)]
    pub(crate) fn vol<M: MulAdd>(
        &self,
        atm: f64,
        level: f64,
        strike: f64,
        growth: f64,
        sqrt_tau: f64,
    ) -> f64 {
        let tau = sqrt_tau * sqrt_tau;
        let (theta, phi) = self.theta_phi::<M>(atm, tau);
        let k = ln::<M>(strike / (level * growth));
        let z = M::mul_add(phi, k, self.rho);
        let r = M::mul_add(z, z, 1.0 - self.rho * self.rho).sqrt();
        let w = 0.5 * theta * (M::mul_add(self.rho * phi, k, 1.0) + r);
        (w / tau).sqrt()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd_math::Separate;

    const SSVI: Ssvi = Ssvi { rho: -0.7, eta: 1.15, gamma: 0.5 };

    /// The SSVI vol written out from the paper with `powf`, independently of `Ssvi`.
    fn by_hand(s: &Ssvi, atm: f64, level: f64, strike: f64, growth: f64, tau: f64) -> f64 {
        let theta = atm * atm * tau;
        let phi = s.eta / (theta.powf(s.gamma) * (1.0 + theta).powf(1.0 - s.gamma));
        let k = (strike / (level * growth)).ln();
        let w =
            theta / 2.0 * (1.0 + s.rho * phi * k + ((phi * k + s.rho).powi(2) + 1.0 - s.rho * s.rho).sqrt());
        (w / tau).sqrt()
    }

    #[test]
    fn the_vol_is_the_papers_formula_and_atm_at_the_forward() {
        let (atm, level, growth, tau): (f64, f64, f64, f64) = (0.18, 4500.0, 1.002, 30.0 / 365.0);
        for strike in [3000.0, 4000.0, 4400.0, 4509.0, 4700.0, 5500.0] {
            let got = SSVI.vol::<Separate>(atm, level, strike, growth, tau.sqrt());
            let want = by_hand(&SSVI, atm, level, strike, growth, tau);
            assert!((got - want).abs() <= 1e-13 * want, "{strike}: {got} vs {want}");
            let (with_slopes, _, _) = SSVI.vol_and_slopes::<Separate>(atm, level, strike, growth, tau.sqrt());
            assert_eq!(got, with_slopes);
        }
        let at_forward = SSVI.vol::<Separate>(atm, level, level * growth, growth, tau.sqrt());
        assert!((at_forward - atm).abs() < 1e-14, "w(0) = theta: {at_forward}");
        let put = SSVI.vol::<Separate>(atm, level, 0.9 * level * growth, growth, tau.sqrt());
        let call = SSVI.vol::<Separate>(atm, level, 1.1 * level * growth, growth, tau.sqrt());
        assert!(put > atm && put > call, "rho < 0: a put skew ({put}, {atm}, {call})");
        let flat = Ssvi { eta: 0.0, ..SSVI };
        assert!((flat.vol::<Separate>(atm, level, 3000.0, growth, tau.sqrt()) - atm).abs() < 1e-15);
    }

    #[test]
    fn the_spot_slopes_match_finite_differences() {
        let (atm, strike, growth, tau): (f64, f64, f64, f64) = (0.22, 4300.0, 1.001, 12.0 / 365.0);
        for level in [3900.0, 4300.0, 4500.0, 4800.0] {
            let (_, slope, bend) = SSVI.vol_and_slopes::<Separate>(atm, level, strike, growth, tau.sqrt());
            let h = 1e-4 * level;
            let at = |s: f64| by_hand(&SSVI, atm, s, strike, growth, tau);
            let fd_slope = (at(level + h) - at(level - h)) / (2.0 * h);
            let fd_bend = (at(level + h) - 2.0 * at(level) + at(level - h)) / (h * h);
            assert!(
                (slope - fd_slope).abs() <= 1e-6 * fd_slope.abs().max(1e-9),
                "{level}: {slope} vs {fd_slope}"
            );
            assert!((bend - fd_bend).abs() <= 1e-4 * fd_bend.abs().max(1e-9), "{level}: {bend} vs {fd_bend}");
        }
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let cases = [
            (Ssvi { rho: 1.0, ..SSVI }, "smile.rho"),
            (Ssvi { rho: f64::NAN, ..SSVI }, "smile.rho"),
            (Ssvi { eta: -0.1, ..SSVI }, "smile.eta"),
            (Ssvi { eta: f64::INFINITY, ..SSVI }, "smile.eta"),
            (Ssvi { gamma: 0.0, ..SSVI }, "smile.gamma"),
            (Ssvi { gamma: 1.5, ..SSVI }, "smile.gamma"),
        ];
        for (smile, arg) in cases {
            let message = smile.check().unwrap_err().to_string();
            assert!(message.contains(arg), "{message}");
        }
        assert!(SSVI.check().is_ok());
    }
}
