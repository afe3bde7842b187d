//! UK vehicle excise duty (VED) CO2 bands, A to M, from a CO2 figure.
//!
//! Cars first registered from 1 March 2001 to 31 March 2017 are taxed by
//! the band of their CO2 emissions; cars registered from 1 April 2017 pay a
//! first-year rate by a different set of bands. The band is chosen by the
//! first-registration date; without one, the later scheme applies.

use forecourt_sdk::Date;

/// Upper CO2 limits (g/km, inclusive) of bands A to L; above L's is M.
const BANDS_2001_2017: [u32; 12] = [100, 110, 120, 130, 140, 150, 165, 175, 185, 200, 225, 255];
/// Upper limits of bands A to L for cars registered from 1 April 2017 (A is zero emission).
const BANDS_FROM_2017: [u32; 12] = [0, 50, 75, 90, 100, 110, 130, 150, 170, 190, 225, 255];

const LETTERS: [char; 13] = [
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M',
];

/// Whether a first registration falls in the April-2017 scheme.
fn from_april_2017(registered: Option<&Date>) -> bool {
    registered.is_none_or(|d| (d.year, d.month) >= (2017, 4))
}

/// The VED band letter for `co2` g/km. Cars registered before March 2001
/// were taxed by engine size, so they have no CO2 band.
pub fn co2_band(co2: u32, registered: Option<&Date>) -> Option<char> {
    if let Some(d) = registered {
        if (d.year, d.month) < (2001, 3) {
            return None;
        }
    }
    let limits = if from_april_2017(registered) {
        &BANDS_FROM_2017
    } else {
        &BANDS_2001_2017
    };
    let index = limits.iter().position(|&upper| co2 <= upper).unwrap_or(12);
    Some(LETTERS[index])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(year: u16, month: u8) -> Option<Date> {
        Some(Date {
            year,
            month,
            day: 1,
        })
    }

    #[test]
    fn bands_follow_the_registration_scheme() {
        // 2001-2017 scheme.
        assert_eq!(co2_band(99, d(2015, 6).as_ref()), Some('A'));
        assert_eq!(co2_band(100, d(2015, 6).as_ref()), Some('A'));
        assert_eq!(co2_band(101, d(2015, 6).as_ref()), Some('B'));
        assert_eq!(co2_band(131, d(2015, 6).as_ref()), Some('E'));
        assert_eq!(co2_band(256, d(2015, 6).as_ref()), Some('M'));
        // From April 2017.
        assert_eq!(co2_band(0, d(2020, 1).as_ref()), Some('A'));
        assert_eq!(co2_band(92, d(2020, 1).as_ref()), Some('E'));
        assert_eq!(co2_band(122, d(2020, 1).as_ref()), Some('G'));
        assert_eq!(co2_band(133, d(2017, 4).as_ref()), Some('H'));
        assert_eq!(co2_band(133, d(2017, 3).as_ref()), Some('E'));
        assert_eq!(co2_band(300, None), Some('M'));
        // Before March 2001: taxed by engine size.
        assert_eq!(co2_band(180, d(2000, 12).as_ref()), None);
    }
}
