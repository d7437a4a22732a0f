//! Property tests of the pricing limits (issue 16): as the vol grows without bound, as
//! the time to expiry or the strike go to zero, and as the strike grows without bound,
//! the BSM prices tend to their closed-form limits, for any spot, rate and dividend.
//!
//! Limits (S spot, K strike, T time, r rate, q dividend yield, F = S e^-qT, D = K e^-rT):
//! vol -> inf: call -> F, put -> D; T -> 0: intrinsic max(+-(S - K), 0);
//! K -> 0: call -> F, put -> 0; K -> inf: call -> 0, put -> D - F.

use alvh_core::{kernels, Column, ErrorMode, Flags, Model, OptionBatch};
use proptest::prelude::*;

fn price(is_call: bool, spot: f64, strike: f64, t: f64, rate: f64, div: f64, vol: f64) -> f64 {
    let batch = OptionBatch {
        is_call: Flags::Scalar(is_call),
        spot: Column::Scalar(spot),
        strike: Column::Scalar(strike),
        t: Column::Scalar(t),
        rate: Column::Scalar(rate),
        div: Column::Scalar(div),
        vol: Column::Scalar(vol),
    };
    let mut out = [f64::NAN];
    // Valid inputs by construction: an error here is itself a failure.
    match kernels::price(&batch, Model::Bsm, ErrorMode::Nan, &mut out) {
        Ok(()) => out[0],
        Err(_) => f64::NAN,
    }
}

fn close(got: f64, want: f64, scale: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * scale.max(1e-300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn huge_vol_gives_the_forward_and_the_discounted_strike(
        spot in 1e-3f64..1e6, ratio in 0.1f64..10.0, t in 1e-3f64..10.0,
        rate in -0.05f64..0.2, div in -0.05f64..0.2, exponent in 154.0f64..308.0,
    ) {
        let (strike, vol) = (spot * ratio, 10f64.powf(exponent));
        let (f, d) = (spot * (-div * t).exp(), strike * (-rate * t).exp());
        prop_assert!(close(price(true, spot, strike, t, rate, div, vol), f, f, 1e-12));
        prop_assert!(close(price(false, spot, strike, t, rate, div, vol), d, d, 1e-12));
    }

    #[test]
    fn tiny_time_gives_the_intrinsic_value(
        spot in 1.0f64..1e5, ratio in 0.5f64..2.0, vol in 0.01f64..3.0,
        rate in -0.05f64..0.2, div in -0.05f64..0.2,
    ) {
        let (strike, t) = (spot * ratio, 1e-14);
        // away from the money by more than the tiny total vol: the exact intrinsic
        prop_assume!((ratio - 1.0).abs() > 1e-3);
        let scale = spot.max(strike);
        prop_assert!(close(price(true, spot, strike, t, rate, div, vol), (spot - strike).max(0.0), scale, 1e-9));
        prop_assert!(close(price(false, spot, strike, t, rate, div, vol), (strike - spot).max(0.0), scale, 1e-9));
    }

    #[test]
    fn tiny_and_huge_strikes_give_their_limits(
        spot in 1.0f64..1e5, t in 0.01f64..5.0, vol in 0.05f64..1.0,
        rate in -0.05f64..0.2, div in -0.05f64..0.2,
    ) {
        let f = spot * (-div * t).exp();
        let tiny = spot * 1e-12;
        prop_assert!(close(price(true, spot, tiny, t, rate, div, vol), f, f, 1e-9));
        prop_assert!(price(false, spot, tiny, t, rate, div, vol).abs() <= 1e-9 * f);
        let huge = spot * 1e30; // ln(K/S) = 69: far beyond any total vol here (at most 2.3)
        let d = huge * (-rate * t).exp();
        prop_assert!(price(true, spot, huge, t, rate, div, vol).abs() <= 1e-9 * f);
        prop_assert!(close(price(false, spot, huge, t, rate, div, vol), d - f, d, 1e-12));
    }
}
