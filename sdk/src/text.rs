//! Text helpers for platform plugins: free text from a DMS arrives with
//! stray control characters, and every platform caps lengths.

/// Control characters (tabs, line breaks) as spaces.
pub fn single_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
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
