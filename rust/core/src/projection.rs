//! The Monte Carlo projection: the position revalued on every path and day of an
//! SPX/VIX simulation, per scenario (docs/projection_engine.md is the contract,
//! shared with the numpy fallback).
//!
//! Work is cut into tasks of one scenario and a block of paths, by index, so the
//! numbers do not depend on the thread count: each path's random words come from
//! Philox4x32-10 keyed by the seed with the counter (path, scenario, day, block),
//! and the per-task sums are added in task order.

use crate::error::{AlvhError, Result};
use crate::grid::LegKind;
use crate::kernels::{check_lengths, option_price, option_values, Discounts};
use crate::simd_math::{exp, ln, sin_cos_two_pi, MulAdd};
use crate::smile::{Smile, SviSmiles};
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

/// Calendar days per year (ACT/365).
const DAYS_PER_YEAR: f64 = 365.0;
/// Touch outputs per (scenario, day): lower barrier, upper barrier, either.
pub const TOUCH_KINDS: usize = 3;
/// Greek outputs per (scenario, day): delta, gamma, vega, theta, vix_delta.
pub const GREEKS: usize = 5;

/// How the SPX vol of a strike follows the simulated VIX and spot.
#[derive(Clone, Copy, Debug)]
pub enum VolDynamics<'a> {
    /// The smile around the tabulated ATM vol, in standardized moneyness at the
    /// path's forward (it moves with the spot).
    StickyMoneyness(Smile),
    /// The same with each SPX leg's own SVI slice (`crate::smile::SviSmiles`).
    StickyMoneynessSvi(SviSmiles<'a>),
    /// `max(base_vol + tabulated change, floor_ratio * atm)`: sticky strike or parallel.
    Additive { floor_ratio: f64 },
}

/// Everything the kernel reads. Per-(scenario, day) arrays are indexed
/// `s * days + (d - 1)`; tables `((d - 1) * legs + l) * n_nodes + i`; futures
/// coefficients `(d - 1) * legs + l`.
pub struct ProjectionInputs<'a> {
    pub kind: &'a [LegKind],
    pub is_call: &'a [bool],
    pub strike: &'a [f64],
    pub weight: &'a [f64],
    pub expiry_day: &'a [i64],
    pub spot: f64,
    pub rate: f64,
    pub div: f64,
    pub vix: f64,
    pub base_value: f64,
    pub drift: &'a [f64],
    pub diffusion_vol: &'a [f64],
    pub vix_beta: &'a [f64],
    pub vol_of_vix: &'a [f64],
    pub vix_kappa: &'a [f64],
    pub vix_theta: &'a [f64],
    pub atm_vix_ratio: f64,
    pub jump_mean: &'a [f64],
    pub jump_std: &'a [f64],
    pub vix_jump_mean: &'a [f64],
    pub vix_jump_std: &'a [f64],
    pub days: usize,
    pub paths: usize,
    pub seed: u64,
    pub greek_paths: usize,
    pub vix_lo: f64,
    pub vix_step: f64,
    pub n_nodes: usize,
    pub table_atm: &'a [f64],
    pub table_change: &'a [f64],
    pub table_vvol: &'a [f64],
    pub fut_a: &'a [f64],
    pub fut_b: &'a [f64],
    pub dynamics: VolDynamics<'a>,
    pub base_vol: &'a [f64],
    pub barrier_low: f64,
    pub barrier_high: f64,
    /// The scenario number of row 0 in the random streams' counters: running the
    /// scenarios one call at a time with offsets 0, 1, ... gives the numbers of one
    /// call with all of them.
    pub scenario_offset: usize,
    /// The first day (1..=days) the book is valued on: before it the paths are
    /// simulated but only settlements of expiring legs are booked, and the P&L rows hold
    /// `settled - base_value`, not the P&L, and the Greek sums are 0. 1 values every
    /// day; `days` values the horizon only (a decision's time-shift check).
    pub first_valued_day: usize,
}

/// Output arrays; `spot` and `vix` (optional) record the paths, like `pnl`
/// indexed `(s * days + d - 1) * paths + p`.
pub struct ProjectionOut<'a> {
    pub pnl: &'a mut [f64],
    pub touch_sum: &'a mut [f64],
    pub touch_sumsq: &'a mut [f64],
    pub greek_sum: &'a mut [f64],
    pub greek_sumsq: &'a mut [f64],
    pub spot: Option<&'a mut [f64]>,
    pub vix: Option<&'a mut [f64]>,
}

fn check_all(
    arg: &'static str,
    values: &[f64],
    ok: impl Fn(f64) -> bool,
    requirement: &'static str,
) -> Result<()> {
    match values.iter().position(|&x| !ok(x)) {
        Some(i) => Err(AlvhError::invalid(arg, i, values[i], requirement)),
        None => Ok(()),
    }
}

impl ProjectionInputs<'_> {
    fn check(&self) -> Result<()> {
        let legs = self.kind.len();
        let per_leg = [
            ("is_call", Some(self.is_call.len())),
            ("strike", Some(self.strike.len())),
            ("weight", Some(self.weight.len())),
            ("expiry_day", Some(self.expiry_day.len())),
            ("base_vol", Some(self.base_vol.len())),
        ];
        check_lengths(legs, &per_leg)?;
        if let VolDynamics::StickyMoneynessSvi(svi) = self.dynamics {
            svi.check(self.kind)?;
        }
        let scenarios = self.drift.len();
        check_lengths(
            scenarios,
            &[
                ("diffusion_vol", Some(self.diffusion_vol.len())),
                ("vix_beta", Some(self.vix_beta.len())),
                ("vol_of_vix", Some(self.vol_of_vix.len())),
                ("vix_kappa", Some(self.vix_kappa.len())),
                ("vix_theta", Some(self.vix_theta.len())),
            ],
        )?;
        let h = self.days;
        check_lengths(
            scenarios * h,
            &[
                ("jump_mean", Some(self.jump_mean.len())),
                ("jump_std", Some(self.jump_std.len())),
                ("vix_jump_mean", Some(self.vix_jump_mean.len())),
                ("vix_jump_std", Some(self.vix_jump_std.len())),
            ],
        )?;
        check_lengths(
            h * legs * self.n_nodes,
            &[
                ("table_atm", Some(self.table_atm.len())),
                ("table_change", Some(self.table_change.len())),
                ("table_vvol", Some(self.table_vvol.len())),
            ],
        )?;
        check_lengths(h * legs, &[("fut_a", Some(self.fut_a.len())), ("fut_b", Some(self.fut_b.len()))])?;
        let positive = |x: f64| x > 0.0 && x.is_finite();
        let finite = |x: f64| x.is_finite();
        let non_negative = |x: f64| x >= 0.0 && x.is_finite();
        for (arg, x) in [("spot", self.spot), ("vix", self.vix), ("vix_step", self.vix_step)] {
            if !positive(x) {
                return Err(AlvhError::invalid(arg, 0, x, "positive and finite"));
            }
        }
        for (arg, x) in [
            ("rate", self.rate),
            ("div", self.div),
            ("base_value", self.base_value),
            ("vix_lo", self.vix_lo),
            ("atm_vix_ratio", self.atm_vix_ratio),
        ] {
            if !finite(x) {
                return Err(AlvhError::invalid(arg, 0, x, "finite"));
            }
        }
        if !(1..=366).contains(&h) {
            return Err(AlvhError::invalid("days", 0, h as f64, "between 1 and 366"));
        }
        if self.paths == 0 || self.paths > u32::MAX as usize {
            return Err(AlvhError::invalid("paths", 0, self.paths as f64, "between 1 and 2**32 - 1"));
        }
        if self.scenario_offset + self.drift.len() > u32::MAX as usize {
            return Err(AlvhError::invalid(
                "scenario_offset",
                0,
                self.scenario_offset as f64,
                "below 2**32 - scenarios",
            ));
        }
        if !(1..=h).contains(&self.first_valued_day) {
            return Err(AlvhError::invalid(
                "first_valued_day",
                0,
                self.first_valued_day as f64,
                "between 1 and days",
            ));
        }
        if self.greek_paths > self.paths {
            return Err(AlvhError::invalid("greek_paths", 0, self.greek_paths as f64, "at most paths"));
        }
        if self.n_nodes < 2 || self.n_nodes > i32::MAX as usize {
            return Err(AlvhError::invalid("n_nodes", 0, self.n_nodes as f64, "between 2 and 2**31 - 1"));
        }
        check_all("drift", self.drift, finite, "finite")?;
        check_all(
            "diffusion_vol",
            self.diffusion_vol,
            |x| x.is_nan() || non_negative(x),
            "NaN (from the VIX) or >= 0",
        )?;
        check_all("vix_beta", self.vix_beta, finite, "finite")?;
        check_all("vol_of_vix", self.vol_of_vix, non_negative, "zero or positive")?;
        check_all("vix_kappa", self.vix_kappa, non_negative, "zero or positive")?;
        check_all("vix_theta", self.vix_theta, positive, "positive (VIX points)")?;
        check_all("jump_mean", self.jump_mean, finite, "finite")?;
        check_all("jump_std", self.jump_std, non_negative, "zero or positive")?;
        check_all("vix_jump_mean", self.vix_jump_mean, finite, "finite")?;
        check_all("vix_jump_std", self.vix_jump_std, non_negative, "zero or positive")?;
        check_all("table_atm", self.table_atm, |x| x.is_finite() && x >= 0.0, "finite and >= 0")?;
        check_all("table_change", self.table_change, finite, "finite")?;
        check_all("table_vvol", self.table_vvol, |x| x.is_finite() && x >= 0.0, "finite and >= 0")?;
        check_all("fut_a", self.fut_a, finite, "finite")?;
        check_all("fut_b", self.fut_b, finite, "finite")?;
        check_all("weight", self.weight, finite, "finite")?;
        check_all("base_vol", self.base_vol, finite, "finite")?;
        for (l, &kind) in self.kind.iter().enumerate() {
            if kind != LegKind::VixFuture && !positive(self.strike[l]) {
                return Err(AlvhError::invalid("strike", l, self.strike[l], "positive and finite"));
            }
            if self.expiry_day[l] < 1 {
                return Err(AlvhError::invalid(
                    "expiry_day",
                    l,
                    self.expiry_day[l] as f64,
                    "at least 1 (a live leg)",
                ));
            }
        }
        for (arg, x) in [("barrier_low", self.barrier_low), ("barrier_high", self.barrier_high)] {
            if !(x.is_nan() || positive(x)) {
                return Err(AlvhError::invalid(arg, 0, x, "NaN (none) or positive"));
            }
        }
        Ok(())
    }

    /// The `n_nodes` values of table row `row` ((day - 1) * legs + leg).
    #[inline(always)]
    fn row<'t>(&self, table: &'t [f64], row: usize) -> &'t [f64] {
        &table[row * self.n_nodes..(row + 1) * self.n_nodes]
    }

    fn axis(&self) -> Axis {
        Axis { lo: self.vix_lo, inv_step: 1.0 / self.vix_step, last: (self.n_nodes - 1) as f64 }
    }
}

/// The VIX axis of the tables: node i at `lo + i / inv_step`, i in 0..=last.
#[derive(Clone, Copy)]
struct Axis {
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
struct TaskOut {
    scenario: usize,
    /// (day, kind) sums and sums of squares.
    touch_sum: Vec<f64>,
    touch_sumsq: Vec<f64>,
    greek_sum: Vec<f64>,
    greek_sumsq: Vec<f64>,
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
                    let e = sigma * sqrt_dt * z1[i];
                    let r = (drift - 0.5 * sigma * sigma) * dt + e + M::mul_add(js, j1[i], jm);
                    let ln_v = ln::<M>(v);
                    let ln_next = ln_v
                        + kappa * (ln_theta - ln_v) * dt
                        + beta * e
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

/// Adds leg `l` (live or expiring today) on every path of a block: its value into
/// `value`, or its settlement into `settled` on its expiry day.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn add_leg<M: MulAdd>(
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
fn add_leg_greeks<M: MulAdd>(
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

/// Runs the projection into `out` (see the module doc and docs/projection_engine.md).
pub fn monte_carlo(inputs: &ProjectionInputs<'_>, out: ProjectionOut<'_>) -> Result<()> {
    inputs.check()?;
    let (s_count, h, paths) = (inputs.drift.len(), inputs.days, inputs.paths);
    let cube = s_count * h * paths;
    check_lengths(
        cube,
        &[
            ("out.pnl", Some(out.pnl.len())),
            ("out.spot", out.spot.as_ref().map(|x| x.len())),
            ("out.vix", out.vix.as_ref().map(|x| x.len())),
        ],
    )?;
    check_lengths(
        s_count * h * TOUCH_KINDS,
        &[("out.touch_sum", Some(out.touch_sum.len())), ("out.touch_sumsq", Some(out.touch_sumsq.len()))],
    )?;
    check_lengths(
        s_count * h * GREEKS,
        &[("out.greek_sum", Some(out.greek_sum.len())), ("out.greek_sumsq", Some(out.greek_sumsq.len()))],
    )?;
    let ProjectionOut { pnl, touch_sum, touch_sumsq, greek_sum, greek_sumsq, spot, vix } = out;
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
    let results: Vec<TaskOut> = if crate::parallel_allowed() && tasks.len() > 1 {
        tasks.into_par_iter().map(run).collect()
    } else {
        tasks.into_iter().map(run).collect()
    };
    for x in [&mut *touch_sum, &mut *touch_sumsq, &mut *greek_sum, &mut *greek_sumsq] {
        x.fill(0.0);
    }
    // Sums in task order: the same numbers whatever the thread count.
    for task in &results {
        for d in 0..h {
            for k in 0..TOUCH_KINDS {
                let o = (task.scenario * h + d) * TOUCH_KINDS + k;
                touch_sum[o] += task.touch_sum[d * TOUCH_KINDS + k];
                touch_sumsq[o] += task.touch_sumsq[d * TOUCH_KINDS + k];
            }
            for k in 0..GREEKS {
                let o = (task.scenario * h + d) * GREEKS + k;
                greek_sum[o] += task.greek_sum[d * GREEKS + k];
                greek_sumsq[o] += task.greek_sumsq[d * GREEKS + k];
            }
        }
    }
    Ok(())
}

/// Quantile levels of [`pnl_statistics`], in percent.
pub const QUANTILES: [u64; 7] = [1, 5, 25, 50, 75, 95, 99];
/// Statistics per column: mean, std, 7 quantiles, VaR 95/99, CVaR 95/99, P(profit),
/// then the Monte Carlo standard errors of the 7 quantiles and of CVaR 95/99.
pub const STATS: usize = 2 + QUANTILES.len() + 5 + QUANTILES.len() + 2;
/// Where the standard errors start in a statistics row.
const SE_AT: usize = 2 + QUANTILES.len() + 5;

/// `(mean, variance)` over all `n` samples of `U = max(v - x, 0)`: the shortfall below
/// the VaR point `v` (only the sorted `x < v` contribute).
fn shortfall_moments(sorted: &[f64], v: f64) -> (f64, f64) {
    let n = sorted.len() as f64;
    let below = sorted.partition_point(|&x| x < v);
    let (mut sum, mut sumsq) = (0.0, 0.0);
    for &x in &sorted[..below] {
        let u = v - x;
        sum += u;
        sumsq += u * u;
    }
    let mean = sum / n;
    (mean, (sumsq / n - mean * mean).max(0.0))
}
/// Tail masses of VaR/CVaR 95 and 99, in percent.
const TAILS: [u64; 2] = [5, 1];

/// Statistics of one scenario's sorted sample (equal weights), ranks in integers:
/// quantile q % is `sorted[ceil(q P / 100) - 1]`; the CVaR tail of mass m % takes
/// `floor(m P / 100)` samples whole and the next one for the remaining fraction.
fn column_stats(sorted: &[f64]) -> [f64; STATS] {
    let n = sorted.len() as u64;
    let mut out = [0.0; STATS];
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let var = sorted.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
    out[0] = mean;
    out[1] = var.sqrt();
    let quantile = |pct: u64| sorted[(((pct * n).div_ceil(100)).max(1) - 1) as usize];
    for (k, &q) in QUANTILES.iter().enumerate() {
        out[2 + k] = quantile(q);
    }
    let at = 2 + QUANTILES.len();
    for (k, &m) in TAILS.iter().enumerate() {
        out[at + k] = -quantile(m);
        let whole = (m * n / 100) as usize;
        let fraction = (m * n % 100) as f64 / 100.0;
        let mut sum: f64 = sorted[..whole].iter().sum();
        if whole < sorted.len() {
            sum += fraction * sorted[whole];
        }
        out[at + 2 + k] = -sum / (m as f64 * n as f64 / 100.0);
    }
    let losing = sorted.partition_point(|&x| x <= 0.0);
    out[at + 4] = (sorted.len() - losing) as f64 / n as f64;
    // Standard errors. A quantile's: half the distance between the quantiles at
    // q -+ sqrt(q (1 - q) / n), the order statistics one standard error of the
    // empirical CDF away (distribution-free, no density estimate). CVaR's:
    // sqrt(Var(U) / n) / m with U = max(VaR point - x, 0) (Rockafellar-Uryasev's
    // representation; the same as Manistre and Hancock's 2005 formula).
    let nf = n as f64;
    let at_probability = |p: f64| sorted[((p * nf).ceil().clamp(1.0, nf) as usize) - 1];
    for (k, &q) in QUANTILES.iter().enumerate() {
        let q = q as f64 / 100.0;
        let z = (q * (1.0 - q) / nf).sqrt();
        out[SE_AT + k] = 0.5 * (at_probability(q + z) - at_probability(q - z));
    }
    for (k, &m) in TAILS.iter().enumerate() {
        let (_, var_u) = shortfall_moments(sorted, quantile(m));
        out[SE_AT + QUANTILES.len() + k] = (var_u / nf).sqrt() / (m as f64 / 100.0);
    }
    out
}

/// A finite float's place in the total order of floats, as an integer.
#[inline]
fn order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The float at an [`order_key`].
#[inline]
fn from_order_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 { key & !(1 << 63) } else { !key })
}

/// Statistics of the probability-weighted mixture of sorted columns (`weights` sum
/// to 1): mean and std by the law of total variance, P(profit) as the weighted sum
/// of the columns'; quantiles by the inverted CDF `F(x) = sum_s w_s #{col_s <= x} / P`
/// (the smallest sample with `F >= q`, found by binary search in each column), CVaR
/// as the expected value over the worst mass m with the boundary value counted for
/// the mass left. Exact and independent of any summation order of the samples.
fn mixture_stats(columns: &[&[f64]], weights: &[f64], column_stats: &[[f64; STATS]]) -> [f64; STATS] {
    let mut out = [0.0; STATS];
    let at = 2 + QUANTILES.len();
    let mean: f64 = weights.iter().zip(column_stats).map(|(w, c)| w * c[0]).sum();
    let second: f64 = weights.iter().zip(column_stats).map(|(w, c)| w * (c[1] * c[1] + c[0] * c[0])).sum();
    out[0] = mean;
    out[1] = (second - mean * mean).max(0.0).sqrt();
    out[at + 4] = weights.iter().zip(column_stats).map(|(w, c)| w * c[at + 4]).sum();
    let below = |x: f64| -> (f64, f64) {
        // (mass strictly below x, weighted sum of the values strictly below x)
        columns.iter().zip(weights).fold((0.0, 0.0), |(mass, sum), (c, w)| {
            let k = c.partition_point(|&y| y < x);
            let scale = w / c.len() as f64;
            (mass + scale * k as f64, sum + scale * c[..k].iter().sum::<f64>())
        })
    };
    let lowest = columns.iter().map(|c| c[0]).fold(f64::INFINITY, f64::min);
    let highest = columns.iter().map(|c| c[c.len() - 1]).fold(f64::NEG_INFINITY, f64::max);
    // The mixture CDF F from each column's count of samples <= x.
    let mass = |counts: &[usize]| -> f64 {
        counts.iter().zip(columns).zip(weights).map(|((&k, c), w)| w * k as f64 / c.len() as f64).sum()
    };
    // The smallest sample with F >= q (infinity if none): a bisection on the floats'
    // total order (their bits as ordered integers) between the smallest and largest
    // samples. F steps only at samples, so it ends on one. Each column's count is kept
    // bracketed between the two ends, so a step searches only the part of a column
    // still in play: O(S (64 + log P)) probes, where searching every column for its
    // first sample with F >= q took O(S^2 log^2 P) (most of the time of the
    // statistics for the 2,000-path projections of a decision).
    let quantile = |q: f64| -> f64 {
        if q <= 0.0 {
            return lowest;
        }
        let mut high_counts: Vec<usize> = columns.iter().map(|c| c.len()).collect();
        if mass(&high_counts) < q {
            return f64::INFINITY;
        }
        let mut low_counts = vec![0usize; columns.len()];
        let (mut low, mut high) = (order_key(lowest) - 1, order_key(highest));
        let mut counts = vec![0usize; columns.len()];
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            let x = from_order_key(mid);
            for (k, c) in columns.iter().enumerate() {
                let (a, b) = (low_counts[k], high_counts[k]);
                counts[k] = a + c[a..b].partition_point(|&y| y <= x);
            }
            if mass(&counts) >= q {
                high = mid;
                high_counts.copy_from_slice(&counts);
            } else {
                low = mid;
                low_counts.copy_from_slice(&counts);
            }
        }
        from_order_key(high)
    };
    for (k, &q) in QUANTILES.iter().enumerate() {
        out[2 + k] = quantile(q as f64 / 100.0);
    }
    for (k, &m) in TAILS.iter().enumerate() {
        let mass = m as f64 / 100.0;
        let v = quantile(mass);
        out[at + k] = -v;
        let (under, sum) = below(v);
        out[at + 2 + k] = -(sum + (mass - under) * v) / mass;
    }
    // Standard errors, stratified by scenario (each column is an independent sample
    // of P paths): the empirical mixture CDF at a quantile x has variance
    // sum_s w_s^2 F_s(x) (1 - F_s(x)) / P, mapped to x through the mixture's own
    // quantile function (as for one column); CVaR's from each column's shortfall below
    // the mixture's VaR point.
    let paths = columns.first().map_or(1.0, |c| c.len() as f64);
    for (k, &q) in QUANTILES.iter().enumerate() {
        let q = q as f64 / 100.0;
        let x = out[2 + k];
        let variance: f64 = columns
            .iter()
            .zip(weights)
            .map(|(c, w)| {
                let f = c.partition_point(|&y| y <= x) as f64 / c.len() as f64;
                w * w * f * (1.0 - f)
            })
            .sum::<f64>()
            / paths;
        let z = variance.sqrt();
        let (lo, hi) = ((q - z).max(f64::MIN_POSITIVE), (q + z).min(1.0));
        out[SE_AT + k] = 0.5 * (quantile(hi) - quantile(lo));
    }
    for (k, &m) in TAILS.iter().enumerate() {
        let v = -out[at + k];
        let variance: f64 =
            columns.iter().zip(weights).map(|(c, w)| w * w * shortfall_moments(c, v).1).sum::<f64>() / paths;
        out[SE_AT + QUANTILES.len() + k] = variance.sqrt() / (m as f64 / 100.0);
    }
    out
}

/// Statistics of a P&L cube `(scenarios, days, paths)`: per (scenario, day) into
/// `per_scenario` (`(s * days + d) * STATS + k`), and of the probability-weighted
/// mixture per day into `mixture` (`d * STATS + k`); `k` runs over mean, std, the
/// quantiles of [`QUANTILES`], VaR 95, VaR 99, CVaR 95, CVaR 99, P(profit), then the
/// standard errors of the quantiles and of CVaR 95 and 99. VaR and CVaR are
/// positive losses.
pub fn pnl_statistics(
    pnl: &[f64],
    probability: &[f64],
    days: usize,
    paths: usize,
    per_scenario: &mut [f64],
    mixture: &mut [f64],
) -> Result<()> {
    let s_count = probability.len();
    if paths == 0 {
        return Err(AlvhError::invalid("paths", 0, 0.0, "at least 1"));
    }
    check_lengths(s_count * days * paths, &[("pnl", Some(pnl.len()))])?;
    check_lengths(s_count * days * STATS, &[("per_scenario", Some(per_scenario.len()))])?;
    check_lengths(days * STATS, &[("mixture", Some(mixture.len()))])?;
    check_all("pnl", pnl, f64::is_finite, "finite")?;
    check_all("probability", probability, |p| p > 0.0 && p <= 1.0, "in (0, 1]")?;
    let total: f64 = probability.iter().sum();
    if (total - 1.0).abs() > 1e-9 {
        return Err(AlvhError::invalid("probability", 0, total, "summing to 1 (within 1e-9)"));
    }
    let weights: Vec<f64> = probability.iter().map(|p| p / total).collect();
    // Per day: its scenarios' columns are copied into a buffer reused from day to day
    // (one fresh copy of the whole cube measured 140 vs 95 ms on 12 x 10 x 1e5: page
    // faults), sorted there, and the mixture read off them. Days run in parallel, and a
    // day's columns too (rayon nests), so a one-day cube is not sorted on one thread.
    let parallel = crate::parallel_allowed();
    let sort_column = |(s, buffer): (usize, &mut [f64]), d: usize| {
        buffer.copy_from_slice(&pnl[(s * days + d) * paths..][..paths]);
        // Radix sort (the radsort crate): several times faster than a comparison sort
        // on 1e5 floats, and exact (a total order on the bits).
        radsort::sort(buffer);
        column_stats(buffer)
    };
    let day = |sorted: &mut Vec<f64>, d: usize| -> (Vec<[f64; STATS]>, [f64; STATS]) {
        sorted.resize(s_count * paths, 0.0);
        let stats: Vec<[f64; STATS]> = if parallel {
            sorted.par_chunks_mut(paths).enumerate().map(|c| sort_column(c, d)).collect()
        } else {
            sorted.chunks_mut(paths).enumerate().map(|c| sort_column(c, d)).collect()
        };
        let columns: Vec<&[f64]> = sorted.chunks(paths).collect();
        let mixed = mixture_stats(&columns, &weights, &stats);
        (stats, mixed)
    };
    let rows: Vec<(Vec<[f64; STATS]>, [f64; STATS])> = if parallel {
        (0..days).into_par_iter().map_init(Vec::new, day).collect()
    } else {
        let mut sorted = Vec::new();
        (0..days).map(|d| day(&mut sorted, d)).collect()
    };
    for (d, (stats, mixed)) in rows.iter().enumerate() {
        for (s, st) in stats.iter().enumerate() {
            per_scenario[(s * days + d) * STATS..][..STATS].copy_from_slice(st);
        }
        mixture[d * STATS..(d + 1) * STATS].copy_from_slice(mixed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        kind: Vec<LegKind>,
        table: Vec<f64>,
        vvol: Vec<f64>,
        zeros: Vec<f64>,
        fut_a: Vec<f64>,
        fut_b: Vec<f64>,
        per_s: Vec<f64>,
        per_sd: Vec<f64>,
        theta: Vec<f64>,
        beta: Vec<f64>,
    }

    const H: usize = 4;
    const S: usize = 2;
    const NODES: usize = 401;

    fn case() -> Case {
        let kind = vec![LegKind::SpxOption, LegKind::SpxOption, LegKind::VixOption, LegKind::VixFuture];
        let legs = kind.len();
        let table = (0..H * legs * NODES).map(|i| 0.009 * (1.0 + 0.5 * (i % NODES) as f64)).collect();
        Case {
            kind,
            table,
            vvol: vec![0.9; H * legs * NODES],
            zeros: vec![0.0; H * legs * NODES],
            fut_a: vec![4.0; H * legs],
            fut_b: vec![0.8; H * legs],
            per_s: vec![0.05; S],
            per_sd: (0..S * H).map(|i| if i % 3 == 1 { 0.01 } else { 0.0 }).collect(),
            theta: vec![20.0; S],
            beta: vec![-6.0; S],
        }
    }

    fn inputs(c: &Case, s_range: std::ops::Range<usize>, paths: usize) -> ProjectionInputs<'_> {
        let sd = s_range.start * H..s_range.end * H;
        ProjectionInputs {
            kind: &c.kind,
            is_call: &[false, true, true, false],
            strike: &[5600.0, 6300.0, 25.0, 1.0],
            weight: &[-100.0, -100.0, 300.0, -1000.0],
            expiry_day: &[30, 2, 20, 3],
            spot: 6000.0,
            rate: 0.04,
            div: 0.01,
            vix: 18.0,
            base_value: 100.0,
            drift: &c.per_s[s_range.clone()],
            diffusion_vol: &c.per_s[s_range.clone()],
            vix_beta: &c.beta[s_range.clone()],
            vol_of_vix: &c.per_s[s_range.clone()],
            vix_kappa: &c.per_s[s_range.clone()],
            vix_theta: &c.theta[s_range.clone()],
            atm_vix_ratio: 0.9,
            jump_mean: &c.per_sd[sd.clone()],
            jump_std: &c.per_sd[sd.clone()],
            vix_jump_mean: &c.per_sd[sd.clone()],
            vix_jump_std: &c.per_sd[sd],
            days: H,
            paths,
            seed: 0x1234_5678_9abc,
            greek_paths: paths / 2,
            vix_lo: 1.0,
            vix_step: 0.5,
            n_nodes: NODES,
            table_atm: &c.table,
            table_change: &c.zeros,
            table_vvol: &c.vvol,
            fut_a: &c.fut_a,
            fut_b: &c.fut_b,
            dynamics: VolDynamics::StickyMoneyness(Smile {
                skew: -0.25,
                curvature: 0.05,
                floor_ratio: 0.5,
                moneyness_limit: 4.0,
            }),
            base_vol: &[0.0; 4],
            barrier_low: 5600.0,
            barrier_high: 6300.0,
            scenario_offset: s_range.start,
            first_valued_day: 1,
        }
    }

    fn run(inp: &ProjectionInputs<'_>) -> Vec<Vec<f64>> {
        try_run(inp).unwrap()
    }

    fn try_run(inp: &ProjectionInputs<'_>) -> Result<Vec<Vec<f64>>> {
        let (s, h, p) = (inp.drift.len(), inp.days, inp.paths);
        let mut out = vec![vec![0.0; s * h * p], vec![0.0; s * h * 3], vec![0.0; s * h * 3]];
        out.extend([vec![0.0; s * h * 5], vec![0.0; s * h * 5]]);
        let [pnl, ts, tq, gs, gq] = &mut out[..] else { unreachable!() };
        let o = ProjectionOut {
            pnl,
            touch_sum: ts,
            touch_sumsq: tq,
            greek_sum: gs,
            greek_sumsq: gq,
            spot: None,
            vix: None,
        };
        monte_carlo(inp, o)?;
        Ok(out)
    }

    #[test]
    fn valuing_the_horizon_only_keeps_its_numbers_and_the_settlements() {
        // Legs expire on days 2 and 3: their settlements must reach day H's P&L though
        // days 1..H-1 are not valued.
        let c = case();
        let paths = 1500;
        let every_day = run(&inputs(&c, 0..S, paths));
        let mut last_only = inputs(&c, 0..S, paths);
        last_only.first_valued_day = H;
        let horizon = run(&last_only);
        for s in 0..S {
            let rows = |v: &[f64], d: usize, width: usize| v[(s * H + d) * width..][..width].to_vec();
            assert_eq!(rows(&every_day[0], H - 1, paths), rows(&horizon[0], H - 1, paths));
            assert_eq!(rows(&every_day[3], H - 1, 5), rows(&horizon[3], H - 1, 5));
            // Day 1: nothing valued, nothing settled: -base_value; no Greeks before day H.
            assert!(rows(&horizon[0], 0, paths).iter().all(|&x| x == -100.0));
            for d in 0..H - 1 {
                assert!(rows(&horizon[3], d, 5).iter().all(|&x| x == 0.0));
            }
        }
        assert_eq!((&every_day[1], &every_day[2]), (&horizon[1], &horizon[2])); // touches: every day
        for bad in [0, H + 1] {
            last_only.first_valued_day = bad;
            let err = try_run(&last_only).unwrap_err().to_string();
            assert!(err.contains("first_valued_day"), "{err}");
        }
    }

    #[test]
    fn thread_count_and_scenario_splitting_do_not_change_a_number() {
        let c = case();
        let paths = 3000; // three tasks per scenario, the last one short
        let together = run(&inputs(&c, 0..S, paths));
        crate::set_parallel(false);
        let serial = run(&inputs(&c, 0..S, paths));
        crate::set_parallel(true);
        assert_eq!(together, serial);
        let first = run(&inputs(&c, 0..1, paths));
        let second = run(&inputs(&c, 1..2, paths));
        for (k, part) in [first, second].iter().enumerate() {
            for (j, x) in part.iter().enumerate() {
                let n = x.len();
                assert_eq!(&together[j][k * n..(k + 1) * n], &x[..], "output {j}, scenario {k}");
            }
        }
        assert!(together[0].iter().all(|x| x.is_finite()));
        assert!(together[1].iter().all(|&x| (0.0..=paths as f64).contains(&x)));
    }

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

    #[test]
    fn bad_inputs_name_the_argument() {
        let c = case();
        let mut inp = inputs(&c, 0..S, 10);
        inp.paths = 0;
        let err = monte_carlo(
            &inp,
            ProjectionOut {
                pnl: &mut [],
                touch_sum: &mut [],
                touch_sumsq: &mut [],
                greek_sum: &mut [],
                greek_sumsq: &mut [],
                spot: None,
                vix: None,
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("paths"), "{err}");
        let stats = pnl_statistics(&[1.0, 2.0], &[0.5, 0.4], 1, 1, &mut [0.0; 2 * STATS], &mut [0.0; STATS]);
        assert!(stats.unwrap_err().to_string().contains("probability"));
    }

    #[test]
    fn mixture_quantiles_are_the_smallest_samples_reaching_the_level() {
        // Ties, zeros of both signs and unequal weights; the answer by brute force: the
        // smallest sample whose mixture CDF (summed as in `mixture_stats`) reaches q.
        let columns: Vec<Vec<f64>> = (0..5u64)
            .map(|s| {
                let mut c: Vec<f64> = (0..37u64)
                    .map(|i| {
                        ((i * 7919 + s * 104_729) % 23) as f64 - 11.0 + if i % 5 == 0 { 0.5 } else { 0.0 }
                    })
                    .collect();
                c.push(-0.0);
                c.push(0.0);
                c.sort_by(f64::total_cmp);
                c
            })
            .collect();
        let weights = [0.1, 0.3, 0.2, 0.25, 0.15];
        let refs: Vec<&[f64]> = columns.iter().map(|c| c.as_slice()).collect();
        let stats: Vec<[f64; STATS]> = refs.iter().map(|c| column_stats(c)).collect();
        let out = mixture_stats(&refs, &weights, &stats);
        let cdf = |x: f64| -> f64 {
            refs.iter()
                .zip(weights)
                .map(|(c, w)| w * c.partition_point(|&y| y <= x) as f64 / c.len() as f64)
                .sum()
        };
        let mut all: Vec<f64> = columns.concat();
        all.sort_by(f64::total_cmp);
        for (k, &q) in QUANTILES.iter().enumerate() {
            let want = all.iter().copied().find(|&v| cdf(v) >= q as f64 / 100.0).unwrap_or(f64::INFINITY);
            assert_eq!(out[2 + k], want, "q = {q}");
        }
    }

    #[test]
    fn statistics_of_a_known_sample() {
        // 1..=100 in one scenario: inverted-CDF quantiles are the ranks themselves.
        let pnl: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let (mut per, mut mix) = ([0.0; STATS], [0.0; STATS]);
        pnl_statistics(&pnl, &[1.0], 1, 100, &mut per, &mut mix).unwrap();
        assert_eq!(per[0], 50.5);
        assert_eq!(&per[2..9], &[1.0, 5.0, 25.0, 50.0, 75.0, 95.0, 99.0]);
        assert_eq!(per[9], -5.0); // VaR 95
        assert!((per[11] + 3.0).abs() < 1e-15); // CVaR 95: mean of 1..=5
        assert_eq!(per[13], 1.0); // all positive
                                  // The statistics themselves agree; the standard errors are approximations
                                  // that may land on different order statistics at exact ties of F.
        for (a, b) in per[..SE_AT].iter().zip(&mix[..SE_AT]) {
            assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{a} {b}");
        }
    }
}
