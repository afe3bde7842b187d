//! Timestamps as DMS APIs write them, to an instant that compares correctly.
//!
//! Strings compare badly (`10:00:00Z` and `11:00:00+01:00` are the same
//! instant; `.5Z` sorts after `.50Z`), so every `updated_at` is parsed to
//! seconds and nanoseconds since the Unix epoch, and written back in one
//! canonical form. No clock is needed: the plugin only compares and shifts
//! the API's own times.

use std::fmt;

/// A point in time, to the nanosecond (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Instant {
    /// `secs` seconds earlier.
    pub fn minus_secs(self, secs: u64) -> Instant {
        Instant {
            secs: self
                .secs
                .saturating_sub(i64::try_from(secs).unwrap_or(i64::MAX)),
            nanos: self.nanos,
        }
    }

    /// Milliseconds since the epoch (rounded down).
    pub fn unix_ms(self) -> i64 {
        self.secs
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// Seconds (below 10^11, before year 5138) or milliseconds since the
    /// epoch, as APIs that use numbers write them.
    pub fn from_unix_number(n: i64) -> Instant {
        if n.abs() < 100_000_000_000 {
            Instant { secs: n, nanos: 0 }
        } else {
            Instant {
                secs: n.div_euclid(1000),
                nanos: (n.rem_euclid(1000) as u32) * 1_000_000,
            }
        }
    }

    /// Parse `2024-05-01T10:00:00Z`, `2024-05-01T11:00:00.125+01:00`,
    /// `2024-05-01 10:00:00` (no zone: UTC), `2024-05-01T10:00:00+0100`, or a
    /// date alone (`2024-05-01`, midnight UTC). The error says what is wrong.
    pub fn parse(s: &str) -> Result<Instant, String> {
        let s = s.trim();
        let bad = || format!("{s:?} is not an ISO 8601 / RFC 3339 timestamp");
        let b = s.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |range: std::ops::Range<usize>| -> Result<i64, String> {
            let part = s.get(range).ok_or_else(bad)?;
            if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse::<i64>().map_err(|_| bad())
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(format!("{s:?} is not a real date"));
        }
        let days = days_from_civil(year, month, day);
        if b.len() == 10 {
            return Ok(Instant {
                secs: days * 86_400,
                nanos: 0,
            });
        }
        if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
            return Err(bad());
        }
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        // 60 is a leap second: counted as the next second's start.
        if hour > 23 || minute > 59 || second > 60 {
            return Err(format!("{s:?} has an impossible time of day"));
        }
        let mut rest = &s[19..];
        let mut nanos: u32 = 0;
        if let Some(frac) = rest.strip_prefix(['.', ',']) {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            for (i, d) in frac.bytes().take(digits).enumerate() {
                if i < 9 {
                    nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
                }
            }
            rest = &frac[digits..];
        }
        let offset_secs = match rest {
            "" | "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return Err(bad()),
                };
                let zone = rest[1..].replace(':', "");
                if zone.len() != 4 || !zone.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(bad());
                }
                let (h, m): (i64, i64) = (
                    zone[..2].parse().map_err(|_| bad())?,
                    zone[2..].parse().map_err(|_| bad())?,
                );
                if h > 23 || m > 59 {
                    return Err(bad());
                }
                sign * (h * 3600 + m * 60)
            }
        };
        Ok(Instant {
            secs: days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs,
            nanos,
        })
    }
}

/// RFC 3339 in UTC: `2024-05-01T10:00:00Z`, with as many fraction digits
/// as needed (`.125`, `.000001`).
impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let of_day = self.secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            of_day / 3600,
            of_day % 3600 / 60,
            of_day % 60
        )?;
        if self.nanos > 0 {
            let digits = format!("{:09}", self.nanos);
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

fn is_leap(year: i64) -> bool {
    (year.rem_euclid(4) == 0 && year.rem_euclid(100) != 0) || year.rem_euclid(400) == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Instant {
        Instant::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_the_forms_apis_use() {
        assert_eq!(t("1970-01-01T00:00:00Z"), Instant { secs: 0, nanos: 0 });
        assert_eq!(t("2024-05-01T10:00:00Z").secs, 1_714_557_600);
        assert_eq!(t("2024-05-01T11:00:00+01:00"), t("2024-05-01T10:00:00Z"));
        assert_eq!(t("2024-05-01T11:00:00+0100"), t("2024-05-01T10:00:00Z"));
        assert_eq!(t("2024-05-01 10:00:00"), t("2024-05-01T10:00:00Z"));
        assert_eq!(t("2024-05-01T10:00:00.5Z").nanos, 500_000_000);
        assert_eq!(t("2024-05-01T10:00:00.50Z"), t("2024-05-01T10:00:00.5Z"));
        assert_eq!(t("2024-05-01T10:00:00.1234567891Z").nanos, 123_456_789);
        assert_eq!(t("2024-05-01"), t("2024-05-01T00:00:00Z"));
        assert_eq!(
            t("2024-02-29T23:59:59-00:30").secs,
            t("2024-03-01T00:29:59Z").secs
        );
        assert!(t("2024-05-01T10:00:00.001Z") > t("2024-05-01T10:00:00Z"));
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-05-01T25:00:00Z",
            "2024-05-01T10:00Z",
            "2024-05-01T10:00:00.Z",
            "2024-05-01T10:00:00+1",
            "01/05/2024 10:00",
            "2024-05-01T10:00:00 BST",
        ] {
            assert!(Instant::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips_through_display() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2024-05-01T10:00:00Z",
            "2024-02-29T23:59:59.125Z",
            "1999-12-31T23:59:59.000001Z",
            "2100-03-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(t(s).to_string(), s);
        }
        assert_eq!(
            t("2024-05-01T11:00:00+01:00").to_string(),
            "2024-05-01T10:00:00Z"
        );
    }

    #[test]
    fn unix_numbers_and_shifts() {
        assert_eq!(
            Instant::from_unix_number(1_714_557_600),
            t("2024-05-01T10:00:00Z")
        );
        assert_eq!(
            Instant::from_unix_number(1_714_557_600_250),
            t("2024-05-01T10:00:00.25Z")
        );
        assert_eq!(t("2024-05-01T10:00:00Z").unix_ms(), 1_714_557_600_000);
        assert_eq!(
            t("2024-05-01T10:00:00Z").minus_secs(3600),
            t("2024-05-01T09:00:00Z")
        );
    }
}
