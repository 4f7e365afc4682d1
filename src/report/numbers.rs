//! Numbers as a person reads them: thousands separated (`12,345`) on the HTML page, rates
//! with one decimal (`38.2/s`) wherever a rate is shown. One place, so every report writes
//! them alike.

use std::time::Duration;

/// `n` with a comma between each group of three digits: `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `count` per second over `elapsed`, one decimal: `38.2/s`; `-` when no time passed.
pub fn rate(count: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return "-".to_string();
    }
    format!("{:.1}/s", count as f64 / secs)
}

/// `n` and its noun, singular for one: `1 input`, `2 inputs` (`noun` is the plural, and
/// takes an `s`). The headline of every run counts inputs, and `1 inputs` reads as a bug.
pub fn counted(n: impl Into<u64>, plural: &str) -> String {
    let n = n.into();
    match n {
        1 => format!("1 {}", plural.strip_suffix('s').unwrap_or(plural)),
        _ => format!("{n} {plural}"),
    }
}

/// A resolution time as a person reads it: `5.0 s`, or `13 ms` under a second, where one
/// decimal of seconds said a fast run's 104 questions took `0.0 s` at `8197.2/s`.
pub fn span(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) {
        format!("{} ms", elapsed.as_millis())
    } else {
        format!("{:.1} s", elapsed.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_under_a_second_is_in_milliseconds() {
        assert_eq!(span(Duration::from_millis(13)), "13 ms");
        assert_eq!(span(Duration::from_millis(999)), "999 ms");
        assert_eq!(span(Duration::from_millis(5_040)), "5.0 s");
    }

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1u64, "inputs"), "1 input");
        assert_eq!(counted(0u64, "inputs"), "0 inputs");
        assert_eq!(counted(2u64, "messages"), "2 messages");
        assert_eq!(counted(1u64, "pairs"), "1 pair");
    }

    #[test]
    fn thousands_are_separated() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (12_345, "12,345"),
            (1_234_567, "1,234,567"),
            (u64::MAX, "18,446,744,073,709,551,615"),
        ];
        for (n, text) in cases {
            assert_eq!(thousands(n), text);
        }
    }

    #[test]
    fn rates_have_one_decimal() {
        assert_eq!(rate(191, Duration::from_secs(5)), "38.2/s");
        assert_eq!(rate(3, Duration::from_millis(1500)), "2.0/s");
        assert_eq!(rate(3, Duration::ZERO), "-");
    }
}
