//! The rule that decided an evaluation, for `check`. Most rules are words; the two that come
//! from a limit of the run name the limit by type ([`Limit`]), and the command layer spells
//! it as its flag when it renders the rule: flag names stay at the top (typed values below).

/// A limit of the run that a rule names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Distinct DNS questions one evaluation may ask.
    MaxLookups,
    /// How long one evaluation may take.
    EvalTimeout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// A rule that names no limit, in words.
    Words(&'static str),
    /// The lookup budget is zero: not even the policy could be asked for.
    NoQuestionAllowed,
    /// The per-evaluation deadline passed.
    DeadlinePassed,
}

impl Rule {
    /// The rule in words, each limit spelled by `name` (the command layer's flag names).
    pub fn render(self, name: impl Fn(Limit) -> &'static str) -> String {
        match self {
            Rule::Words(words) => words.to_string(),
            Rule::NoQuestionAllowed => {
                format!("a {} of 0 allows no question", name(Limit::MaxLookups))
            }
            Rule::DeadlinePassed => format!(
                "the per-evaluation deadline ({}) passed",
                name(Limit::EvalTimeout)
            ),
        }
    }
}

impl From<&'static str> for Rule {
    fn from(words: &'static str) -> Rule {
        Rule::Words(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_spelled_by_the_renderer() {
        let flag = |l: Limit| match l {
            Limit::MaxLookups => "--max-lookups",
            Limit::EvalTimeout => "--eval-timeout",
        };
        assert_eq!(
            Rule::DeadlinePassed.render(flag),
            "the per-evaluation deadline (--eval-timeout) passed"
        );
        assert_eq!(
            Rule::NoQuestionAllowed.render(flag),
            "a --max-lookups of 0 allows no question"
        );
        assert_eq!(
            Rule::from("null MX: the domain says it sends no mail").render(|_| "unused"),
            "null MX: the domain says it sends no mail"
        );
    }
}
