//! Run-time choice of the SIMD code path, and the `simd_dispatch!` macro that
//! compiles a kernel once per path.
//!
//! The wheel targets the portable x86-64 baseline; each hot kernel is compiled a
//! second and third time with AVX2+FMA and AVX-512 enabled, and `level()` picks the
//! best one the CPU has. On aarch64 there is one path: the portable build, whose
//! loops LLVM vectorizes with NEON (Advanced SIMD, two f64 lanes), which every
//! aarch64 CPU has; it is reported as "neon". Written here rather than with the `multiversion` crate
//! because users and benchmarks need to pin a lower level: `ALVH_SIMD=avx2` or
//! `baseline` in the environment, or [`set_level`] (e.g. on CPUs that clock down
//! under AVX-512, or to measure one path against another), which multiversion's
//! once-only detection does not offer.

use std::sync::atomic::{AtomicU8, Ordering};

/// A SIMD code path, from slowest to fastest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    /// The portable build: SSE2 on x86-64, NEON on aarch64, whatever the target's
    /// baseline is elsewhere.
    Baseline = 0,
    /// AVX2 with fused multiply-add.
    Avx2Fma = 1,
    /// AVX-512 (F, VL, DQ, BW, CD) with fused multiply-add.
    Avx512 = 2,
}

/// The name of [`SimdLevel::Baseline`] on this architecture: what runs there.
#[cfg(target_arch = "aarch64")]
pub const BASELINE_NAME: &str = "neon";
/// The name of [`SimdLevel::Baseline`] on this architecture: what runs there.
#[cfg(not(target_arch = "aarch64"))]
pub const BASELINE_NAME: &str = "baseline";

impl SimdLevel {
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Baseline => BASELINE_NAME,
            SimdLevel::Avx2Fma => "avx2+fma",
            SimdLevel::Avx512 => "avx512",
        }
    }

    /// Parses "baseline", "avx2" / "avx2+fma", "avx512" (and "neon", the
    /// baseline's name, on aarch64).
    pub fn parse(name: &str) -> Option<SimdLevel> {
        match name.trim().to_ascii_lowercase().as_str() {
            "baseline" | "sse2" | "scalar" => Some(SimdLevel::Baseline),
            name if name == BASELINE_NAME => Some(SimdLevel::Baseline),
            "avx2" | "avx2+fma" => Some(SimdLevel::Avx2Fma),
            "avx512" | "avx-512" => Some(SimdLevel::Avx512),
            _ => None,
        }
    }

    fn from_u8(value: u8) -> SimdLevel {
        match value {
            2 => SimdLevel::Avx512,
            1 => SimdLevel::Avx2Fma,
            _ => SimdLevel::Baseline,
        }
    }
}

/// The best path this CPU supports.
pub fn detected() -> SimdLevel {
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
            && std::arch::is_x86_feature_detected!("popcnt");
        let avx512 = avx2
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512cd");
        if avx512 {
            return SimdLevel::Avx512;
        }
        if avx2 {
            return SimdLevel::Avx2Fma;
        }
    }
    SimdLevel::Baseline
}

const UNSET: u8 = u8::MAX;
static LEVEL: AtomicU8 = AtomicU8::new(UNSET);

/// The path the kernels take: the detected one, lowered by `ALVH_SIMD` or
/// [`set_level`]. Never above what the CPU supports.
#[inline]
pub fn level() -> SimdLevel {
    let value = LEVEL.load(Ordering::Relaxed);
    if value != UNSET {
        return SimdLevel::from_u8(value);
    }
    let requested = std::env::var("ALVH_SIMD").ok().and_then(|v| SimdLevel::parse(&v));
    let chosen = requested.map_or(detected(), |r| r.min(detected()));
    LEVEL.store(chosen as u8, Ordering::Relaxed);
    chosen
}

/// Pins the path (capped at what the CPU supports); returns the one now in use.
pub fn set_level(requested: SimdLevel) -> SimdLevel {
    let chosen = requested.min(detected());
    LEVEL.store(chosen as u8, Ordering::Relaxed);
    chosen
}

/// Defines `fn $name(args) -> ret` whose `$body` is compiled three times (with `M`
/// bound to `Fused` for the AVX-512 and AVX2+FMA clones, `Separate` for the
/// baseline) and dispatched on [`level()`]. Helpers the body calls must be
/// `#[inline(always)]` so they are compiled inside each clone.
macro_rules! simd_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(unused_parens)]
            fn body<M: $crate::simd_math::MulAdd>($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx512cd,avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
            fn avx512($($arg: $ty),*) $(-> $ret)? {
                body::<$crate::simd_math::Fused>($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
            fn avx2($($arg: $ty),*) $(-> $ret)? {
                body::<$crate::simd_math::Fused>($($arg),*)
            }

            match $crate::simd::level() {
                // SAFETY: level() never reports a path whose features the CPU lacks.
                #[cfg(target_arch = "x86_64")]
                $crate::simd::SimdLevel::Avx512 => unsafe { avx512($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::simd::SimdLevel::Avx2Fma => unsafe { avx2($($arg),*) },
                _ => body::<$crate::simd_math::Separate>($($arg),*),
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_levels_are_capped_by_the_cpu() {
        for level in [SimdLevel::Baseline, SimdLevel::Avx2Fma, SimdLevel::Avx512] {
            assert_eq!(SimdLevel::parse(level.name()), Some(level));
        }
        assert_eq!(SimdLevel::parse("baseline"), Some(SimdLevel::Baseline));
        let neon = if cfg!(target_arch = "aarch64") { Some(SimdLevel::Baseline) } else { None };
        assert_eq!(SimdLevel::parse("neon"), neon);
        let best = detected();
        assert_eq!(set_level(SimdLevel::Baseline), SimdLevel::Baseline);
        assert_eq!(level(), SimdLevel::Baseline);
        assert_eq!(set_level(SimdLevel::Avx512), best);
        assert_eq!(level(), best);
    }
}
