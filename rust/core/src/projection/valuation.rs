//! Leg valuation on a day's paths: each leg's value (BSM on the SPX, Black-76 on the
//! leg's VIX future, the future itself) or its settlement on its expiry day, and the
//! per-path Greeks on the first paths, with the SPX vol from the VIX tables and the
//! dynamics' smile. Loops run over the paths of a block and are written to vectorize.

use super::{ProjectionInputs, VolDynamics, DAYS_PER_YEAR, GREEKS};
use crate::kernels::{option_price, option_values, Discounts};
use crate::legs::LegKind;
use crate::simd_math::{exp, MulAdd};

impl ProjectionInputs<'_> {
    /// The `n_nodes` values of table row `row` ((day - 1) * legs + leg).
    #[inline(always)]
    fn row<'t>(&self, table: &'t [f64], row: usize) -> &'t [f64] {
        &table[row * self.n_nodes..(row + 1) * self.n_nodes]
    }

    /// The VIX axis of the tables.
    pub(super) fn axis(&self) -> Axis {
        Axis { lo: self.vix_lo, inv_step: 1.0 / self.vix_step, last: (self.n_nodes - 1) as f64 }
    }
}

/// The VIX axis of the tables: node i at `lo + i / inv_step`, i in 0..=last.
#[derive(Clone, Copy)]
pub(super) struct Axis {
    lo: f64,
    inv_step: f64,
    last: f64,
}

impl Axis {
    /// Linear interpolation of `row` (one table row, `last + 1 >= 2` nodes) at `vix`,
    /// clamped to the axis. Branch-free and without bounds checks, so that the loops
    /// over paths vectorize (with gathers).
    #[inline(always)]
    fn interp(self, row: &[f64], vix: f64) -> f64 {
        // The position on the axis, clamped to [0, last - 2^-40] so that its floor is
        // at most last - 1 (the last interval takes the last node exactly: w = 1).
        let x = ((vix - self.lo) * self.inv_step).max(0.0).min(self.last);
        let below = x.min(self.last - 1.0).floor();
        // SAFETY: `below` is a whole number in [0, last - 1] (finite, and last < 2^31
        // since tables are checked to hold n_nodes entries per row), so the
        // conversion is exact; a plain `as` would be a saturating conversion that does
        // not vectorize.
        let i = unsafe { below.to_int_unchecked::<i32>() } as usize;
        let w = x - below;
        debug_assert!(row.len() >= 2 && i + 1 < row.len());
        // SAFETY: `check` guarantees n_nodes >= 2 and every row has n_nodes entries,
        // and i <= n_nodes - 2 by the clamp above, so i and i + 1 are in bounds.
        let (a, b) = unsafe { (*row.get_unchecked(i), *row.get_unchecked(i + 1)) };
        w * (b - a) + a
    }
}

/// Adds leg `l` (live or expiring today) on every path of a block: its value into
/// `value`, or its settlement into `settled` on its expiry day.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn add_leg<M: MulAdd>(
    inputs: &ProjectionInputs<'_>,
    axis: Axis,
    l: usize,
    row: usize,
    day_left: i64,
    spot: &[f64],
    vix: &[f64],
    value: &mut [f64],
    settled: &mut [f64],
) {
    let n = value.len();
    let (spot, vix, settled) = (&spot[..n], &vix[..n], &mut settled[..n]);
    let weight = inputs.weight[l];
    let strike = inputs.strike[l];
    let sign = if inputs.is_call[l] { 1.0 } else { -1.0 };
    let tau = day_left as f64 / DAYS_PER_YEAR;
    let (fa, fb) = (inputs.fut_a[row], inputs.fut_b[row]);
    let (rate, div) = (inputs.rate, inputs.div);
    match inputs.kind[l] {
        LegKind::VixFuture => {
            let target = if day_left == 0 { settled } else { value };
            for (t, v) in target.iter_mut().zip(vix) {
                *t += weight * M::mul_add(fb, *v, fa);
            }
        }
        LegKind::VixOption if day_left == 0 => {
            for (t, v) in settled.iter_mut().zip(vix) {
                *t += weight * (sign * (M::mul_add(fb, *v, fa) - strike)).max(0.0);
            }
        }
        LegKind::SpxOption if day_left == 0 => {
            for (t, x) in settled.iter_mut().zip(spot) {
                *t += weight * (sign * (x - strike)).max(0.0);
            }
        }
        LegKind::VixOption => {
            let vvol = inputs.row(inputs.table_vvol, row);
            let discounts = Discounts::new::<M>(tau, rate, rate);
            for i in 0..n {
                let f = M::mul_add(fb, vix[i], fa);
                let sigma = axis.interp(vvol, vix[i]);
                value[i] += weight * option_price::<M>(sign, f, strike, tau, rate, rate, sigma, discounts);
            }
        }
        LegKind::SpxOption => {
            let growth = exp::<M>((rate - div) * tau);
            let sqrt_tau = tau.sqrt();
            let atm_row = inputs.row(inputs.table_atm, row);
            let discounts = Discounts::new::<M>(tau, rate, div);
            match inputs.dynamics {
                VolDynamics::StickyMoneyness(smile) => {
                    for i in 0..n {
                        let atm = axis.interp(atm_row, vix[i]);
                        let sigma = smile.vol::<M>(atm, spot[i], strike, growth, sqrt_tau);
                        value[i] += weight
                            * option_price::<M>(sign, spot[i], strike, tau, rate, div, sigma, discounts);
                    }
                }
                VolDynamics::StickyMoneynessSvi(svi) => {
                    let smile = svi.leg(l);
                    for i in 0..n {
                        let atm = axis.interp(atm_row, vix[i]);
                        let sigma = smile.vol::<M>(atm, spot[i], strike, growth, sqrt_tau);
                        value[i] += weight
                            * option_price::<M>(sign, spot[i], strike, tau, rate, div, sigma, discounts);
                    }
                }
                VolDynamics::Additive { floor_ratio } => {
                    let base = inputs.base_vol[l];
                    let change_row = inputs.row(inputs.table_change, row);
                    for i in 0..n {
                        let atm = axis.interp(atm_row, vix[i]);
                        let sigma = (base + axis.interp(change_row, vix[i])).max(floor_ratio * atm);
                        value[i] += weight
                            * option_price::<M>(sign, spot[i], strike, tau, rate, div, sigma, discounts);
                    }
                }
            }
        }
    }
}

/// Adds live leg `l`'s Greeks on day `d` to the per-path accumulators `greeks`
/// (delta, gamma, vega, theta, vix_delta), over the paths of `spot`/`vix`: SPX delta
/// and gamma smile-adjusted under sticky moneyness (as the grid), VIX delta per point
/// of the leg's own future.
#[inline(always)]
pub(super) fn add_leg_greeks<M: MulAdd>(
    inputs: &ProjectionInputs<'_>,
    axis: Axis,
    l: usize,
    d: usize,
    spot: &[f64],
    vix: &[f64],
    greeks: &mut [Vec<f64>; GREEKS],
) {
    let n = spot.len();
    let vix = &vix[..n];
    let [delta, gamma, vega, theta, vix_delta] = greeks;
    let (delta, gamma, vega, theta, vix_delta) =
        (&mut delta[..n], &mut gamma[..n], &mut vega[..n], &mut theta[..n], &mut vix_delta[..n]);
    let legs = inputs.kind.len();
    let row = (d - 1) * legs + l;
    let (rate, div) = (inputs.rate, inputs.div);
    let weight = inputs.weight[l];
    let strike = inputs.strike[l];
    let sign = if inputs.is_call[l] { 1.0 } else { -1.0 };
    let tau = (inputs.expiry_day[l] - d as i64) as f64 / DAYS_PER_YEAR;
    match inputs.kind[l] {
        LegKind::VixFuture => {
            for x in vix_delta.iter_mut() {
                *x += weight;
            }
        }
        LegKind::VixOption => {
            let (fa, fb) = (inputs.fut_a[row], inputs.fut_b[row]);
            let vvol = inputs.row(inputs.table_vvol, row);
            let option = VixOptionGreeks { sign, strike, tau, rate, weight, fa, fb };
            option.add::<M>(vix, axis, vvol, vega, theta, vix_delta);
        }
        LegKind::SpxOption => {
            let growth = exp::<M>((rate - div) * tau);
            let sqrt_tau = tau.sqrt();
            let atm_row = inputs.row(inputs.table_atm, row);
            let spx = SpxGreeks { sign, strike, tau, rate, div, weight };
            // One loop per dynamics, the choice made outside it: with the match inside,
            // the loop did not vectorize (Greeks on 4 % of the paths took 20 % of the time).
            match inputs.dynamics {
                VolDynamics::StickyMoneyness(smile) => spx.add::<M>(
                    spot,
                    vix,
                    delta,
                    gamma,
                    vega,
                    theta,
                    |atm, level, _| smile.vol_and_slopes::<M>(atm, level, strike, growth, sqrt_tau),
                    axis,
                    atm_row,
                ),
                VolDynamics::StickyMoneynessSvi(svi) => {
                    let smile = svi.leg(l);
                    spx.add::<M>(
                        spot,
                        vix,
                        delta,
                        gamma,
                        vega,
                        theta,
                        |atm, level, _| smile.vol_and_slopes::<M>(atm, level, strike, growth, sqrt_tau),
                        axis,
                        atm_row,
                    )
                }
                VolDynamics::Additive { floor_ratio } => {
                    let change_row = inputs.row(inputs.table_change, row);
                    let base = inputs.base_vol[l];
                    spx.add::<M>(
                        spot,
                        vix,
                        delta,
                        gamma,
                        vega,
                        theta,
                        |atm, _, level| {
                            ((base + axis.interp(change_row, level)).max(floor_ratio * atm), 0.0, 0.0)
                        },
                        axis,
                        atm_row,
                    )
                }
            }
        }
    }
}

/// One live VIX option's contribution to the per-path Greeks.
struct VixOptionGreeks {
    sign: f64,
    strike: f64,
    tau: f64,
    rate: f64,
    weight: f64,
    /// Its future on the path: `fa + fb * vix`.
    fa: f64,
    fb: f64,
}

impl VixOptionGreeks {
    /// Adds its vega, theta and delta per point of its future on every path. The
    /// outputs are separate arguments (not one array of vectors) and the pricing is
    /// called in the loop itself (not through a closure, which was not inlined): either
    /// kept the loop from vectorizing.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn add<M: MulAdd>(
        &self,
        vix: &[f64],
        axis: Axis,
        vvol: &[f64],
        vega: &mut [f64],
        theta: &mut [f64],
        vix_delta: &mut [f64],
    ) {
        let n = vix.len();
        let (vega, theta, vix_delta) = (&mut vega[..n], &mut theta[..n], &mut vix_delta[..n]);
        let weight = self.weight;
        // In chunks: the futures and vols first (the table gathers), then the Greeks
        // from them; in one loop the compiler kept it scalar.
        const CHUNK: usize = 64;
        let (mut f, mut sigma) = ([0.0; CHUNK], [0.0; CHUNK]);
        for start in (0..n).step_by(CHUNK) {
            let m = CHUNK.min(n - start);
            let x = &vix[start..start + m];
            for j in 0..m {
                f[j] = M::mul_add(self.fb, x[j], self.fa);
                sigma[j] = axis.interp(vvol, x[j]);
            }
            let (vega, theta, vix_delta) =
                (&mut vega[start..start + m], &mut theta[start..start + m], &mut vix_delta[start..start + m]);
            for j in 0..m {
                let v = option_values::<M, true>(
                    self.sign,
                    f[j],
                    self.strike,
                    self.tau,
                    self.rate,
                    self.rate,
                    sigma[j],
                );
                vega[j] += weight * v[3];
                theta[j] += weight * v[4];
                vix_delta[j] += weight * v[1];
            }
        }
    }
}

/// One live SPX leg's contribution to the per-path Greeks.
struct SpxGreeks {
    sign: f64,
    strike: f64,
    tau: f64,
    rate: f64,
    div: f64,
    weight: f64,
}

impl SpxGreeks {
    /// Adds the leg's delta and gamma (smile-adjusted by the vol's spot slopes), vega
    /// and theta on every path; `vol(atm, spot, vix)` gives a path's `(sigma,
    /// dsigma/dS, d2sigma/dS2)` (values, not indices: a closure indexing a captured
    /// slice keeps a bounds check, and the loop then does not vectorize).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn add<M: MulAdd>(
        &self,
        spot: &[f64],
        vix: &[f64],
        delta: &mut [f64],
        gamma: &mut [f64],
        vega: &mut [f64],
        theta: &mut [f64],
        vol: impl Fn(f64, f64, f64) -> (f64, f64, f64),
        axis: Axis,
        atm_row: &[f64],
    ) {
        let n = spot.len();
        let (vix, delta, gamma, vega, theta) =
            (&vix[..n], &mut delta[..n], &mut gamma[..n], &mut vega[..n], &mut theta[..n]);
        let weight = self.weight;
        for i in 0..n {
            let (sigma, sigma_s, sigma_ss) = vol(axis.interp(atm_row, vix[i]), spot[i], vix[i]);
            let v = option_values::<M, false>(
                self.sign,
                spot[i],
                self.strike,
                self.tau,
                self.rate,
                self.div,
                sigma,
            );
            delta[i] += weight * M::mul_add(v[3], sigma_s, v[1]);
            let curve = M::mul_add(v[7] * sigma_s, sigma_s, v[3] * sigma_ss);
            gamma[i] += weight * (M::mul_add(2.0 * v[6], sigma_s, v[2]) + curve);
            vega[i] += weight * v[3];
            theta[i] += weight * v[4];
        }
    }
}
