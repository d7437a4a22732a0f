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

/// The model's quotes of one term, priced on demand: the walk out from K0 stops at two
/// consecutive zero bids, so most of a 0.3-2 x spot grid is never needed (pricing it
/// all was 80 % of the solve).
struct Quotes<'a> {
    strikes: &'a [f64],
    spot: f64,
    rate: f64,
    div: f64,
    term: ModelTerm,
    smile: Ssvi,
    tick: f64,
    growth: f64,
    sqrt_tau: f64,
    discounts: Discounts,
    /// (call bid, call mid, put bid, put mid) per strike, NaN until priced.
    cache: Vec<[f64; 4]>,
}

impl Quotes<'_> {
    fn at(&mut self, i: usize) -> [f64; 4] {
        if self.cache[i][0].is_nan() {
            let k = self.strikes[i];
            let tau = self.term.years;
            let vol = self.smile.vol::<Separate>(self.term.atm, self.spot, k, self.growth, self.sqrt_tau);
            let mut row = [0.0; 4];
            for (j, sign) in [(0, 1.0), (2, -1.0)] {
                let price = option_price::<Separate>(
                    sign,
                    self.spot,
                    k,
                    tau,
                    self.rate,
                    self.div,
                    vol,
                    self.discounts,
                );
                // Quoted to the tick: under half a tick, a zero bid and a one-tick ask.
                let quoted = price >= self.tick / 2.0;
                row[j] = if quoted { price } else { 0.0 };
                row[j + 1] = if quoted { price } else { self.tick / 2.0 };
            }
            self.cache[i] = row;
        }
        self.cache[i]
    }
}

/// sigma^2 of one term (the white paper's steps 1-4), from the model's quotes.
///
/// Step 1 looks for the strike where the call and put mids are closest among those
/// with both bids. The model's quotes satisfy put-call parity exactly wherever both are
/// quoted (`C - P = S exp(-qT) - K exp(-rT)`), so that strike is the one nearest the
/// model forward: only the strikes around it are priced for the search (ties go to the
/// lower strike, as a full scan would).
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
    let n = strikes.len();
    let mut quotes = Quotes {
        strikes,
        spot,
        rate,
        div,
        term,
        smile,
        tick,
        growth,
        sqrt_tau: tau.sqrt(),
        discounts: Discounts::new::<Separate>(tau, rate, div),
        cache: vec![[f64::NAN; 4]; n],
    };
    let carry = (rate * tau).exp();
    let model_forward = spot * growth;
    let nearest = strikes.partition_point(|&k| k < model_forward).min(n - 1);
    let mut at: Option<(usize, f64)> = None;
    for i in nearest.saturating_sub(3)..(nearest + 4).min(n) {
        let [call_bid, call_mid, put_bid, put_mid] = quotes.at(i);
        if call_bid > 0.0 && put_bid > 0.0 {
            let gap = (call_mid - put_mid).abs();
            if at.is_none_or(|(_, best)| gap < best) {
                at = Some((i, gap));
            }
        }
    }
    let Some((at, _)) = at else {
        return Err(AlvhError::invalid("bid", 0, 0.0, "a strike with both a call and a put bid (a forward)"));
    };
    let [_, call_at, _, put_at] = quotes.at(at);
    let forward = strikes[at] + carry * (call_at - put_at);
    let i0 = strikes.partition_point(|&k| k <= forward);
    if i0 == 0 {
        return Err(AlvhError::invalid("strike", 0, forward, "a strike at or below the forward"));
    }
    let i0 = i0 - 1;
    // The strikes kept, ascending: puts walked down from K0, K0, calls walked up.
    let mut kept: Vec<usize> = walk((0..i0).rev(), |i| quotes.at(i)[2]);
    kept.reverse();
    kept.push(i0);
    kept.extend(walk(i0 + 1..n, |i| quotes.at(i)[0]));
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
        let [_, call_mid, _, put_mid] = quotes.at(i);
        let q = if k < k0 {
            put_mid
        } else if k > k0 {
            call_mid
        } else {
            (put_mid + call_mid) / 2.0
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
fn walk(order: impl Iterator<Item = usize>, mut bid: impl FnMut(usize) -> f64) -> Vec<usize> {
    let mut out = Vec::new();
    let mut zeros = 0;
    for i in order {
        if zeros == 2 {
            break;
        }
        if bid(i) > 0.0 {
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
