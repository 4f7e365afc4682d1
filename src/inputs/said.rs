//! Messages of the inputs stage that refer to a setting of the read (`--strict` stopped here,
//! `--format` would say what it is). The stage names the setting by type, [`Setting`], and
//! the command layer spells it as its flag when it prints the message: flag names stay at
//! the top (ripgrep's rule: typed errors below, flag names only where flags are parsed).

/// A setting of the read a message refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// The first malformed record fails its input.
    Strict,
    /// The longest line or header block read.
    MaxLineBytes,
    /// The format of every input, instead of detection.
    Format,
    /// Entries left out of walks.
    Exclude,
    /// Every name behind a count.
    Verbose,
}

/// A message: text with settings in it, rendered by [`Said::render`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Said(Vec<Piece>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Setting(Setting),
}

impl Said {
    /// `self` followed by `text`.
    pub fn text(mut self, text: &str) -> Said {
        match self.0.last_mut() {
            Some(Piece::Text(t)) => t.push_str(text),
            _ => self.0.push(Piece::Text(text.to_string())),
        }
        self
    }

    /// `self` followed by `other`.
    pub fn then(mut self, other: Said) -> Said {
        for piece in other.0 {
            self = match piece {
                Piece::Text(t) => self.text(&t),
                Piece::Setting(s) => self.setting(s),
            };
        }
        self
    }

    /// `self` followed by `setting`, spelled as the renderer names it.
    pub fn setting(mut self, setting: Setting) -> Said {
        self.0.push(Piece::Setting(setting));
        self
    }

    /// The message, each setting spelled by `name` (the command layer's flag names).
    pub fn render(&self, name: impl Fn(Setting) -> &'static str) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.as_str(),
                Piece::Setting(s) => name(*s),
            })
            .collect()
    }
}

impl From<String> for Said {
    fn from(text: String) -> Said {
        Said(vec![Piece::Text(text)])
    }
}

impl From<&str> for Said {
    fn from(text: &str) -> Said {
        Said::default().text(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_spelled_by_the_renderer_between_the_text() {
        let said = Said::from("line 3: malformed row (")
            .setting(Setting::Strict)
            .text("; ")
            .setting(Setting::MaxLineBytes)
            .text(")");
        let flags = said.render(|s| match s {
            Setting::Strict => "--strict",
            _ => "--max-line-bytes",
        });
        assert_eq!(flags, "line 3: malformed row (--strict; --max-line-bytes)");
        assert_eq!(said.render(|_| "X"), "line 3: malformed row (X; X)");
    }
}
