//! Where records end, found from the bytes: the fast path of a pull with
//! known rows hashes a line without parsing it when the line is a whole
//! record. Only the `csv` parser decides anything else.

#[cfg(test)]
use crate::decode;
#[cfg(test)]
use csv::ByteRecord;
#[cfg(test)]
use std::io::Cursor;

/// An estimate of the records in `text` from its line breaks (one more than
/// the `\n`s or the `\r`s, whichever are more): exact for a file with one
/// kind of line break and no quoted ones.
pub fn line_bound(text: &[u8]) -> usize {
    let lf = memchr::memchr_iter(b'\n', text).count();
    let cr = memchr::memchr_iter(b'\r', text).count();
    lf.max(cr) + 1
}

pub fn is_line_break(b: &u8) -> bool {
    matches!(b, b'\n' | b'\r')
}

/// Whether the record starting at `body[start]` (a record's first byte: not
/// a line break) ends at the end of its line (the next `\n`, `\r\n` or
/// lone `\r`): none of its quoted fields runs past the line. Then the
/// record's bytes are `body[start..end]` and the next record starts at or
/// after `next`; returns `(end, next)`. Else `None` (the record may span
/// lines, or the body ends without a line break): only the parser can tell.
///
/// Follows the `csv` parser's rules (those of [`crate::decode::ends_inside_quotes`]):
/// a quote opens a quoted field only at the start of a field, `""` inside a
/// quoted field is a literal quote, and any other quote is literal text. A
/// `\r` inside a quoted field is left to the parser too.
pub fn single_line_record(body: &[u8], start: usize, delimiter: u8) -> Option<(usize, usize)> {
    if matches!(delimiter, b'"' | b'\r' | b'\n') {
        // Refused by the configuration; the parser's rules differ then.
        return None;
    }
    let mut i = start;
    loop {
        // Outside quoted fields: to the line break or the next quote.
        let found = i + memchr::memchr3(b'\n', b'\r', b'"', &body[i..])?;
        match body[found] {
            // The parser ends a record at `\r`, `\n` or `\r\n` alike; the
            // caller skips the rest of the line break.
            b'\n' | b'\r' => return Some((found, found + 1)),
            _ if found > start && body[found - 1] != delimiter => {
                // Inside an unquoted field, or after a quoted field's
                // closing quote: a literal quote.
                i = found + 1;
            }
            _ => {
                // A quoted field opens: its closing quote must be on this line.
                let mut j = found + 1;
                loop {
                    let quote = j + memchr::memchr3(b'"', b'\n', b'\r', &body[j..])?;
                    if body[quote] != b'"' {
                        return None;
                    }
                    if body.get(quote + 1) == Some(&b'"') {
                        j = quote + 2;
                    } else {
                        i = quote + 1;
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn single_line_records() {
        // (body, the record's end and where the next one starts)
        type Case = (&'static [u8], Option<(usize, usize)>);
        let cases: [Case; 14] = [
            (b"a,b\nc", Some((3, 4))),
            (b"a,b\r\nc", Some((3, 4))),
            (b"a,b\rc", Some((3, 4))),
            (b"a,b", None),
            (b"a,\"b\nc\"\n", None),
            (b"a,\"b\rc\"\n", None),
            (b"a,\"b,c\"\n", Some((7, 8))),
            (b"\"a\"\"\",b\n", Some((7, 8))),
            (b"\"a\"\"\nb\"\n", None),
            (b"a,5\" x\n", Some((6, 7))),
            (b"a,\"x\"y\"z\n", Some((8, 9))),
            (b"a,\"x\"\r\n", Some((5, 6))),
            (b"a,\"x\n", None),
            (b"a;\"x;y\"\n", Some((7, 8))),
        ];
        for (body, expected) in cases {
            let delimiter = if body.contains(&b';') { b';' } else { b',' };
            assert_eq!(
                single_line_record(body, 0, delimiter),
                expected,
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    proptest! {
        /// `single_line_record` agrees with the parser: when it finds a
        /// record's end, the parser's first record ends there too, and it
        /// finds the end of every record that ends with a line break and
        /// has none inside it.
        #[test]
        fn single_line_records_are_the_parsers(
            body in prop::collection::vec(
                prop::sample::select(vec![b'a', b',', b'"', b' ', b'\r', b'\n']),
                1..16,
            )
        ) {
            prop_assume!(!is_line_break(&body[0]));
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(Cursor::new(&body[..]));
            let mut record = ByteRecord::new();
            prop_assert!(reader.read_byte_record(&mut record).unwrap());
            let to = reader.position().byte() as usize;
            let ends_with_break = is_line_break(&body[to - 1])
                && !decode::ends_inside_quotes(&body[..to], b',');
            match single_line_record(&body, 0, b',') {
                Some((end, next)) => {
                    prop_assert!(ends_with_break);
                    prop_assert_eq!(end, to - 1);
                    prop_assert_eq!(next, to);
                }
                None => prop_assert!(
                    !ends_with_break || body[..to - 1].iter().any(is_line_break)
                ),
            }
        }
    }
}
