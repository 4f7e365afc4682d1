//! `--exclude GLOB`: shell-style patterns (`*`, `?`, `[abc]`, `[!abc]`, `[a-z]`) matched
//! against a walked entry. A pattern without `/` is matched against the entry's name (as
//! `find -name` does), one with `/` against the whole path as the walk spelled it, where `*`
//! also crosses `/`. Written here because the whole need is these few lines.

/// One `--exclude` pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    pattern: Vec<char>,
    whole_path: bool,
}

impl Glob {
    /// Any text is a pattern; an unclosed `[` matches itself.
    pub fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.chars().collect(),
            whole_path: pattern.contains('/'),
        }
    }

    /// True when the entry at `path` (named `name`) is excluded.
    pub fn matches(&self, path: &str, name: &str) -> bool {
        let text: Vec<char> = if self.whole_path { path } else { name }.chars().collect();
        matches_at(&self.pattern, &text)
    }
}

impl std::fmt::Display for Glob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.pattern.iter().collect::<String>())
    }
}

/// Iterative matching with one backtrack point per `*` (linear in practice, no recursion
/// for hostile patterns to blow up).
fn matches_at(p: &[char], t: &[char]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
            continue;
        }
        if pi < p.len()
            && let Some((matched, len)) = one(&p[pi..], t[ti])
            && matched
        {
            pi += len;
            ti += 1;
            continue;
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the pattern element at the start of `p` matches `c`, and its length.
fn one(p: &[char], c: char) -> Option<(bool, usize)> {
    match p[0] {
        '?' => Some((true, 1)),
        '[' => Some(class(p, c).unwrap_or((c == '[', 1))),
        other => Some((other == c, 1)),
    }
}

/// `[...]` at the start of `p`: whether it holds `c`, and its length; `None` if unclosed.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negated = matches!(p.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == ']' && !first {
            return Some((hit != negated, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&hi| hi != ']') {
            hit |= (lo..=p[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= lo == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        Glob::new(pattern).matches(name, name)
    }

    #[test]
    fn shell_patterns() {
        assert!(m("*.log", "alternatives.log"));
        assert!(!m("*.log", "mail.log.1"));
        assert!(m("mail.log*", "mail.log.1"));
        assert!(m("?ail.log", "mail.log"));
        assert!(!m("?ail.log", "ail.log"));
        assert!(m("cmds", "cmds"));
        assert!(!m("cmds", "cmds2"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("[abc]x", "bx"));
        assert!(!m("[!abc]x", "bx"));
        assert!(m("[a-c]x", "cx"));
        assert!(!m("[a-c]x", "dx"));
        assert!(m("[]]", "]"));
        assert!(m("[x", "[x"), "an unclosed class is a literal");
        assert!(m("été*", "été.log"));
    }

    #[test]
    fn slash_patterns_match_the_path() {
        let g = Glob::new("*/spam/*");
        assert!(g.matches("/srv/mail/spam/1", "1"));
        assert!(!g.matches("/srv/mail/ham/1", "1"));
        let g = Glob::new("*.gz");
        assert!(g.matches("/a/b.gz/c", "b.gz"), "names only");
        assert!(!g.matches("/a/b.gz/c", "c"));
    }

    #[test]
    fn hostile_patterns_stay_fast() {
        let p = "*a".repeat(40);
        let t = "a".repeat(2000) + "b";
        let started = std::time::Instant::now();
        assert!(!m(&p, &t));
        assert!(started.elapsed().as_secs() < 2);
    }
}
