//! The HTML page's chart over time (issue 15): one column per UTC day of `--by-day`'s rows,
//! stacked by verdict in the colours of the verdict chart, as inline SVG (the page runs no
//! script and fetches nothing). Days without dated mail between the first and the last are
//! drawn empty, so gaps and bursts read as they happened.

use std::fmt::Write;

use super::by_day::DayRow;
use super::html::{colour, escape};
use crate::model::{Day, Verdict};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 60.0;
const BOTTOM: f64 = 30.0;
const TOP: f64 = 10.0;
/// More days than this are drawn as one column per week instead of per day.
const MAX_COLUMNS: i64 = 400;

/// The chart, or nothing when no message was dated.
pub fn days_chart(s: &mut String, days: &[DayRow]) {
    let dated: Vec<(Day, &DayRow)> = days.iter().filter_map(|d| Some((d.day?, d))).collect();
    let (Some(first), Some(last)) = (dated.first(), dated.last()) else {
        return;
    };
    let (first, last) = (first.0.0 as i64, last.0.0 as i64);
    let span = last - first + 1;
    let per = if span > MAX_COLUMNS { 7 } else { 1 };
    let columns = (span + per - 1) / per;
    let mut stacks = vec![[0u64; Verdict::ALL.len()]; columns as usize];
    for (day, row) in &dated {
        let col = ((day.0 as i64 - first) / per) as usize;
        for (sum, n) in stacks[col].iter_mut().zip(row.by_verdict) {
            *sum = sum.saturating_add(n);
        }
    }
    let height_of =
        |c: &[u64; Verdict::ALL.len()]| c.iter().fold(0u64, |a, &b| a.saturating_add(b));
    let max = stacks.iter().map(height_of).max().unwrap_or(0).max(1);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let col_w = (WIDTH - LEFT - 10.0) / columns as f64;
    let unit = if per == 7 { "week" } else { "day" };
    let _ = writeln!(
        s,
        "<h2>Messages by {unit} (UTC)</h2>\n<div class=\"chart\"><svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"Messages by {unit} and verdict\" font-family=\"system-ui,sans-serif\" font-size=\"13\">"
    );
    let _ = writeln!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{WIDTH}\" y2=\"{y}\" stroke=\"#8c959f\"/>\
         <text x=\"{x}\" y=\"{t}\" text-anchor=\"end\" fill=\"#57606a\">{max}</text>\
         <text x=\"{x}\" y=\"{y}\" text-anchor=\"end\" fill=\"#57606a\">0</text>",
        y = HEIGHT - BOTTOM,
        x = LEFT - 6.0,
        t = TOP + 10.0,
    );
    for (i, stack) in stacks.iter().enumerate() {
        let x = LEFT + col_w * i as f64;
        let mut y = HEIGHT - BOTTOM;
        let start = Day((first + i as i64 * per) as i32);
        for v in Verdict::ALL {
            let n = stack[v.index()];
            if n == 0 {
                continue;
            }
            let h = n as f64 / max as f64 * plot_h;
            y -= h;
            let _ = writeln!(
                s,
                "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" fill=\"{}\">\
                 <title>{} {start}: {n} {}</title></rect>",
                colour(v),
                unit,
                escape(v.as_str()),
                w = (col_w * 0.85).max(0.5),
            );
        }
    }
    let _ = writeln!(
        s,
        "<text x=\"{LEFT}\" y=\"{y}\" fill=\"#57606a\">{}</text>\
         <text x=\"{WIDTH}\" y=\"{y}\" text-anchor=\"end\" fill=\"#57606a\">{}</text>",
        Day(first as i32),
        Day(last as i32),
        y = HEIGHT - 8.0,
    );
    s.push_str("</svg></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: i32, v: Verdict, n: u64) -> DayRow {
        let mut r = DayRow {
            day: Some(Day(day)),
            messages: n,
            ..DayRow::default()
        };
        r.by_verdict[v.index()] = n;
        r
    }

    #[test]
    fn a_column_per_day_gaps_included_and_stacked_by_verdict() {
        let mut s = String::new();
        days_chart(&mut s, &[]);
        assert!(s.is_empty(), "no chart without dates");
        let mut both = row(20_000, Verdict::Repudiated, 2);
        both.by_verdict[Verdict::Nonrepudiated.index()] = 2;
        days_chart(&mut s, &[both, row(20_003, Verdict::Repudiated, 1)]);
        assert!(s.contains("<h2>Messages by day (UTC)</h2>"), "{s}");
        assert_eq!(s.matches("<rect ").count(), 3, "{s}");
        assert!(
            s.contains(&format!("day {}: 2 repudiated", Day(20_000))),
            "{s}"
        );
        assert!(s.contains(&Day(20_003).to_string()));
        assert!(!s.contains("<script"));
    }

    #[test]
    fn long_periods_are_drawn_by_week() {
        let mut s = String::new();
        days_chart(
            &mut s,
            &[row(0, Verdict::NoPolicy, 1), row(700, Verdict::NoPolicy, 1)],
        );
        assert!(s.contains("Messages by week"), "{s}");
        assert_eq!(s.matches("<rect ").count(), 2);
    }
}
