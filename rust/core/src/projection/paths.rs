//! Path generation: the random streams (Philox4x32-10, Box-Muller), the daily step
//! of the SPX and the VIX on every path, the Brownian-bridge barrier touches, and the
//! tasks (one scenario, one block of paths) that run them, each valuing the book on
//! its paths day by day (`super::valuation`).

use super::valuation::{add_leg, add_leg_greeks};
use super::{ProjectionInputs, DAYS_PER_YEAR, GREEKS, TOUCH_KINDS};
use crate::simd_math::{exp, ln, sin_cos_two_pi, MulAdd};
use rand_philox::philox4x32_10;
use rayon::prelude::*;

/// Paths per task: enough to amortize the per-day set-up of a leg, small enough
/// that a scenario splits over many tasks.
const BLOCK: usize = 1024;
/// The VIX is kept in [1, 150] points on the paths (as natural logs): the coupling of
/// the SPX diffusion vol to the VIX (0.9 VIX / 100) and of ln VIX to the SPX return
/// (beta ~ -8) feeds back on itself, and a daily-step path in the far tail can run
/// away to infinity. 150 is above the VIX's highest close (82.69, 16 March 2020).
pub const LN_VIX_MIN: f64 = 0.0;
pub const LN_VIX_MAX: f64 = 5.010_635_294_096_255_5; // ln 150

/// Two uniforms on (0, 1) from the four words of a Philox block (53 bits each).
#[inline(always)]
fn uniforms(w: [u32; 4]) -> (f64, f64) {
    const SCALE: f64 = 1.0 / 9_007_199_254_740_992.0; // 2^-53
    let a = ((u64::from(w[0]) << 32) | u64::from(w[1])) >> 11;
    let b = ((u64::from(w[2]) << 32) | u64::from(w[3])) >> 11;
    ((a as f64 + 0.5) * SCALE, (b as f64 + 0.5) * SCALE)
}

/// Two standard normals (Box-Muller) for path `p`, scenario `s`, day `d`, block `block`.
#[inline(always)]
fn normals<M: MulAdd>(key: [u32; 2], p: usize, s: usize, d: usize, block: u32) -> (f64, f64) {
    let words = philox4x32_10([p as u32, s as u32, d as u32, block], key);
    let (ua, ub) = uniforms(words);
    let r = (-2.0 * ln::<M>(ua)).sqrt();
    let (sin, cos) = sin_cos_two_pi::<M>(ub);
    (r * cos, r * sin)
}

/// The sums one task (scenario, block of paths) produces; its paths' P&L, spot and
/// VIX go straight into the output cubes through [`TaskRows`].
pub(super) struct TaskOut {
    pub(super) scenario: usize,
    /// (day, kind) sums and sums of squares.
    pub(super) touch_sum: Vec<f64>,
    pub(super) touch_sumsq: Vec<f64>,
    pub(super) greek_sum: Vec<f64>,
    pub(super) greek_sumsq: Vec<f64>,
}

/// A task's share of the output cubes: for each day, its block of paths.
struct TaskRows<'a> {
    pnl: Vec<&'a mut [f64]>,
    spot: Option<Vec<&'a mut [f64]>>,
    vix: Option<Vec<&'a mut [f64]>>,
}

/// Cuts a cube (scenario, day, path) into each task's per-day blocks, tasks in order
/// (scenario, block): disjoint mutable slices, so tasks write their rows in parallel.
fn task_rows(cube: &mut [f64], days: usize, paths: usize) -> Vec<Vec<&mut [f64]>> {
    let blocks = paths.div_ceil(BLOCK);
    let scenarios = cube.len() / (days * paths);
    let mut tasks: Vec<Vec<&mut [f64]>> = (0..scenarios * blocks).map(|_| Vec::with_capacity(days)).collect();
    for (row, values) in cube.chunks_mut(paths).enumerate() {
        let s = row / days;
        for (b, block) in values.chunks_mut(BLOCK).enumerate() {
            tasks[s * blocks + b].push(block);
        }
    }
    tasks
}

/// Bridge probability that a diffusion with vol `sigma` over `dt` touched the barrier
/// `b` between the log-distances `x0 = ln(S0/b)` and `x1 = ln(S1/b)`: 1 when a close
/// is at or beyond it.
#[inline(always)]
fn bridge<M: MulAdd>(x0: f64, x1: f64, variance: f64, lower: bool) -> f64 {
    let beyond = if lower { x0.min(x1) <= 0.0 } else { x0.max(x1) >= 0.0 };
    // exp(-2 x0 x1 / variance), x0 x1 > 0 when both closes are on the same side; a
    // zero variance (no diffusion) gives exp(-inf) = 0 (`exp` clamps its argument).
    let p = exp::<M>(-2.0 * x0 * x1 / variance);
    if beyond {
        1.0
    } else {
        p.min(1.0)
    }
}

/// Cuts the output cubes into tasks of one scenario and a block of paths, by index,
/// and runs them (in parallel when allowed): each task writes its own rows of the
/// cubes and returns its sums, in task order.
pub(super) fn run_tasks(
    inputs: &ProjectionInputs<'_>,
    pnl: &mut [f64],
    spot: Option<&mut [f64]>,
    vix: Option<&mut [f64]>,
) -> Vec<TaskOut> {
    let (h, paths) = (inputs.days, inputs.paths);
    let mut spot_rows = spot.map(|x| task_rows(x, h, paths).into_iter());
    let mut vix_rows = vix.map(|x| task_rows(x, h, paths).into_iter());
    let mut tasks = Vec::new();
    for (index, pnl_rows) in task_rows(pnl, h, paths).into_iter().enumerate() {
        let (s, first) = (index / paths.div_ceil(BLOCK), (index % paths.div_ceil(BLOCK)) * BLOCK);
        let rows = TaskRows {
            pnl: pnl_rows,
            spot: spot_rows.as_mut().and_then(Iterator::next),
            vix: vix_rows.as_mut().and_then(Iterator::next),
        };
        tasks.push((s, first, BLOCK.min(paths - first), rows));
    }
    let run = |(s, first, count, mut rows): (usize, usize, usize, TaskRows<'_>)| {
        run_task(inputs, s, first, count, &mut rows)
    };
    if crate::parallel_allowed() && tasks.len() > 1 {
        tasks.into_par_iter().map(run).collect()
    } else {
        tasks.into_iter().map(run).collect()
    }
}

simd_dispatch! {
    /// One task: `count` paths of scenario `s` from path `first`, every day.
    fn run_task(inputs: &ProjectionInputs<'_>, s: usize, first: usize, count: usize, rows: &mut TaskRows<'_>) -> TaskOut {
        let h = inputs.days;
        let legs = inputs.kind.len();
        let key = [inputs.seed as u32, (inputs.seed >> 32) as u32];
        let stream = inputs.scenario_offset + s;
        let axis = inputs.axis();
        let dt = 1.0 / DAYS_PER_YEAR;
        let sqrt_dt = dt.sqrt();
        let mut spot = vec![inputs.spot; count];
        let mut vix = vec![inputs.vix; count];
        let mut settled = vec![0.0; count];
        let mut value = vec![0.0; count];
        let mut survive = [vec![1.0; count], vec![1.0; count], vec![1.0; count]];
        let [mut z1, mut z2, mut j1, mut j2] = [0; 4].map(|_| vec![0.0; count]);
        let [mut ln_s0, mut ln_s1, mut var, mut p_low, mut p_high] = [0; 5].map(|_| vec![0.0; count]);
        let greek_count = inputs.greek_paths.saturating_sub(first).min(count);
        let mut greeks: [Vec<f64>; GREEKS] = [0; GREEKS].map(|_| vec![0.0; greek_count]);
        let mut out = TaskOut {
            scenario: s,
            touch_sum: vec![0.0; h * TOUCH_KINDS],
            touch_sumsq: vec![0.0; h * TOUCH_KINDS],
            greek_sum: vec![0.0; h * GREEKS],
            greek_sumsq: vec![0.0; h * GREEKS],
        };
        let (drift, vol_given) = (inputs.drift[s], inputs.diffusion_vol[s]);
        let from_vix = vol_given.is_nan();
        let (beta, vol_of_vix) = (inputs.vix_beta[s], inputs.vol_of_vix[s]);
        let (kappa, ln_theta) = (inputs.vix_kappa[s], inputs.vix_theta[s].ln());
        let (low, high) = (inputs.barrier_low, inputs.barrier_high);
        let (has_low, has_high) = (!low.is_nan(), !high.is_nan());
        let (ln_low, ln_high) = (if has_low { low.ln() } else { 0.0 }, if has_high { high.ln() } else { 0.0 });
        let ratio = inputs.atm_vix_ratio / 100.0;
        for d in 1..=h {
            let sd = s * h + (d - 1);
            let (jm, js) = (inputs.jump_mean[sd], inputs.jump_std[sd]);
            let (vjm, vjs) = (inputs.vix_jump_mean[sd], inputs.vix_jump_std[sd]);
            let event = js > 0.0 || vjs > 0.0;
            // -- one step of every path, in simple loops that vectorize: the normals,
            // the state, then each barrier.
            {
                let (z1, z2) = (&mut z1[..count], &mut z2[..count]);
                for i in 0..count {
                    (z1[i], z2[i]) = normals::<M>(key, first + i, stream, d, 0);
                }
                let (j1, j2) = (&mut j1[..count], &mut j2[..count]);
                if event {
                    for i in 0..count {
                        (j1[i], j2[i]) = normals::<M>(key, first + i, stream, d, 1);
                    }
                } else {
                    j1.fill(0.0);
                    j2.fill(0.0);
                }
                let (spot, vix, value) = (&mut spot[..count], &mut vix[..count], &mut value[..count]);
                let (ln_s0, ln_s1, var) = (&mut ln_s0[..count], &mut ln_s1[..count], &mut var[..count]);
                for i in 0..count {
                    let v = vix[i];
                    let sigma = if from_vix { ratio * v } else { vol_given };
                    // The diffusion return, drift included: ln VIX follows it through
                    // `vix_beta` (docs/scenarios.md), so a falling-market scenario lifts
                    // the expected VIX path. Jumps move the VIX through their own terms.
                    let r_diff = (drift - 0.5 * sigma * sigma) * dt + sigma * sqrt_dt * z1[i];
                    let r = r_diff + M::mul_add(js, j1[i], jm);
                    let ln_v = ln::<M>(v);
                    let ln_next = ln_v
                        + kappa * (ln_theta - ln_v) * dt
                        + beta * r_diff
                        + vol_of_vix * sqrt_dt * z2[i]
                        + M::mul_add(vjs, j2[i], vjm);
                    let before = ln::<M>(spot[i]);
                    ln_s0[i] = before;
                    ln_s1[i] = before + r;
                    var[i] = sigma * sigma * dt;
                    spot[i] *= exp::<M>(r);
                    vix[i] = exp::<M>(ln_next.clamp(LN_VIX_MIN, LN_VIX_MAX));
                    value[i] = 0.0;
                }
                // Touches: the Brownian bridge between the closes (log distances).
                let [surv_low, surv_high, surv_any] = &mut survive;
                let (surv_low, surv_high, surv_any) =
                    (&mut surv_low[..count], &mut surv_high[..count], &mut surv_any[..count]);
                let (p_low, p_high) = (&mut p_low[..count], &mut p_high[..count]);
                p_low.fill(0.0);
                p_high.fill(0.0);
                if has_low {
                    for i in 0..count {
                        p_low[i] = bridge::<M>(ln_s0[i] - ln_low, ln_s1[i] - ln_low, var[i], true);
                    }
                }
                if has_high {
                    for i in 0..count {
                        p_high[i] = bridge::<M>(ln_s0[i] - ln_high, ln_s1[i] - ln_high, var[i], false);
                    }
                }
                for i in 0..count {
                    surv_low[i] *= 1.0 - p_low[i];
                    surv_high[i] *= 1.0 - p_high[i];
                    surv_any[i] *= (1.0 - p_low[i]) * (1.0 - p_high[i]);
                }
            }
            // -- the book on this day (before the first valued day, only settlements)
            let valued = d >= inputs.first_valued_day;
            for l in 0..legs {
                let row = (d - 1) * legs + l;
                let day_left = inputs.expiry_day[l] - d as i64;
                if day_left < 0 || (day_left > 0 && !valued) {
                    continue; // settled earlier (its cash is in `settled`), or not valued today
                }
                add_leg::<M>(inputs, axis, l, row, day_left, &spot, &vix, &mut value, &mut settled);
            }
            // -- Greeks on the first paths
            if greek_count > 0 && valued {
                for g in greeks.iter_mut() {
                    g[..greek_count].fill(0.0);
                }
                for l in 0..legs {
                    if inputs.expiry_day[l] > d as i64 {
                        add_leg_greeks::<M>(inputs, axis, l, d, &spot[..greek_count], &vix[..greek_count], &mut greeks);
                    }
                }
                for (k, g) in greeks.iter().enumerate() {
                    let (mut sum, mut sumsq) = (0.0, 0.0);
                    for &x in &g[..greek_count] {
                        sum += x;
                        sumsq += x * x;
                    }
                    out.greek_sum[(d - 1) * GREEKS + k] = sum;
                    out.greek_sumsq[(d - 1) * GREEKS + k] = sumsq;
                }
            }
            // -- record
            for ((o, v), c) in rows.pnl[d - 1].iter_mut().zip(&value).zip(&settled) {
                *o = v + c - inputs.base_value;
            }
            if let Some(spot_rows) = rows.spot.as_mut() {
                spot_rows[d - 1].copy_from_slice(&spot);
            }
            if let Some(vix_rows) = rows.vix.as_mut() {
                vix_rows[d - 1].copy_from_slice(&vix);
            }
            for (k, kept) in survive.iter().enumerate() {
                let (mut sum, mut sumsq) = (0.0, 0.0);
                for &q in kept.iter() {
                    let touched = 1.0 - q;
                    sum += touched;
                    sumsq += touched * touched;
                }
                out.touch_sum[(d - 1) * TOUCH_KINDS + k] = sum;
                out.touch_sumsq[(d - 1) * TOUCH_KINDS + k] = sumsq;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniforms_are_in_the_unit_interval_and_normals_are_standard() {
        let key = [7, 9];
        let (mut sum, mut sumsq) = (0.0, 0.0);
        let n = 200_000;
        for p in 0..n {
            let (u, v) = uniforms(philox4x32_10([p as u32, 0, 1, 0], key));
            assert!(u > 0.0 && u <= 1.0 && v > 0.0 && v <= 1.0);
            let (a, b) = normals::<crate::simd_math::Separate>(key, p, 0, 1, 0);
            sum += a + b;
            sumsq += a * a + b * b;
        }
        let mean = sum / (2 * n) as f64;
        let var = sumsq / (2 * n) as f64 - mean * mean;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.01, "{mean} {var}");
    }
}
