//! The P&L statistics: per (scenario, day) over the paths and for the
//! probability-weighted mixture per day, the mean, std, inverted-CDF quantiles,
//! VaR/CVaR, P(profit) and their Monte Carlo standard errors
//! (docs/projection_engine.md, "Statistics").

use super::checks::check_all;
use crate::error::{AlvhError, Result};
use crate::kernels::check_lengths;
use rayon::prelude::*;

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

    #[test]
    fn bad_probabilities_name_the_argument() {
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
