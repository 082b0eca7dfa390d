//! Showing NumericDates (seconds since 1970-01-01T00:00:00Z, RFC 7519 §2) to people: as UTC
//! calendar dates ([`hyperjwt::calendar`]), and as spans such as "14m 3s".

use hyperjwt::calendar::civil_from_days;

/// Seconds in a day; NumericDate ignores leap seconds, as POSIX time does.
const DAY: i64 = 86_400;

/// `2026-11-25 04:40:12 UTC`.
pub fn utc(seconds: i64) -> String {
    let (year, month, day) = civil_from_days(seconds.div_euclid(DAY));
    let in_day = seconds.rem_euclid(DAY);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60
    )
}

/// A span in its two largest units, the second only when non-zero: `14m 3s`, `2h`, `3d 4h`, `0s`.
pub fn span(seconds: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    for (i, (size, name)) in UNITS.iter().enumerate() {
        if seconds >= *size || *size == 1 {
            let mut text = format!("{}{name}", seconds / size);
            if let Some((next, next_name)) = UNITS.get(i + 1) {
                let rest = seconds % size / next;
                if rest > 0 {
                    text.push_str(&format!(" {rest}{next_name}"));
                }
            }
            return text;
        }
    }
    "0s".into()
}

/// `in 5m` or `2h ago` (or `now`), for `time` relative to `now`.
pub fn relative(time: i64, now: i64) -> String {
    match time.cmp(&now) {
        std::cmp::Ordering::Greater => format!("in {}", span(time.abs_diff(now))),
        std::cmp::Ordering::Less => format!("{} ago", span(time.abs_diff(now))),
        std::cmp::Ordering::Equal => "now".into(),
    }
}

/// `expires in 14m 3s` or `expired 2h ago`. A token is expired from the second `exp` names on
/// (RFC 7519 §4.1.4: "now MUST be before" it).
pub fn expiry(exp: i64, now: i64) -> String {
    if exp > now {
        format!("expires in {}", span(exp.abs_diff(now)))
    } else if exp == now {
        "expired just now".into()
    } else {
        format!("expired {} ago", span(exp.abs_diff(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        // Leap days: 2000 (divisible by 400) has one, 2100 (by 100) doesn't.
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(951_868_800), "2000-03-01 00:00:00 UTC");
        assert_eq!(utc(4_107_542_400), "2100-03-01 00:00:00 UTC");
        assert_eq!(utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
        assert_eq!(utc(253_402_300_799), "9999-12-31 23:59:59 UTC");
        // Before 1970, seconds still count forward within the day.
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(utc(-86_400 * 365), "1969-01-01 00:00:00 UTC");
    }

    #[test]
    fn extreme_numeric_dates_do_not_overflow() {
        assert!(utc(i64::MAX).ends_with("UTC"));
        assert!(utc(i64::MIN).ends_with("UTC"));
    }

    #[test]
    fn spans_use_two_units() {
        assert_eq!(span(0), "0s");
        assert_eq!(span(59), "59s");
        assert_eq!(span(60), "1m");
        assert_eq!(span(843), "14m 3s");
        assert_eq!(span(7_200), "2h");
        assert_eq!(span(7_500), "2h 5m");
        assert_eq!(span(7_259), "2h");
        assert_eq!(span(2_592_000), "30d");
        assert_eq!(span(90_061), "1d 1h");
    }

    #[test]
    fn relative_phrases() {
        assert_eq!(relative(100, 100), "now");
        assert_eq!(relative(400, 100), "in 5m");
        assert_eq!(relative(100, 7_300), "2h ago");
        assert_eq!(expiry(943, 100), "expires in 14m 3s");
        assert_eq!(expiry(100, 7_300), "expired 2h ago");
        assert_eq!(expiry(100, 100), "expired just now");
        assert_eq!(
            expiry(i64::MIN, i64::MAX).split(' ').next(),
            Some("expired")
        );
    }
}
