//! The scenario grid (risk graph): a position's value and Greeks over SPX moves x
//! VIX shifts x days forward, in one pass over the cells.
//!
//! The Python layer resolves the market per (leg, VIX shift, day) -- time to expiry,
//! the SPX ATM vol (or the final vol when the smile does not move with spot), the
//! VIX future and the VIX-option vol -- and this kernel does the part that grows
//! with the spot axis: for every spot move it rebuilds the forward, evaluates the
//! smile (sticky moneyness: the SSVI smile, or a raw SVI slice per leg),
//! prices every leg with all its Greeks and sums them with the legs' weights. Rows of cells (one VIX shift and day, all spot moves) run
//! in parallel; each is independent of the thread count.

use crate::error::{AlvhError, Result};
use crate::kernels::{check_lengths, option_values};
use crate::legs::LegKind;
use crate::simd_math::{exp, MulAdd};
use crate::smile::{Ssvi, SviLegSmile, SviSmiles};
use rayon::prelude::*;

/// How the kernel turns a live SPX leg's `vol` into the vol at its strike.
#[derive(Clone, Copy, Debug)]
pub enum GridSmile<'a> {
    /// `vol` is the leg's final vol (sticky strike, parallel).
    Flat,
    /// The SSVI smile around the ATM `vol` (its total variance), one for every leg.
    Ssvi(Ssvi),
    /// A raw SVI slice per leg around the ATM `vol`.
    Svi(SviSmiles<'a>),
}

/// The position and the resolved market of a grid. Per-(leg, shift, day) arrays
/// are indexed ((leg * n_shifts) + shift) * n_days + day.
pub struct GridInputs<'a> {
    pub kind: &'a [LegKind],
    pub is_call: &'a [bool],
    pub strike: &'a [f64],
    /// Signed quantity times multiplier.
    pub weight: &'a [f64],
    pub spot: f64,
    pub rate: f64,
    pub div: f64,
    /// Relative SPX moves (-0.05 = -5 %).
    pub spot_moves: &'a [f64],
    pub n_shifts: usize,
    pub n_days: usize,
    /// Years to the leg's expiry; <= 0 means expired by then (intrinsic value).
    pub tau: &'a [f64],
    /// SPX: the ATM vol when `smile` is given, else the leg's vol; VIX options: their vol.
    pub vol: &'a [f64],
    /// VIX legs: the future of the leg's expiry.
    pub underlying: &'a [f64],
    pub smile: GridSmile<'a>,
}

/// Output cubes shaped (days, shifts, moves), C order.
pub struct GridOut<'a> {
    pub value: &'a mut [f64],
    pub delta: &'a mut [f64],
    pub gamma: &'a mut [f64],
    pub vega: &'a mut [f64],
    pub theta: &'a mut [f64],
    pub vix_delta: &'a mut [f64],
}

impl GridInputs<'_> {
    fn check(&self) -> Result<()> {
        let legs = self.kind.len();
        check_lengths(
            legs,
            &[
                ("is_call", Some(self.is_call.len())),
                ("strike", Some(self.strike.len())),
                ("weight", Some(self.weight.len())),
            ],
        )?;
        let per_scenario = legs * self.n_shifts * self.n_days;
        check_lengths(
            per_scenario,
            &[
                ("tau", Some(self.tau.len())),
                ("vol", Some(self.vol.len())),
                ("underlying", Some(self.underlying.len())),
            ],
        )?;
        let positive = |x: f64| x > 0.0 && x.is_finite();
        match self.smile {
            GridSmile::Flat => {}
            GridSmile::Ssvi(s) => s.check()?,
            GridSmile::Svi(svi) => svi.check(self.kind)?,
        }
        if !positive(self.spot) {
            return Err(AlvhError::invalid("spot", 0, self.spot, "positive and finite"));
        }
        if !self.rate.is_finite() {
            return Err(AlvhError::invalid("rate", 0, self.rate, "finite"));
        }
        if !self.div.is_finite() {
            return Err(AlvhError::invalid("div", 0, self.div, "finite"));
        }
        if let Some(i) = self.spot_moves.iter().position(|&m| !(m > -1.0 && m.is_finite())) {
            return Err(AlvhError::invalid(
                "spot_moves",
                i,
                self.spot_moves[i],
                "finite and greater than -1",
            ));
        }
        for (leg, &kind) in self.kind.iter().enumerate() {
            if !self.weight[leg].is_finite() {
                return Err(AlvhError::invalid("weight", leg, self.weight[leg], "finite"));
            }
            if kind != LegKind::VixFuture && !positive(self.strike[leg]) {
                return Err(AlvhError::invalid("strike", leg, self.strike[leg], "positive and finite"));
            }
            for j in leg * self.n_shifts * self.n_days..(leg + 1) * self.n_shifts * self.n_days {
                if !self.tau[j].is_finite() {
                    return Err(AlvhError::invalid("tau", j, self.tau[j], "finite"));
                }
                let live = self.tau[j] > 0.0;
                if kind != LegKind::VixFuture && live && !positive(self.vol[j]) {
                    return Err(AlvhError::invalid("vol", j, self.vol[j], "positive and finite"));
                }
                if kind != LegKind::SpxOption && !positive(self.underlying[j]) {
                    return Err(AlvhError::invalid(
                        "underlying",
                        j,
                        self.underlying[j],
                        "positive and finite",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A live SPX leg's smile along its row of spot moves: the vol at the scenario spot
/// `level` and its first and second derivatives in the spot.
trait RowSmile {
    fn at<M: MulAdd>(&self, level: f64) -> (f64, f64, f64);
}

/// What every sticky-moneyness smile of a leg row shares: the ATM `vol`, the strike,
/// the forward's growth `exp((r - q) tau)` and `sqrt(tau)`.
#[derive(Clone, Copy)]
struct SmileRow {
    vol: f64,
    strike: f64,
    growth: f64,
    sqrt_tau: f64,
}

/// No smile: the leg's vol as given.
struct FlatRow(f64);

impl RowSmile for FlatRow {
    #[inline(always)]
    fn at<M: MulAdd>(&self, _level: f64) -> (f64, f64, f64) {
        (self.0, 0.0, 0.0)
    }
}

/// The SSVI smile (`Ssvi::vol_and_slopes`).
struct SsviRow {
    row: SmileRow,
    smile: Ssvi,
}

impl RowSmile for SsviRow {
    #[inline(always)]
    fn at<M: MulAdd>(&self, level: f64) -> (f64, f64, f64) {
        let SmileRow { vol, strike, growth, sqrt_tau } = self.row;
        self.smile.vol_and_slopes::<M>(vol, level, strike, growth, sqrt_tau)
    }
}

/// The leg's SVI slice (`SviLegSmile::vol_and_slopes`).
struct SviRow {
    row: SmileRow,
    smile: SviLegSmile,
}

impl RowSmile for SviRow {
    #[inline(always)]
    fn at<M: MulAdd>(&self, level: f64) -> (f64, f64, f64) {
        let SmileRow { vol, strike, growth, sqrt_tau } = self.row;
        self.smile.vol_and_slopes::<M>(vol, level, strike, growth, sqrt_tau)
    }
}

/// One live SPX leg over a row of spot moves, with `smile.at(level)` its vol at the
/// scenario spot `level` and the vol's first and second derivatives in the spot.
/// Delta and gamma are the total derivatives along the spot axis (the smile-adjusted
/// Greeks): delta + vega sigma_S and gamma + 2 vanna sigma_S + volga sigma_S^2 +
/// vega sigma_SS. Generic so that each smile gets its own loop (the smile is chosen
/// once per leg row, not per cell); the smiles are structs with `#[inline(always)]`
/// methods rather than closures, since closures do not inherit the SIMD path's target
/// features (a closure here made the whole grid ~6x slower).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn add_spx_row<M: MulAdd, S: RowSmile>(
    inputs: &GridInputs<'_>,
    sign: f64,
    strike: f64,
    weight: f64,
    tau: f64,
    moves: &[f64],
    smile: S,
    out: [&mut [f64]; 5],
) {
    let [value, delta, gamma, vega, theta] = out;
    let n = moves.len();
    let (value, delta, gamma, vega, theta) =
        (&mut value[..n], &mut delta[..n], &mut gamma[..n], &mut vega[..n], &mut theta[..n]);
    let (rate, div) = (inputs.rate, inputs.div);
    for i in 0..n {
        let level = inputs.spot * (1.0 + moves[i]);
        let (sigma, sigma_s, sigma_ss) = smile.at::<M>(level);
        let g = option_values::<M, false>(sign, level, strike, tau, rate, div, sigma);
        let (vega_leg, vanna, volga) = (g[3], g[6], g[7]);
        value[i] += weight * g[0];
        delta[i] += weight * M::mul_add(vega_leg, sigma_s, g[1]);
        let curve = M::mul_add(volga * sigma_s, sigma_s, vega_leg * sigma_ss);
        gamma[i] += weight * (M::mul_add(2.0 * vanna, sigma_s, g[2]) + curve);
        vega[i] += weight * vega_leg;
        theta[i] += weight * g[4];
    }
}

/// Adds one leg's contributions to a row of cells (one shift and day, all moves).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn add_leg_row<M: MulAdd>(
    inputs: &GridInputs<'_>,
    leg: usize,
    scenario: usize,
    value: &mut [f64],
    delta: &mut [f64],
    gamma: &mut [f64],
    vega: &mut [f64],
    theta: &mut [f64],
    vix_delta: &mut [f64],
) {
    let n = value.len();
    let moves = &inputs.spot_moves[..n];
    let (delta, gamma, vega, theta, vix_delta) =
        (&mut delta[..n], &mut gamma[..n], &mut vega[..n], &mut theta[..n], &mut vix_delta[..n]);
    let weight = inputs.weight[leg];
    let strike = inputs.strike[leg];
    let sign = if inputs.is_call[leg] { 1.0 } else { -1.0 };
    let (tau, vol, underlying) = (inputs.tau[scenario], inputs.vol[scenario], inputs.underlying[scenario]);
    let (rate, div) = (inputs.rate, inputs.div);
    let intrinsic = |level: f64| (sign * (level - strike)).max(0.0);
    // d(intrinsic)/d(level): +-1 in the money, 0 out, 1/2 at the strike.
    let intrinsic_delta = |level: f64| {
        let moneyness = sign * (level - strike);
        sign * if moneyness > 0.0 {
            1.0
        } else if moneyness == 0.0 {
            0.5
        } else {
            0.0
        }
    };
    match inputs.kind[leg] {
        LegKind::VixFuture => {
            for i in 0..n {
                value[i] += weight * underlying;
                vix_delta[i] += weight;
            }
        }
        LegKind::VixOption if tau <= 0.0 => {
            for i in 0..n {
                value[i] += weight * intrinsic(underlying);
                vix_delta[i] += weight * intrinsic_delta(underlying);
            }
        }
        LegKind::VixOption => {
            // Independent of the spot move: one valuation for the row.
            let g = option_values::<M, true>(sign, underlying, strike, tau, rate, rate, vol);
            for i in 0..n {
                value[i] += weight * g[0];
                vix_delta[i] += weight * g[1];
                vega[i] += weight * g[3];
                theta[i] += weight * g[4];
            }
        }
        LegKind::SpxOption if tau <= 0.0 => {
            for i in 0..n {
                let level = inputs.spot * (1.0 + moves[i]);
                value[i] += weight * intrinsic(level);
                delta[i] += weight * intrinsic_delta(level);
            }
        }
        LegKind::SpxOption => {
            let growth = exp::<M>((rate - div) * tau);
            let sqrt_tau = tau.sqrt();
            let out = [value, delta, gamma, vega, theta];
            let row = SmileRow { vol, strike, growth, sqrt_tau };
            // One loop per smile, chosen here once per leg row.
            match inputs.smile {
                GridSmile::Flat => {
                    add_spx_row::<M, _>(inputs, sign, strike, weight, tau, moves, FlatRow(vol), out)
                }
                GridSmile::Ssvi(smile) => {
                    add_spx_row::<M, _>(inputs, sign, strike, weight, tau, moves, SsviRow { row, smile }, out)
                }
                GridSmile::Svi(svi) => {
                    let svi_row = SviRow { row, smile: svi.leg(leg) };
                    add_spx_row::<M, _>(inputs, sign, strike, weight, tau, moves, svi_row, out)
                }
            }
        }
    }
}

simd_dispatch! {
    /// One row of cells: every leg at one VIX shift and day, over all spot moves.
    fn grid_row(inputs: &GridInputs<'_>, shift: usize, day: usize, row: [&mut [f64]; 6]) {
        let [value, delta, gamma, vega, theta, vix_delta] = row;
        for x in [&mut *value, &mut *delta, &mut *gamma, &mut *vega, &mut *theta, &mut *vix_delta] {
            x.fill(0.0);
        }
        for leg in 0..inputs.kind.len() {
            let scenario = (leg * inputs.n_shifts + shift) * inputs.n_days + day;
            add_leg_row::<M>(inputs, leg, scenario, value, delta, gamma, vega, theta, vix_delta);
        }
    }
}

/// Fills the output cubes (days, shifts, moves).
pub fn scenario_grid(inputs: &GridInputs<'_>, out: GridOut<'_>) -> Result<()> {
    inputs.check()?;
    let n_moves = inputs.spot_moves.len();
    let cells = inputs.n_days * inputs.n_shifts * n_moves;
    check_lengths(
        cells,
        &[
            ("out.value", Some(out.value.len())),
            ("out.delta", Some(out.delta.len())),
            ("out.gamma", Some(out.gamma.len())),
            ("out.vega", Some(out.vega.len())),
            ("out.theta", Some(out.theta.len())),
            ("out.vix_delta", Some(out.vix_delta.len())),
        ],
    )?;
    if n_moves == 0 {
        return Ok(());
    }
    let n_shifts = inputs.n_shifts;
    let row_fn = |row_index: usize, row: [&mut [f64]; 6]| {
        grid_row(inputs, row_index % n_shifts, row_index / n_shifts, row);
    };
    let GridOut { value, delta, gamma, vega, theta, vix_delta } = out;
    if cells * inputs.kind.len().max(1) < crate::kernels::PARALLEL_THRESHOLD || !crate::parallel_allowed() {
        let rows = value
            .chunks_mut(n_moves)
            .zip(delta.chunks_mut(n_moves))
            .zip(gamma.chunks_mut(n_moves))
            .zip(vega.chunks_mut(n_moves))
            .zip(theta.chunks_mut(n_moves))
            .zip(vix_delta.chunks_mut(n_moves));
        for (k, (((((v, d), g), ve), th), vd)) in rows.enumerate() {
            row_fn(k, [v, d, g, ve, th, vd]);
        }
    } else {
        (
            value.par_chunks_mut(n_moves),
            delta.par_chunks_mut(n_moves),
            gamma.par_chunks_mut(n_moves),
            vega.par_chunks_mut(n_moves),
            theta.par_chunks_mut(n_moves),
            vix_delta.par_chunks_mut(n_moves),
        )
            .into_par_iter()
            .enumerate()
            .for_each(|(k, (v, d, g, ve, th, vd))| row_fn(k, [v, d, g, ve, th, vd]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{greeks, Column, ErrorMode, Flags, GreeksOut, Model, OptionBatch};
    use crate::smile::SviShape;

    /// Price and Greeks of one option through the batch kernels.
    #[allow(clippy::too_many_arguments)]
    fn single(
        model: Model,
        is_call: bool,
        spot: f64,
        strike: f64,
        t: f64,
        rate: f64,
        div: f64,
        vol: f64,
    ) -> [f64; 9] {
        let mut o = [[0.0f64; 1]; 9];
        let [p, d, g, v, th, rh, va, vo, ch] = &mut o;
        let batch = OptionBatch {
            is_call: Flags::Scalar(is_call),
            spot: Column::Scalar(spot),
            strike: Column::Scalar(strike),
            t: Column::Scalar(t),
            rate: Column::Scalar(rate),
            div: Column::Scalar(div),
            vol: Column::Scalar(vol),
        };
        let out = GreeksOut {
            price: p,
            delta: d,
            gamma: g,
            vega: v,
            theta: th,
            rho: rh,
            vanna: va,
            volga: vo,
            charm: ch,
        };
        greeks(&batch, model, ErrorMode::Raise, out).unwrap();
        o.map(|x| x[0])
    }

    #[test]
    fn every_cell_equals_pricing_the_legs_one_by_one() {
        // A condor, a VIX call and a VIX future; 2 shifts x 3 days x 5 moves; the last
        // day takes the SPX legs past expiry.
        let kind = [LegKind::SpxOption, LegKind::SpxOption, LegKind::VixOption, LegKind::VixFuture];
        let is_call = [false, true, true, false];
        let strike = [4300.0, 4700.0, 25.0, 0.0];
        let weight = [-100.0, -100.0, 500.0, 1000.0];
        let (spot, rate, div) = (4500.0, 0.04, 0.015);
        let moves = [-0.1, -0.02, 0.0, 0.03, 0.08];
        let (n_shifts, n_days) = (2, 3);
        let mut tau = vec![0.0; 4 * n_shifts * n_days];
        let mut vol = vec![0.0; tau.len()];
        let mut underlying = vec![0.0; tau.len()];
        for leg in 0..4 {
            for shift in 0..n_shifts {
                for day in 0..n_days {
                    let j = (leg * n_shifts + shift) * n_days + day;
                    tau[j] = if leg < 2 { [0.02, 0.01, 0.0][day] } else { 0.1 - 0.01 * day as f64 };
                    vol[j] = if leg < 2 { 0.15 + 0.02 * shift as f64 } else { 1.1 };
                    underlying[j] = 20.0 + 3.0 * shift as f64;
                }
            }
        }
        let smile = Ssvi { rho: -0.7, eta: 1.15, gamma: 0.5 };
        let (rho, eta) = (smile.rho, smile.eta);
        let inputs = GridInputs {
            kind: &kind,
            is_call: &is_call,
            strike: &strike,
            weight: &weight,
            spot,
            rate,
            div,
            spot_moves: &moves,
            n_shifts,
            n_days,
            tau: &tau,
            vol: &vol,
            underlying: &underlying,
            smile: GridSmile::Ssvi(smile),
        };
        let cells = n_days * n_shifts * moves.len();
        let mut cubes = vec![vec![0.0; cells]; 6];
        let [value, delta, gamma, vega, theta, vix_delta] = &mut cubes[..] else { unreachable!() };
        let out = GridOut { value, delta, gamma, vega, theta, vix_delta };
        scenario_grid(&inputs, out).unwrap();
        for day in 0..n_days {
            for shift in 0..n_shifts {
                for (m, &mv) in moves.iter().enumerate() {
                    let cell = (day * n_shifts + shift) * moves.len() + m;
                    let level = spot * (1.0 + mv);
                    let mut want = [0.0; 6];
                    for leg in 0..4 {
                        let j = (leg * n_shifts + shift) * n_days + day;
                        let w = weight[leg];
                        match kind[leg] {
                            LegKind::SpxOption if tau[j] <= 0.0 => {
                                let sign = if is_call[leg] { 1.0 } else { -1.0 };
                                want[0] += w * (sign * (level - strike[leg])).max(0.0);
                                want[1] += w * if sign * (level - strike[leg]) > 0.0 { sign } else { 0.0 };
                            }
                            LegKind::SpxOption => {
                                // SSVI written out here independently of Ssvi::vol_and_slopes.
                                let forward = level * ((rate - div) * tau[j]).exp();
                                let k = (strike[leg] / forward).ln();
                                let theta = vol[j] * vol[j] * tau[j];
                                let phi =
                                    eta / (theta.powf(smile.gamma) * (1.0 + theta).powf(1.0 - smile.gamma));
                                let root = ((phi * k + rho).powi(2) + 1.0 - rho * rho).sqrt();
                                let w_tot = theta / 2.0 * (1.0 + rho * phi * k + root);
                                let sigma = (w_tot / tau[j]).sqrt();
                                let g = single(
                                    Model::Bsm,
                                    is_call[leg],
                                    level,
                                    strike[leg],
                                    tau[j],
                                    rate,
                                    div,
                                    sigma,
                                );
                                // The smile moves with the spot (chain rule through k(S) =
                                // ln(K / (S growth)): k' = -1/S, k'' = 1/S^2).
                                let w_k = theta * phi / 2.0 * (rho + (phi * k + rho) / root);
                                let w_kk = theta * phi * phi * (1.0 - rho * rho) / (2.0 * root.powi(3));
                                let (k_s, k_ss) = (-1.0 / level, 1.0 / (level * level));
                                let w_s = w_k * k_s;
                                let w_ss = w_kk * k_s * k_s + w_k * k_ss;
                                let sigma_s = w_s / (2.0 * sigma * tau[j]);
                                let sigma_ss = w_ss / (2.0 * sigma * tau[j])
                                    - w_s * w_s / (4.0 * sigma.powi(3) * tau[j] * tau[j]);
                                want[0] += w * g[0];
                                want[1] += w * (g[1] + g[3] * sigma_s);
                                want[2] += w
                                    * (g[2]
                                        + 2.0 * g[6] * sigma_s
                                        + g[7] * sigma_s * sigma_s
                                        + g[3] * sigma_ss);
                                want[3] += w * g[3];
                                want[4] += w * g[4];
                            }
                            LegKind::VixOption => {
                                let g = single(
                                    Model::Black76,
                                    is_call[leg],
                                    underlying[j],
                                    strike[leg],
                                    tau[j],
                                    rate,
                                    rate,
                                    vol[j],
                                );
                                want[0] += w * g[0];
                                want[5] += w * g[1];
                                want[3] += w * g[3];
                                want[4] += w * g[4];
                            }
                            LegKind::VixFuture => {
                                want[0] += w * underlying[j];
                                want[5] += w;
                            }
                        }
                    }
                    for (k, cube) in cubes.iter().enumerate() {
                        let got = cube[cell];
                        assert!(
                            (got - want[k]).abs() <= 1e-9 * want[k].abs().max(1.0),
                            "out {k} cell {cell}: {got} vs {}",
                            want[k]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn bad_inputs_name_the_argument() {
        let inputs = GridInputs {
            kind: &[LegKind::SpxOption],
            is_call: &[true],
            strike: &[-5.0],
            weight: &[1.0],
            spot: 100.0,
            rate: 0.0,
            div: 0.0,
            spot_moves: &[0.0],
            n_shifts: 1,
            n_days: 1,
            tau: &[0.1],
            vol: &[0.2],
            underlying: &[0.0],
            smile: GridSmile::Flat,
        };
        let mut c = vec![vec![0.0; 1]; 6];
        let [a, b, g, d, e, f] = &mut c[..] else { unreachable!() };
        let err =
            scenario_grid(&inputs, GridOut { value: a, delta: b, gamma: g, vega: d, theta: e, vix_delta: f })
                .unwrap_err();
        assert!(matches!(err, AlvhError::InvalidValue { arg: "strike", .. }), "{err}");
    }

    /// Raw SVI total variance, written out independently of `SviShape::vol_ratio`.
    fn svi_w(s: &SviShape, k: f64) -> f64 {
        s.a + s.b * (s.rho * (k - s.m) + ((k - s.m).powi(2) + s.sigma.powi(2)).sqrt())
    }

    /// A put and a call with their own SVI slices over 2 shifts x 2 days x 5 moves.
    /// Shift 0: the ATM vol is the slice's own, sqrt(w0 / tau), so every cell must be
    /// the plain SVI vol sqrt(w(ln K/F) / tau); shift 1: the ATM vol is 1.3 times that,
    /// so the smile is stretched in log-moneyness by 1.3 and scaled by 1.3.
    #[test]
    fn svi_cells_are_the_svi_vol_at_the_scenario_forward() {
        let kind = [LegKind::SpxOption, LegKind::SpxOption, LegKind::VixFuture];
        let is_call = [false, true, false];
        let strike = [4300.0, 4700.0, 0.0];
        let weight = [-100.0, -100.0, 1000.0];
        let (spot, rate, div) = (4500.0, 0.04, 0.015);
        let moves = [-0.1, -0.02, 0.0, 0.03, 0.08];
        let (n_shifts, n_days) = (2, 2);
        let mut shapes = [
            SviShape { a: 0.002, b: 0.04, rho: -0.7, m: 0.01, sigma: 0.08, w0: 0.0 },
            SviShape { a: 0.004, b: 0.06, rho: -0.4, m: -0.02, sigma: 0.15, w0: 0.0 },
            SviShape { a: f64::NAN, b: -1.0, rho: 2.0, m: 0.0, sigma: 0.0, w0: 0.0 }, // unused
        ];
        for s in shapes.iter_mut().take(2) {
            s.w0 = svi_w(s, 0.0);
        }
        let stretch = [1.0, 1.3];
        let mut tau = vec![0.0; 3 * n_shifts * n_days];
        let mut vol = vec![1.0; tau.len()];
        let underlying = vec![20.0; tau.len()];
        for (leg, shape) in shapes.iter().enumerate().take(2) {
            for (shift, c) in stretch.iter().enumerate() {
                for day in 0..n_days {
                    let j = (leg * n_shifts + shift) * n_days + day;
                    tau[j] = [0.08, 0.05][day];
                    vol[j] = c * (shape.w0 / tau[j]).sqrt();
                }
            }
        }
        let flat: Vec<f64> = shapes.iter().flat_map(SviShape::to_flat).collect();
        let smile = GridSmile::Svi(SviSmiles { shapes: &flat, floor_ratio: 0.05, moneyness_limit: 20.0 });
        let inputs = GridInputs {
            kind: &kind,
            is_call: &is_call,
            strike: &strike,
            weight: &weight,
            spot,
            rate,
            div,
            spot_moves: &moves,
            n_shifts,
            n_days,
            tau: &tau,
            vol: &vol,
            underlying: &underlying,
            smile,
        };
        let cells = n_days * n_shifts * moves.len();
        let mut cubes = vec![vec![0.0; cells]; 6];
        let [value, delta, gamma, vega, theta, vix_delta] = &mut cubes[..] else { unreachable!() };
        scenario_grid(&inputs, GridOut { value, delta, gamma, vega, theta, vix_delta }).unwrap();
        for day in 0..n_days {
            for shift in 0..n_shifts {
                for (i, &mv) in moves.iter().enumerate() {
                    let level = spot * (1.0 + mv);
                    let mut want = weight[2] * 20.0;
                    for leg in 0..2 {
                        let j = (leg * n_shifts + shift) * n_days + day;
                        let k = (strike[leg] / (level * ((rate - div) * tau[j]).exp())).ln();
                        let c = stretch[shift];
                        let sigma = c * (svi_w(&shapes[leg], k / c) / tau[j]).sqrt();
                        let g =
                            single(Model::Bsm, is_call[leg], level, strike[leg], tau[j], rate, div, sigma);
                        want += weight[leg] * g[0];
                    }
                    let got = cubes[0][(day * n_shifts + shift) * moves.len() + i];
                    assert!(
                        (got - want).abs() <= 1e-9 * want.abs(),
                        "cell {day} {shift} {i}: {got} vs {want}"
                    );
                }
            }
        }
    }

    /// A one-leg SVI grid: the value of a call struck at 100 for each spot move.
    fn svi_call_values(shape: SviShape, floor_ratio: f64, moneyness_limit: f64, moves: &[f64]) -> Vec<f64> {
        svi_call_cubes(shape, floor_ratio, moneyness_limit, moves).swap_remove(0)
    }

    /// A one-leg SVI grid of a call struck at 100 (spot 100, tau 0.25, ATM vol 0.2):
    /// the six cubes over the spot moves.
    fn svi_call_cubes(
        shape: SviShape,
        floor_ratio: f64,
        moneyness_limit: f64,
        moves: &[f64],
    ) -> Vec<Vec<f64>> {
        let shapes = shape.to_flat();
        let inputs = GridInputs {
            kind: &[LegKind::SpxOption],
            is_call: &[true],
            strike: &[100.0],
            weight: &[1.0],
            spot: 100.0,
            rate: 0.0,
            div: 0.0,
            spot_moves: moves,
            n_shifts: 1,
            n_days: 1,
            tau: &[0.25],
            vol: &[0.2],
            underlying: &[0.0],
            smile: GridSmile::Svi(SviSmiles { shapes: &shapes, floor_ratio, moneyness_limit }),
        };
        let mut c = vec![vec![0.0; moves.len()]; 6];
        let [v, d, g, ve, th, vd] = &mut c[..] else { unreachable!() };
        scenario_grid(&inputs, GridOut { value: v, delta: d, gamma: g, vega: ve, theta: th, vix_delta: vd })
            .unwrap();
        c
    }

    #[test]
    fn svi_delta_and_gamma_are_the_derivatives_along_the_spot_axis() {
        // The vol moves with the spot (sticky moneyness): the cubes' delta and gamma are
        // the total derivatives of the value, checked by central differences, inside
        // the limit (x within +-4) and where the floor does not bind.
        let shape = SviShape { a: 0.001, b: 0.04, rho: -0.6, m: 0.01, sigma: 0.07, w0: 0.0 };
        let shape = SviShape { w0: svi_w(&shape, 0.0), ..shape };
        // Steps of 0.01 points: truncation ~1e-10, rounding ~1e-12 (delta), ~1e-8 (gamma).
        let h = 1e-4;
        for centre in [-0.06, -0.02, 0.0, 0.01, 0.05] {
            let cubes = svi_call_cubes(shape, 0.3, 4.0, &[centre - h, centre, centre + h]);
            let (v, delta, gamma) = (&cubes[0], cubes[1][1], cubes[2][1]);
            let step = 100.0 * h;
            let fd_delta = (v[2] - v[0]) / (2.0 * step);
            let fd_gamma = (v[2] - 2.0 * v[1] + v[0]) / (step * step);
            assert!((delta - fd_delta).abs() <= 1e-6, "{centre}: delta {delta} vs {fd_delta}");
            assert!(
                (gamma - fd_gamma).abs() <= 1e-5 * gamma.abs().max(1e-3),
                "{centre}: gamma {gamma} vs {fd_gamma}"
            );
        }
    }

    #[test]
    fn svi_clips_the_moneyness_and_floors_the_vol() {
        let shape = SviShape { a: 0.0, b: 0.05, rho: 0.3, m: 0.0, sigma: 0.1, w0: 0.0 };
        let shape = SviShape { w0: svi_w(&shape, 0.0), ..shape };
        let call = |spot: f64, sigma: f64| single(Model::Bsm, true, spot, 100.0, 0.25, 0.0, 0.0, sigma)[0];
        // Spots 30 % away are beyond 0.5 standard deviations: the vol is the limit's.
        let values = svi_call_values(shape, 0.01, 0.5, &[-0.3, 0.3]);
        let at_limit = |x: f64| 0.2 * (svi_w(&shape, x * shape.w0.sqrt()) / shape.w0).sqrt();
        // ln(K/F) < 0 for the up move (strike below the forward): -limit; +limit down.
        for (value, (spot, x)) in values.iter().zip([(70.0, 0.5), (130.0, -0.5)]) {
            let want = call(spot, at_limit(x));
            assert!((value - want).abs() <= 1e-10 * want.max(1.0), "{spot}: {value} vs {want}");
        }
        // A floor above the smile binds: 1.5 times the ATM vol everywhere.
        let values = svi_call_values(shape, 1.5, 4.0, &[-0.05, 0.0, 0.05]);
        for (value, spot) in values.iter().zip([95.0, 100.0, 105.0]) {
            let want = call(spot, 0.3);
            assert!((value - want).abs() <= 1e-10 * want.max(1.0), "{spot}: {value} vs {want}");
        }
    }

    #[test]
    fn bad_svi_shapes_name_the_parameter_and_the_leg() {
        let good = SviShape { a: 0.002, b: 0.04, rho: -0.7, m: 0.01, sigma: 0.08, w0: 0.004 };
        let cases = [
            ("svi.b", SviShape { b: -0.1, ..good }),
            ("svi.rho", SviShape { rho: 1.0, ..good }),
            ("svi.sigma", SviShape { sigma: 0.0, ..good }),
            ("svi.a", SviShape { a: -0.1, ..good }),
            ("svi.w0", SviShape { w0: 0.0, ..good }),
            ("svi.m", SviShape { m: f64::NAN, ..good }),
        ];
        for (arg, bad) in cases {
            let shapes = [good.to_flat(), bad.to_flat()].concat();
            let inputs = GridInputs {
                kind: &[LegKind::SpxOption, LegKind::SpxOption],
                is_call: &[true, false],
                strike: &[100.0, 90.0],
                weight: &[1.0, 1.0],
                spot: 100.0,
                rate: 0.0,
                div: 0.0,
                spot_moves: &[0.0],
                n_shifts: 1,
                n_days: 1,
                tau: &[0.1, 0.1],
                vol: &[0.2, 0.2],
                underlying: &[0.0, 0.0],
                smile: GridSmile::Svi(SviSmiles { shapes: &shapes, floor_ratio: 0.5, moneyness_limit: 4.0 }),
            };
            let mut c = vec![vec![0.0; 1]; 6];
            let [v, d, g, ve, th, vd] = &mut c[..] else { unreachable!() };
            let out = GridOut { value: v, delta: d, gamma: g, vega: ve, theta: th, vix_delta: vd };
            let err = scenario_grid(&inputs, out).unwrap_err();
            assert!(
                matches!(err, AlvhError::InvalidValue { arg: a, index: 1, .. } if a == arg),
                "{arg}: {err}"
            );
        }
    }
}
