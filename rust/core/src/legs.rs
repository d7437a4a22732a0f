//! The leg types every position kernel shares: what a leg is ([`LegKind`]) and its
//! wire code. The scenario grid, the smiles (only SPX legs carry an SVI slice) and the
//! projection all read it, so it sits below them rather than in any one of them.

/// What a leg is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegKind {
    /// A European SPX option (BSM on the index).
    SpxOption,
    /// A VIX future (worth its price times the weight).
    VixFuture,
    /// A European VIX option (Black-76 on the VIX future of its expiry).
    VixOption,
}

impl LegKind {
    /// 0 = SPX option, 1 = VIX future, 2 = VIX option (the `kind` codes of the Python
    /// layer, `alvh._fallback.grid`'s `SPX_OPTION`, `VIX_FUTURE`, `VIX_OPTION`).
    pub fn from_code(code: u8) -> Option<LegKind> {
        match code {
            0 => Some(LegKind::SpxOption),
            1 => Some(LegKind::VixFuture),
            2 => Some(LegKind::VixOption),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LegKind;

    #[test]
    fn codes_map_to_the_three_kinds_and_nothing_else() {
        assert_eq!(LegKind::from_code(0), Some(LegKind::SpxOption));
        assert_eq!(LegKind::from_code(1), Some(LegKind::VixFuture));
        assert_eq!(LegKind::from_code(2), Some(LegKind::VixOption));
        assert!((3..=u8::MAX).all(|code| LegKind::from_code(code).is_none()));
    }
}
