//! From the document's bytes to text: encoding, delimiter, truncation.

/// The text encoding a document was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a byte-order mark, if any, is dropped).
    Utf8,
    /// UTF-16 with a byte-order mark (Excel's "Unicode text").
    Utf16,
    /// Not valid UTF-8: invalid byte sequences were read as Windows-1252.
    Windows1252,
}

impl Encoding {
    /// Name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16 => "UTF-16",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// Decode the document: UTF-8 with or without a BOM, UTF-16 with a BOM,
/// else UTF-8 with a Windows-1252 fallback for the bytes that are not UTF-8. Refuses archives and binary files with a reason.
///
/// Takes the bytes by value so that a UTF-8 document becomes a `String`
/// without a copy, and a re-encoded one frees its bytes at once: a 50 MiB
/// export must fit in the plugin's memory limit beside its vehicles.
pub fn decode(mut bytes: Vec<u8>) -> Result<(String, Encoding), String> {
    const MAGIC: [(&[u8], &str); 4] = [
        (
            b"PK\x03\x04",
            "a ZIP archive (an .xlsx workbook?); export the stock list as CSV",
        ),
        (
            b"\x1f\x8b",
            "a gzip-compressed file; it must be decompressed first",
        ),
        (b"%PDF", "a PDF document, not a CSV export"),
        (
            b"\xd0\xcf\x11\xe0",
            "an Excel .xls workbook; export the stock list as CSV",
        ),
    ];
    for (magic, what) in MAGIC {
        if bytes.starts_with(magic) {
            return Err(format!("the document is {what}"));
        }
    }

    let (text, encoding) = if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        // `decode` sniffs the BOM (LE or BE) and drops it.
        let (text, _, _) = encoding_rs::UTF_16LE.decode(&bytes);
        (text.into_owned(), Encoding::Utf16)
    } else {
        if bytes.starts_with(b"\xef\xbb\xbf") {
            bytes.drain(..3);
        }
        match String::from_utf8(bytes) {
            Ok(s) => (s, Encoding::Utf8),
            Err(e) => (utf8_with_1252_fallback(e.as_bytes()), Encoding::Windows1252),
        }
    };

    if looks_binary(&text) {
        return Err("the document is not text (binary data); expected a CSV or TSV export".into());
    }
    Ok((text, encoding))
}

/// Valid UTF-8 runs as UTF-8, every invalid sequence as Windows-1252: a
/// pure Windows-1252 export reads as Windows-1252, and a UTF-8 file with a
/// stray Windows-1252 `£` (0xA3) keeps its other accented letters.
fn utf8_with_1252_fallback(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&rest[..bad]);
                out.push_str(&text);
                bytes = &rest[bad..];
            }
        }
    }
}

/// A NUL character, or more than 1 in 20 control characters other than tab
/// and line breaks, among the first 65,536 characters: not a text export.
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars().take(65_536) {
        total += 1;
        if c == '\0' {
            return true;
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
            control += 1;
        }
    }
    total > 0 && control * 20 > total
}

/// The first line of `text` (without its terminator).
pub fn first_line(text: &str) -> &str {
    text.split(['\r', '\n']).next().unwrap_or("")
}

/// Excel's `sep=;` first line: the delimiter it names, and the text after it.
pub fn excel_sep_line(text: &str) -> Option<(u8, &str)> {
    let line = first_line(text);
    let rest = line
        .strip_prefix("sep=")
        .or_else(|| line.strip_prefix("SEP="))?;
    let delimiter = match rest.as_bytes() {
        [d] if *d != b'"' => *d,
        _ => return None,
    };
    let after = &text[line.len()..];
    let after = after
        .strip_prefix("\r\n")
        .or_else(|| after.strip_prefix('\n'))
        .or_else(|| after.strip_prefix('\r'))
        .unwrap_or(after);
    Some((delimiter, after))
}

/// The delimiter of `header` (the first line): tab if it has more tabs than
/// commas, else `;` if more semicolons than commas, else `,`. Characters
/// inside double quotes are not counted.
pub fn detect_delimiter(header: &str) -> u8 {
    let (mut tabs, mut commas, mut semicolons) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            '\t' if !quoted => tabs += 1,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if tabs > commas {
        b'\t'
    } else if semicolons > commas {
        b';'
    } else {
        b','
    }
}

/// Whether `text` ends inside a quoted field, following the same rules as the
/// `csv` crate's parser (a quote opens a quoted field only at the start of a
/// field; `""` inside a quoted field is a literal quote). `text` may start
/// at any record's first byte: a record starts outside any quoted field.
pub fn ends_inside_quotes(text: impl AsRef<[u8]>, delimiter: u8) -> bool {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    for &b in text.as_ref() {
        let ends_field = b == delimiter || b == b'\n' || b == b'\r';
        state = match state {
            State::FieldStart if b == b'"' => State::Quoted,
            State::FieldStart | State::Unquoted if ends_field => State::FieldStart,
            State::FieldStart | State::Unquoted => State::Unquoted,
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::QuoteInQuoted if ends_field => State::FieldStart,
            State::QuoteInQuoted => State::Unquoted,
        };
    }
    state == State::Quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let (t, e) = decode(b"\xef\xbb\xbfStockNo\r\nA1\r\n".to_vec()).unwrap();
        assert_eq!((t.as_ref(), e), ("StockNo\r\nA1\r\n", Encoding::Utf8));
        let (t, e) = decode("Price\n£5\n".into()).unwrap();
        assert_eq!((t.as_ref(), e), ("Price\n£5\n", Encoding::Utf8));
        let (t, e) = decode(b"Price\n\xa35\n".to_vec()).unwrap();
        assert_eq!((t.as_ref(), e), ("Price\n£5\n", Encoding::Windows1252));
        // Mixed: UTF-8 é, Windows-1252 £.
        let (t, e) = decode(b"Caf\xc3\xa9 \xa35".to_vec()).unwrap();
        assert_eq!((t.as_ref(), e), ("Café £5", Encoding::Windows1252));
        let (t, e) = decode(b"\xef\xbb\xbfCoup\xe9 \xe9\xa3".to_vec()).unwrap();
        assert_eq!((t.as_ref(), e), ("Coupé é£", Encoding::Windows1252));
        let (t, e) = decode(b"\x80 \x93quoted\x94".to_vec()).unwrap();
        assert_eq!(
            (t.as_ref(), e),
            ("€ \u{201c}quoted\u{201d}", Encoding::Windows1252)
        );
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("A\t£".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let (t, e) = decode(utf16).unwrap();
        assert_eq!((t.as_ref(), e), ("A\t£", Encoding::Utf16));
    }

    #[test]
    fn binary_is_refused() {
        assert!(decode(b"PK\x03\x04rest".to_vec())
            .unwrap_err()
            .contains("ZIP"));
        assert!(decode(b"abc\0def".to_vec()).unwrap_err().contains("binary"));
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(decode(garbage).is_err());
    }

    #[test]
    fn delimiters() {
        assert_eq!(detect_delimiter("a,b,c"), b',');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("a\tb,c,d"), b',');
        assert_eq!(detect_delimiter("a;b;c"), b';');
        assert_eq!(detect_delimiter("\"a;b\",c"), b',');
        assert_eq!(detect_delimiter("StockNo"), b',');
        assert_eq!(excel_sep_line("sep=;\r\nA;B\r\n"), Some((b';', "A;B\r\n")));
        assert_eq!(excel_sep_line("A;B\r\n"), None);
    }

    #[test]
    fn truncation() {
        assert!(!ends_inside_quotes("a,b\n1,2\n", b','));
        assert!(!ends_inside_quotes("a,b\n1,\"x\ny\"\n", b','));
        assert!(ends_inside_quotes("a,b\n1,\"x\ny", b','));
        assert!(!ends_inside_quotes("a,b\n1,\"say \"\"hi\"\"\"", b','));
        assert!(ends_inside_quotes("a,b\n1,\"say \"\"hi", b','));
        // A quote inside an unquoted field is literal.
        assert!(!ends_inside_quotes("a,b\n1,5\" wheels\n", b','));
        assert!(ends_inside_quotes("a\tb\n1\t\"x", b'\t'));
        assert!(!ends_inside_quotes("a\tb\n1,\"x\t2", b'\t'));
    }
}
