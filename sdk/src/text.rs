//! Text helpers for platform plugins: free text from a DMS arrives with
//! stray control characters, and every platform caps lengths.

/// Control characters (tabs, line breaks) as spaces.
pub fn single_line(s: &str) -> String {
    // Control characters are C0, DEL and C1 (U+0080..U+009F, UTF-8 bytes
    // 0xC2 0x80..=0x9F). The text between them is copied in runs, not char
    // by char: descriptions with line breaks are the common case.
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
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
    out.push_str(&s[run..]);
    out
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
    use super::single_line;

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
}
