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

    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
