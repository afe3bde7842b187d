//! Vehicle identification numbers (ISO 3779): structure, and the
//! North-American check digit in position 9. European and Asian VINs need
//! no check digit, so for UK stock a mismatch is only worth a warning.

/// Why a VIN is malformed, if it is.
pub fn structure_problem(vin: &str) -> Option<String> {
    let n = vin.chars().count();
    if n != 17 {
        return Some(format!("has {n} characters; a VIN has 17"));
    }
    if let Some(c) = vin.chars().find(|c| matches!(c, 'I' | 'O' | 'Q')) {
        return Some(format!(
            "contains {c}; VINs never use I, O or Q (they look like 1 and 0)"
        ));
    }
    if let Some(c) = vin
        .chars()
        .find(|c| !c.is_ascii_uppercase() && !c.is_ascii_digit())
    {
        return Some(format!(
            "contains {c:?}; only capital letters and digits are allowed"
        ));
    }
    None
}

fn transliterate(c: char) -> u32 {
    match c {
        '0'..='9' => c as u32 - '0' as u32,
        'A' | 'J' => 1,
        'B' | 'K' | 'S' => 2,
        'C' | 'L' | 'T' => 3,
        'D' | 'M' | 'U' => 4,
        'E' | 'N' | 'V' => 5,
        'F' | 'W' => 6,
        'G' | 'P' | 'X' => 7,
        'H' | 'Y' => 8,
        'R' | 'Z' => 9,
        _ => 0,
    }
}

const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// The check digit a well-formed VIN should carry in position 9 ('0'-'9' or 'X').
pub fn check_digit(vin: &str) -> char {
    let sum: u32 = vin
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| transliterate(c) * w)
        .sum();
    match sum % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).unwrap_or('0'),
    }
}

/// Whether the manufacturer code is North American (1-5), where the check digit is mandatory.
pub fn north_american(vin: &str) -> bool {
    matches!(vin.chars().next(), Some('1'..='5'))
}

/// The check-digit problem of a well-formed VIN, if any.
pub fn check_digit_problem(vin: &str) -> Option<String> {
    let expected = check_digit(vin);
    let actual = vin.chars().nth(8)?;
    (actual != expected).then(|| {
        format!("check digit (position 9) is {actual}, the North-American rule gives {expected}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure() {
        assert_eq!(structure_problem("1M8GDM9AXKP042788"), None);
        assert!(structure_problem("1M8GDM9AXKP04278")
            .unwrap()
            .contains("16"));
        assert!(structure_problem("1M8GDM9AXKP0427888")
            .unwrap()
            .contains("18"));
        assert!(structure_problem("1M8GDM9AXKPO42788")
            .unwrap()
            .contains('O'));
        assert!(structure_problem("IM8GDM9AXKP042788")
            .unwrap()
            .contains('I'));
        assert!(structure_problem("1M8GDM9AXKP04278Q")
            .unwrap()
            .contains('Q'));
        assert!(structure_problem("1m8GDM9AXKP042788").is_some());
        assert!(structure_problem("1M8GDM9AX-P042788").is_some());
    }

    #[test]
    fn north_american_check_digit() {
        // Textbook examples: 1M8GDM9AXKP042788 (X) and 11111111111111111 (1).
        assert_eq!(check_digit("1M8GDM9AXKP042788"), 'X');
        assert_eq!(check_digit_problem("1M8GDM9AXKP042788"), None);
        assert_eq!(check_digit_problem("11111111111111111"), None);
        assert_eq!(check_digit("1HGCM82633A004352"), '3');
        let p = check_digit_problem("1M8GDM9A1KP042788").unwrap();
        assert!(p.contains("is 1") && p.contains("gives X"), "{p}");
        assert!(north_american("1HGCM82633A004352"));
        assert!(!north_american("WVWZZZ1KZAW000001"));
    }
}
