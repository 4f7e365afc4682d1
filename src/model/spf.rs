//! SPF results (RFC 7208 §2.6) as the reports spell them (docs/design.md §2b).

/// The result of SPF's `check_host()` for a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpfResult {
    Pass,
    Fail,
    SoftFail,
    Neutral,
    None,
    TempError,
    PermError,
}

impl SpfResult {
    pub const ALL: [SpfResult; 7] = [
        SpfResult::Pass,
        SpfResult::Fail,
        SpfResult::SoftFail,
        SpfResult::Neutral,
        SpfResult::None,
        SpfResult::TempError,
        SpfResult::PermError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::Neutral => "neutral",
            SpfResult::None => "none",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }

    /// The name of the result's column in the CSVs that count messages per SPF result
    /// (`--by-day`, the history, the domain summary): `spf_` and its spelling.
    pub const fn column(self) -> &'static str {
        match self {
            SpfResult::Pass => "spf_pass",
            SpfResult::Fail => "spf_fail",
            SpfResult::SoftFail => "spf_softfail",
            SpfResult::Neutral => "spf_neutral",
            SpfResult::None => "spf_none",
            SpfResult::TempError => "spf_temperror",
            SpfResult::PermError => "spf_permerror",
        }
    }

    /// `columns` with the results' column names, in [`SpfResult::ALL`]'s order, from `at`
    /// on: how the reports' constant headers are built.
    pub const fn columns_into<const N: usize>(
        mut columns: [&'static str; N],
        at: usize,
    ) -> [&'static str; N] {
        let mut i = 0;
        while i < SpfResult::ALL.len() {
            columns[at + i] = SpfResult::ALL[i].column();
            i += 1;
        }
        columns
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for SpfResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_spf_and_the_spelling_in_order() {
        for r in SpfResult::ALL {
            assert_eq!(r.column(), format!("spf_{}", r.as_str()), "{r:?}");
        }
        let header = SpfResult::columns_into(["a", "", "", "", "", "", "", "", "z"], 1);
        assert_eq!(header[0], "a");
        assert_eq!(header[1..8], SpfResult::ALL.map(SpfResult::column));
        assert_eq!(header[8], "z");
    }

    #[test]
    fn spellings_are_rfc_7208s_and_indices_follow_all() {
        let words: Vec<&str> = SpfResult::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            words,
            [
                "pass",
                "fail",
                "softfail",
                "neutral",
                "none",
                "temperror",
                "permerror"
            ]
        );
        for (i, r) in SpfResult::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
