//! The MAIL-FROM verdicts of docs/design.md §2, and their report spellings (here and nowhere else).

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// The client is a permitted relay (the draft's "nonrepudiated").
    Nonrepudiated,
    /// A policy exists and the client is not in it (the draft's 550).
    Repudiated,
    /// No MX at `MAIL-FROM.D` (the draft accepts: "nonrepudiated").
    NoPolicy,
    /// A lookup failed temporarily and nothing matched (the draft's 450).
    Tempfail,
    /// The policy needed more work than the limits allow.
    Permerror,
    /// `MAIL FROM:<>`, not evaluated.
    NullSender,
    /// No usable client IP or sender domain.
    Unknown,
}

impl Verdict {
    pub const ALL: [Verdict; 7] = [
        Verdict::Nonrepudiated,
        Verdict::Repudiated,
        Verdict::NoPolicy,
        Verdict::Tempfail,
        Verdict::Permerror,
        Verdict::NullSender,
        Verdict::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Nonrepudiated => "nonrepudiated",
            Verdict::Repudiated => "repudiated",
            Verdict::NoPolicy => "no-policy",
            Verdict::Tempfail => "tempfail",
            Verdict::Permerror => "permerror",
            Verdict::NullSender => "null-sender",
            Verdict::Unknown => "unknown",
        }
    }

    /// The name of the verdict's column in the CSVs that count messages per verdict
    /// (`--by-day`, the history): its spelling with `_` for `-`, a column name that
    /// spreadsheets and query tools take without quoting.
    pub const fn column(self) -> &'static str {
        match self {
            Verdict::Nonrepudiated => "nonrepudiated",
            Verdict::Repudiated => "repudiated",
            Verdict::NoPolicy => "no_policy",
            Verdict::Tempfail => "tempfail",
            Verdict::Permerror => "permerror",
            Verdict::NullSender => "null_sender",
            Verdict::Unknown => "unknown",
        }
    }

    /// `columns` with the verdicts' column names, in [`Verdict::ALL`]'s order, from `at`
    /// on: how the reports' constant headers are built.
    pub const fn columns_into<const N: usize>(
        mut columns: [&'static str; N],
        at: usize,
    ) -> [&'static str; N] {
        let mut i = 0;
        while i < Verdict::ALL.len() {
            columns[at + i] = Verdict::ALL[i].column();
            i += 1;
        }
        columns
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_the_spellings_with_underscores() {
        for v in Verdict::ALL {
            assert_eq!(v.column(), v.as_str().replace('-', "_"), "{v:?}");
        }
        let header = Verdict::columns_into(["a", "", "", "", "", "", "", "", "z"], 1);
        assert_eq!(header[0], "a");
        assert_eq!(header[1..8], Verdict::ALL.map(Verdict::column));
        assert_eq!(header[8], "z");
    }
}
