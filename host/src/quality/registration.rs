//! UK registration marks: which format a mark has, and when its age
//! identifier was first issued, so it can be compared with the vehicle's
//! first-registration date. A mark may be older than the vehicle (cherished
//! transfers), never newer: DVLA does not allow a plate that makes a vehicle
//! look younger than it is.

use jiff::civil::Date;

/// The format of a UK mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Format {
    /// AB12 CDE (September 2001 on): age identifier in the digits.
    Current,
    /// A123 BCD (August 1983 to August 2001): age letter first.
    Prefix,
    /// ABC 123D (1963 to July 1983): age letter last.
    Suffix,
    /// ABC 123, 1 A: no age identifier.
    Dateless,
    /// Northern Ireland (county codes with I or Z): no age identifier.
    NorthernIreland,
    /// Q 123 ABC: vehicles of unknown age or identity.
    Q,
}

impl Format {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Prefix => "prefix",
            Self::Suffix => "suffix",
            Self::Dateless => "dateless",
            Self::NorthernIreland => "Northern Ireland",
            Self::Q => "Q plate",
        }
    }
}

/// Letters used as prefix and suffix age identifiers (never I, O, Q, U, Z).
const AGE_LETTERS: &str = "ABCDEFGHJKLMNPRSTVWXY";

fn split(mark: &str) -> Vec<(bool, String)> {
    // Runs of letters and digits: "AB12CDE" -> [(true,"AB"),(false,"12"),(true,"CDE")].
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in mark.chars() {
        let alpha = c.is_ascii_alphabetic();
        match out.last_mut() {
            Some((a, run)) if *a == alpha => run.push(c),
            _ => out.push((alpha, c.to_string())),
        }
    }
    out
}

/// The format of a mark (upper case, no spaces), or why it is not a UK mark.
pub fn format(mark: &str) -> Result<Format, String> {
    if mark.is_empty() || mark.len() > 7 {
        return Err(format!(
            "has {} characters; a UK mark has 2 to 7",
            mark.len()
        ));
    }
    if !mark
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err("may only contain letters A-Z and digits".into());
    }
    let runs = split(mark);
    let shape: Vec<(bool, usize)> = runs.iter().map(|(a, r)| (*a, r.len())).collect();
    let no_iq = |s: &str| !s.contains(['I', 'Q']);
    match shape.as_slice() {
        [(true, 2), (false, 2), (true, 3)] => {
            let (tag, age, random) = (&runs[0].1, &runs[1].1, &runs[2].1);
            let first = tag.chars().next().unwrap_or('I');
            let second = tag.chars().nth(1).unwrap_or('I');
            if !"ABCDEFGHKLMNOPRSVWXY".contains(first) || "IQZ".contains(second) {
                return Err(format!("memory tag {tag} is not a DVLA area code"));
            }
            if !no_iq(random) {
                return Err("the last three letters never include I or Q".into());
            }
            let n: u8 = age.parse().unwrap_or(0);
            if matches!(n, 0 | 1 | 50) {
                return Err(format!("age identifier {age} was never issued"));
            }
            Ok(Format::Current)
        }
        [(true, 1), (false, 1..=3), (true, 3)] if runs[0].1 == "Q" => Ok(Format::Q),
        [(true, 1), (false, 1..=3), (true, 3)] => {
            if !AGE_LETTERS.contains(runs[0].1.as_str()) {
                return Err(format!("{} is not a prefix age letter", runs[0].1));
            }
            if !no_iq(&runs[2].1) {
                return Err("the last three letters never include I or Q".into());
            }
            Ok(Format::Prefix)
        }
        [(true, 1..=3), (false, 1..=3), (true, 1)] => {
            if !AGE_LETTERS.contains(runs[2].1.as_str()) {
                return Err(format!("{} is not a suffix age letter", runs[2].1));
            }
            Ok(Format::Suffix)
        }
        [(true, 2..=3), (false, 1..=4)] if is_ni(&runs[0].1) => Ok(Format::NorthernIreland),
        [(true, 1..=3), (false, 1..=4)] | [(false, 1..=4), (true, 1..=3)] => {
            if mark.len() > 7 {
                return Err("too long for a dateless mark".into());
            }
            Ok(Format::Dateless)
        }
        _ => Err("matches no UK format (current AB12CDE, prefix A123BCD, suffix ABC123D, dateless, Northern Ireland, Q plate)".into()),
    }
}

/// Northern Irish series end in a two-letter county code with an I or a Z
/// (IA, IB, ..., AZ, BZ, ...), letters Great Britain does not use there.
fn is_ni(letters: &str) -> bool {
    letters.len() >= 2 && letters[letters.len() - 2..].contains(['I', 'Z'])
}

/// When a current-format age identifier was first issued (`02` = 1 March
/// 2002, `51` = 1 September 2001).
pub fn current_age_start(age: u8) -> Option<Date> {
    match age {
        2..=49 => Date::new(2000 + age as i16, 3, 1).ok(),
        51..=99 => Date::new(2000 + (age - 50) as i16, 9, 1).ok(),
        _ => None,
    }
}

/// When a prefix age letter was first issued.
pub fn prefix_start(letter: char) -> Option<Date> {
    let (y, m) = match letter {
        'A' => (1983, 8),
        'B' => (1984, 8),
        'C' => (1985, 8),
        'D' => (1986, 8),
        'E' => (1987, 8),
        'F' => (1988, 8),
        'G' => (1989, 8),
        'H' => (1990, 8),
        'J' => (1991, 8),
        'K' => (1992, 8),
        'L' => (1993, 8),
        'M' => (1994, 8),
        'N' => (1995, 8),
        'P' => (1996, 8),
        'R' => (1997, 8),
        'S' => (1998, 8),
        'T' => (1999, 3),
        'V' => (1999, 9),
        'W' => (2000, 3),
        'X' => (2000, 9),
        'Y' => (2001, 3),
        _ => return None,
    };
    Date::new(y, m, 1).ok()
}

/// When a suffix age letter was first issued.
pub fn suffix_start(letter: char) -> Option<Date> {
    let (y, m) = match letter {
        'A' => (1963, 2),
        'B' => (1964, 1),
        'C' => (1965, 1),
        'D' => (1966, 1),
        'E' => (1967, 1),
        'F' => (1967, 8),
        'G' => (1968, 8),
        'H' => (1969, 8),
        'J' => (1970, 8),
        'K' => (1971, 8),
        'L' => (1972, 8),
        'M' => (1973, 8),
        'N' => (1974, 8),
        'P' => (1975, 8),
        'R' => (1976, 8),
        'S' => (1977, 8),
        'T' => (1978, 8),
        'V' => (1979, 8),
        'W' => (1980, 8),
        'X' => (1981, 8),
        'Y' => (1982, 8),
        _ => return None,
    };
    Date::new(y, m, 1).ok()
}

/// When the mark's age identifier was first issued (None for marks without one).
pub fn issued_from(mark: &str, format: Format) -> Option<Date> {
    match format {
        Format::Current => current_age_start(mark[2..4].parse().ok()?),
        Format::Prefix => prefix_start(mark.chars().next()?),
        Format::Suffix => suffix_start(mark.chars().last()?),
        _ => None,
    }
}

/// Check the age identifier against the first-registration date and today.
pub fn age_problem(
    mark: &str,
    format: Format,
    first_registered: Option<Date>,
    today: Date,
) -> Option<String> {
    let from = issued_from(mark, format)?;
    if from > today {
        return Some(format!(
            "age identifier of {mark} is not issued until {from}"
        ));
    }
    let first = first_registered?;
    (from > first).then(|| {
        format!(
            "{mark} ({} format) was first issued on {from}, after the vehicle's first registration on {first}: a mark cannot make a vehicle look newer",
            format.name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn recognises_every_uk_format() {
        assert_eq!(format("AB12CDE"), Ok(Format::Current));
        assert_eq!(format("LD71XYZ"), Ok(Format::Current));
        assert_eq!(format("A123BCD"), Ok(Format::Prefix));
        assert_eq!(format("Y9ABC"), Ok(Format::Prefix));
        assert_eq!(format("ABC123D"), Ok(Format::Suffix));
        assert_eq!(format("AB1C"), Ok(Format::Suffix));
        assert_eq!(format("ABC123"), Ok(Format::Dateless));
        assert_eq!(format("1A"), Ok(Format::Dateless));
        assert_eq!(format("1234AB"), Ok(Format::Dateless));
        assert_eq!(format("AIZ1234"), Ok(Format::NorthernIreland));
        assert_eq!(format("XI99"), Ok(Format::NorthernIreland));
        assert_eq!(format("Q123ABC"), Ok(Format::Q));
        assert_eq!(format("Q1ABC"), Ok(Format::Q));
    }

    #[test]
    fn rejects_what_dvla_never_issues() {
        for bad in [
            "", "AB12CDEF", "AB-12", "ab12cde", "IB12CDE", "AQ12CDE", "AB12CDI", "AB00CDE",
            "AB50CDE", "I123ABC", "ABC123I", "12AB34", "ABCDEFG", "1234567",
        ] {
            assert!(format(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn age_identifiers_have_their_release_dates() {
        assert_eq!(current_age_start(51), Some(d(2001, 9, 1)));
        assert_eq!(current_age_start(2), Some(d(2002, 3, 1)));
        assert_eq!(current_age_start(24), Some(d(2024, 3, 1)));
        assert_eq!(current_age_start(74), Some(d(2024, 9, 1)));
        assert_eq!(current_age_start(50), None);
        assert_eq!(prefix_start('A'), Some(d(1983, 8, 1)));
        assert_eq!(prefix_start('Y'), Some(d(2001, 3, 1)));
        assert_eq!(suffix_start('Y'), Some(d(1982, 8, 1)));
        assert_eq!(prefix_start('I'), None);
    }

    #[test]
    fn a_mark_may_be_older_than_the_vehicle_never_newer() {
        let today = d(2026, 11, 28);
        let f = Format::Current;
        // 21 plate (March 2021) on a car first registered in May 2021: fine.
        assert_eq!(age_problem("AB21CDE", f, Some(d(2021, 5, 10)), today), None);
        // On its first day.
        assert_eq!(age_problem("AB71CDE", f, Some(d(2021, 9, 1)), today), None);
        // Cherished older plate on a newer car: fine.
        assert_eq!(age_problem("AB15CDE", f, Some(d(2021, 5, 10)), today), None);
        // A 71 plate (September 2021) on a car registered in August 2021: wrong.
        let p = age_problem("AB71CDE", f, Some(d(2021, 8, 31)), today).unwrap();
        assert!(p.contains("2021-09-01"), "{p}");
        // Not issued yet.
        assert!(age_problem("AB27CDE", f, None, today)
            .unwrap()
            .contains("not issued"));
        // Prefix and suffix.
        assert!(age_problem("R123ABC", Format::Prefix, Some(d(1996, 1, 1)), today).is_some());
        assert!(age_problem("ABC123Y", Format::Suffix, Some(d(1983, 1, 1)), today).is_none());
        // No age identifier: nothing to compare.
        assert_eq!(
            age_problem("ABC123", Format::Dateless, Some(d(2020, 1, 1)), today),
            None
        );
        assert_eq!(
            age_problem("Q123ABC", Format::Q, Some(d(2020, 1, 1)), today),
            None
        );
    }
}
