//! Text helpers for platform plugins: free text from a DMS arrives with
//! stray control characters, and every platform caps lengths.

/// Control characters (tabs, line breaks) as spaces.
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_single_line(&mut out, s);
    out
}

/// Append `s` to `out` with control characters as spaces: what
/// [`single_line`] returns, without a `String` of its own.
pub fn push_single_line(out: &mut String, s: &str) {
    // Control characters are C0, DEL and C1 (U+0080..U+009F, UTF-8 bytes
    // 0xC2 0x80..=0x9F). The text between them is copied in runs. Clean
    // text is skipped 8 bytes at a time; only a chunk that may hold a
    // control character is looked at byte by byte.
    let bytes = s.as_bytes();
    out.reserve(s.len());
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        let end = match bytes.get(i..i + 8) {
            Some(chunk) => {
                let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                if !may_hold_control(word) {
                    i += 8;
                    continue;
                }
                i + 8
            }
            None => bytes.len(),
        };
        // A C1 control may start on the chunk's last byte: its second byte
        // is read past `end`, and `i` may then end up one past it.
        while i < end {
            let width = match bytes[i] {
                b if b < 0x20 || b == 0x7f => 1,
                0xc2 if matches!(bytes.get(i + 1), Some(0x80..=0x9f)) => 2,
                _ => {
                    i += 1;
                    continue;
                }
            };
            // `i` is at an ASCII byte or a lead byte: a character boundary.
            out.push_str(&s[run..i]);
            out.push(' ');
            i += width;
            run = i;
        }
    }
    out.push_str(&s[run..]);
}

/// Whether any of the 8 bytes of `word` is below 0x20, equal to 0x7F, or
/// equal to 0xC2 (the lead byte of C1 controls, but also of ordinary
/// characters such as `£`, which the byte loop then keeps). See "Determine
/// if a word has a byte less than n" in Sean Anderson's Bit Twiddling Hacks.
#[inline]
fn may_hold_control(word: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // A byte's high bit is set where the byte is below `n` (n <= 0x80);
    // bits above the lowest such byte may be wrong, but "any" is exact.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let zero = |word: u64| below(word, 1);
    below(word, 0x20) | zero(word ^ (ONES * 0x7f)) | zero(word ^ (ONES * 0xc2)) != 0
}

/// At most `max` characters, cut on a character boundary.
pub fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// One line of text (control characters as spaces), trimmed; `None` when
/// absent or blank.
pub fn clean(s: &Option<String>) -> Option<String> {
    let s = single_line(s.as_deref()?);
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Free text: line breaks normalised to `\n`, tabs kept, other control
/// characters removed, trimmed; `None` when absent or blank.
pub fn clean_text(s: &Option<String>) -> Option<String> {
    let s = s.as_deref()?.replace("\r\n", "\n").replace('\r', "\n");
    let s: String = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// At most `max` characters, cut at a word boundary when one is near, with
/// an ellipsis to show the cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head = truncate_chars(s, max - 1);
    let tail_start = head.char_indices().rev().nth(200).map_or(0, |(i, _)| i);
    let head = match head[tail_start..].rfind(char::is_whitespace) {
        Some(i) => &head[..tail_start + i],
        None => head,
    };
    format!("{}…", head.trim_end())
}

#[cfg(test)]
mod tests {
    use super::{push_single_line, single_line};

    #[test]
    fn single_line_replaces_every_control_character_and_keeps_the_rest() {
        assert_eq!(single_line("Ford Fiesta"), "Ford Fiesta");
        assert_eq!(single_line("a\tb\nc\rd\u{7f}e"), "a b c d e");
        // C1 controls share the 0xC2 lead byte with ordinary characters like £.
        assert_eq!(single_line("£9,995\u{85}Zoë\u{9f}"), "£9,995 Zoë ");
        assert_eq!(single_line("日本\u{0}"), "日本 ");
        assert_eq!(single_line(""), "");
        assert_eq!(single_line("\n\n"), "  ");
        assert_eq!(single_line("\u{80}"), " ");
    }

    /// The definition: every `char::is_control` (C0, DEL, C1) as a space.
    fn reference(s: &str) -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    }

    #[test]
    fn single_line_is_exact_around_8_byte_chunks() {
        // Every special at every offset of strings that span 0 to 3 chunks,
        // so each one lands at the start, middle, end and across the end of
        // a chunk (a 2- or 3-byte character split between two chunks).
        let specials = [
            "\u{0}",
            "\t",
            "\n",
            "\u{1f}",
            " ",
            "~",
            "\u{7f}",
            "\u{80}",
            "\u{85}",
            "\u{9f}",
            "\u{a0}",
            "£",
            "é",
            "ÿ",
            "\u{100}",
            "日",
            "\u{1F697}",
            "\u{85}\u{85}",
            "£\u{9f}",
        ];
        for len in 0..=24 {
            for at in 0..=len {
                for special in specials {
                    let s = format!("{}{special}{}", "a".repeat(at), "b".repeat(len - at));
                    assert_eq!(single_line(&s), reference(&s), "{s:?}");
                }
            }
        }
        // Every 0xC2 pair, at each offset of a chunk.
        for second in 0x80..=0xbf_u32 {
            let c = char::from_u32(second).unwrap();
            for at in 0..16 {
                let s = format!("{}{c}xyz{c}", "q".repeat(at));
                assert_eq!(single_line(&s), reference(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn single_line_of_long_text() {
        let clean = "Ford Fiesta 1.0 EcoBoost Titanium, £9,995 — Zoë's 日本 car. ".repeat(200);
        assert_eq!(single_line(&clean), clean);
        let mut dirty = String::new();
        for i in 0..2000 {
            dirty.push_str(&"x".repeat(i % 13));
            dirty.push(['\n', '\u{85}', '£', '\t', '\u{7f}', '\u{9f}', 'é'][i % 7]);
        }
        assert_eq!(single_line(&dirty), reference(&dirty));
        // Control characters only, and a run of them across chunks.
        let controls = "\u{1}\u{85}\r\n".repeat(50);
        assert_eq!(single_line(&controls), " ".repeat(200));
    }

    #[test]
    fn push_single_line_appends() {
        let mut out = String::from("id\t");
        push_single_line(&mut out, "a\tb\u{85}£");
        push_single_line(&mut out, "");
        push_single_line(&mut out, "\n");
        assert_eq!(out, "id\ta b £ ");
    }
}
