//! The projection's input checks: every length and every value the kernel reads,
//! before any work, so a bad input is an error naming the argument and its first
//! offending element (`AlvhError`), never a panic or a NaN in the output.

use super::{ProjectionInputs, ProjectionOut, VolDynamics, GREEKS, TOUCH_KINDS};
use crate::error::{AlvhError, Result};
use crate::kernels::check_lengths;
use crate::legs::LegKind;

/// The first element of `values` that is not `ok`, as an error naming `arg`.
pub(super) fn check_all(
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
    /// Every length and value the kernel reads.
    pub(super) fn check(&self) -> Result<()> {
        let legs = self.kind.len();
        let per_leg = [
            ("is_call", Some(self.is_call.len())),
            ("strike", Some(self.strike.len())),
            ("weight", Some(self.weight.len())),
            ("expiry_day", Some(self.expiry_day.len())),
            ("base_vol", Some(self.base_vol.len())),
        ];
        check_lengths(legs, &per_leg)?;
        match self.dynamics {
            VolDynamics::StickyMoneyness(smile) => smile.check()?,
            VolDynamics::StickyMoneynessSvi(svi) => svi.check(self.kind)?,
            VolDynamics::Additive { floor_ratio } => {
                if !(floor_ratio > 0.0 && floor_ratio.is_finite()) {
                    return Err(AlvhError::invalid(
                        "smile.floor_ratio",
                        0,
                        floor_ratio,
                        "positive and finite",
                    ));
                }
            }
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
}

impl ProjectionOut<'_> {
    /// The output lengths: the cubes (scenario, day, path), the touch and Greek sums.
    pub(super) fn check(&self, inputs: &ProjectionInputs<'_>) -> Result<()> {
        let (s_count, h, paths) = (inputs.drift.len(), inputs.days, inputs.paths);
        let cube = s_count * h * paths;
        check_lengths(
            cube,
            &[
                ("out.pnl", Some(self.pnl.len())),
                ("out.spot", self.spot.as_ref().map(|x| x.len())),
                ("out.vix", self.vix.as_ref().map(|x| x.len())),
            ],
        )?;
        check_lengths(
            s_count * h * TOUCH_KINDS,
            &[
                ("out.touch_sum", Some(self.touch_sum.len())),
                ("out.touch_sumsq", Some(self.touch_sumsq.len())),
            ],
        )?;
        check_lengths(
            s_count * h * GREEKS,
            &[
                ("out.greek_sum", Some(self.greek_sum.len())),
                ("out.greek_sumsq", Some(self.greek_sumsq.len())),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::projection::tests::{case, inputs, S};
    use crate::projection::{monte_carlo, ProjectionOut};

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
    }
}
