//! The Cboe VIX formula on a model's own 30-day options (`alvh.market.cboe.model_vix`):
//! the SSVI smile's calls and puts on a strike grid, quoted to the tick (a price under
//! half a tick has a zero bid), then the white paper's steps: the forward from the
//! strike where call and put mids are closest, K0 the strike at or below it, the
//! out-of-the-money quotes walked out from K0 until two consecutive zero bids, each
//! term's variance, and the 30-day interpolation of the near and next terms.
//!
//! Why here: a `Market` solves its ATM/VIX ratio so that this number equals its VIX,
//! a few evaluations per market, one market per replay day; in numpy each evaluation
//! is ~0.3 ms of call overhead, here a few microseconds. `python/alvh/market/cboe.py`
//! keeps the reference implementation (and the fallback); a test holds them equal.

use crate::error::{AlvhError, Result};
use crate::kernels::{option_price, Discounts};
use crate::simd_math::{exp, Separate};
use crate::smile::Ssvi;

/// One term of the index: its tenor in years, its calendar days and the model's ATM
/// vol at its expiry.
#[derive(Clone, Copy, Debug)]
pub struct ModelTerm {
    pub years: f64,
    pub days: f64,
    pub atm: f64,
}

/// The VIX target tenor, calendar days.
const TARGET_DAYS: f64 = 30.0;

/// The index (points) of the SSVI model's options on `strikes` (ascending) for the
/// `near` and `next` terms (the same term twice when one expiry is exactly 30 days).
#[allow(clippy::too_many_arguments)]
pub fn model_vix(
    spot: f64,
    rate: f64,
    div: f64,
    strikes: &[f64],
    near: ModelTerm,
    next: ModelTerm,
    smile: Ssvi,
    tick: f64,
) -> Result<f64> {
    smile.check()?;
    if !spot.is_finite() || spot <= 0.0 {
        return Err(AlvhError::invalid("spot", 0, spot, "positive and finite"));
    }
    let ascending = strikes.windows(2).all(|w| w[1] > w[0]);
    if strikes.len() < 3 || !ascending || strikes[0].is_nan() || strikes[0] <= 0.0 {
        return Err(AlvhError::invalid(
            "strikes",
            0,
            strikes.len() as f64,
            "at least 3 ascending positive values",
        ));
    }
    for (arg, term) in [("near", near), ("next", next)] {
        let valid = term.years > 0.0 && term.atm > 0.0 && term.atm.is_finite() && term.days > 0.0;
        if !valid {
            return Err(AlvhError::invalid(arg, 0, term.atm, "a term with positive tenor and ATM vol"));
        }
    }
    let first = term_variance(spot, rate, div, strikes, near, smile, tick)?;
    let total = if near.days == next.days {
        first
    } else {
        let second = term_variance(spot, rate, div, strikes, next, smile, tick)?;
        let w1 = (next.days - TARGET_DAYS) / (next.days - near.days);
        (near.years * first * w1 + next.years * second * (1.0 - w1)) * 365.0 / TARGET_DAYS
    };
    if total.is_nan() || total <= 0.0 {
        return Err(AlvhError::invalid("variance", 0, total, "positive (the chain's 30-day variance)"));
    }
    Ok(100.0 * total.sqrt())
}

/// sigma^2 of one term (the white paper's steps 1-4), from the model's quotes.
fn term_variance(
    spot: f64,
    rate: f64,
    div: f64,
    strikes: &[f64],
    term: ModelTerm,
    smile: Ssvi,
    tick: f64,
) -> Result<f64> {
    let tau = term.years;
    let growth = exp::<Separate>((rate - div) * tau);
    let sqrt_tau = tau.sqrt();
    let discounts = Discounts::new::<Separate>(tau, rate, div);
    let n = strikes.len();
    let (mut call_mid, mut put_mid) = (vec![0.0; n], vec![0.0; n]);
    let (mut call_bid, mut put_bid) = (vec![0.0; n], vec![0.0; n]);
    for (i, &k) in strikes.iter().enumerate() {
        let vol = smile.vol::<Separate>(term.atm, spot, k, growth, sqrt_tau);
        for (sign, bid, mid) in [(1.0, &mut call_bid, &mut call_mid), (-1.0, &mut put_bid, &mut put_mid)] {
            let price = option_price::<Separate>(sign, spot, k, tau, rate, div, vol, discounts);
            // Quoted to the tick: under half a tick, a zero bid and a one-tick ask.
            let quoted = price >= tick / 2.0;
            bid[i] = if quoted { price } else { 0.0 };
            mid[i] = if quoted { price } else { tick / 2.0 };
        }
    }
    let carry = (rate * tau).exp();
    let mut at: Option<usize> = None;
    for i in 0..n {
        if call_bid[i] > 0.0 && put_bid[i] > 0.0 {
            let gap = (call_mid[i] - put_mid[i]).abs();
            if at.is_none_or(|j| gap < (call_mid[j] - put_mid[j]).abs()) {
                at = Some(i);
            }
        }
    }
    let Some(at) = at else {
        return Err(AlvhError::invalid("bid", 0, 0.0, "a strike with both a call and a put bid (a forward)"));
    };
    let forward = strikes[at] + carry * (call_mid[at] - put_mid[at]);
    let Some(i0) = strikes.iter().rposition(|&k| k <= forward) else {
        return Err(AlvhError::invalid("strike", 0, forward, "a strike at or below the forward"));
    };
    // The strikes kept, ascending: puts walked down from K0, K0, calls walked up.
    let mut kept: Vec<usize> = walk((0..i0).rev(), &put_bid);
    kept.reverse();
    kept.push(i0);
    kept.extend(walk(i0 + 1..n, &call_bid));
    if kept.len() < 2 {
        return Err(AlvhError::invalid(
            "bid",
            0,
            kept.len() as f64,
            "2 or more out-of-the-money quotes with a bid",
        ));
    }
    let k0 = strikes[i0];
    let mut sum = 0.0;
    let last = kept.len() - 1;
    for (j, &i) in kept.iter().enumerate() {
        let k = strikes[i];
        let q = if k < k0 {
            put_mid[i]
        } else if k > k0 {
            call_mid[i]
        } else {
            (put_mid[i] + call_mid[i]) / 2.0
        };
        let dk = if j == 0 {
            strikes[kept[1]] - k
        } else if j == last {
            k - strikes[kept[j - 1]]
        } else {
            (strikes[kept[j + 1]] - strikes[kept[j - 1]]) / 2.0
        };
        sum += 2.0 / tau * dk / (k * k) * carry * q;
    }
    Ok(sum - (forward / k0 - 1.0).powi(2) / tau)
}

/// The indices `order` visits before its first two consecutive zero bids, those with a
/// bid.
fn walk(order: impl Iterator<Item = usize>, bids: &[f64]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut zeros = 0;
    for i in order {
        if zeros == 2 {
            break;
        }
        if bids[i] > 0.0 {
            out.push(i);
            zeros = 0;
        } else {
            zeros += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(spot: f64) -> Vec<f64> {
        let (lo, hi) = ((0.3 * spot / 5.0).ceil() * 5.0, (2.0 * spot / 5.0).floor() * 5.0);
        (0..=((hi - lo) / 5.0) as usize).map(|i| lo + 5.0 * i as f64).collect()
    }

    #[test]
    fn a_flat_smile_gives_about_its_vol() {
        // eta = 0: a flat smile at the ATM vol; the index is 100 vol within the
        // discretization of a 5-point grid.
        let flat = Ssvi { rho: 0.0, eta: 0.0, gamma: 0.5 };
        let term = |days: f64| ModelTerm { years: days / 365.0, days, atm: 0.2 };
        let v = model_vix(4000.0, 0.02, 0.015, &grid(4000.0), term(24.0), term(31.0), flat, 0.05).unwrap();
        assert!((v - 20.0).abs() < 0.02, "{v}");
    }

    #[test]
    fn bad_inputs_name_the_argument() {
        let s = Ssvi { rho: -0.7, eta: 1.15, gamma: 0.5 };
        let term = ModelTerm { years: 0.08, days: 30.0, atm: 0.16 };
        let err = model_vix(4000.0, 0.02, 0.0, &[1.0, 2.0], term, term, s, 0.05).unwrap_err();
        assert!(format!("{err}").contains("strikes"));
        let bad = Ssvi { rho: 1.5, ..s };
        let err = model_vix(4000.0, 0.02, 0.0, &grid(4000.0), term, term, bad, 0.05).unwrap_err();
        assert!(format!("{err}").contains("smile.rho"));
    }
}
