//! The web dashboard's files, committed and embedded: no build step.

use super::Reply;
use bytes::Bytes;

const PAGE: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/dashboard.js");
const STYLE: &str = include_str!("dashboard/dashboard.css");

fn raw(content_type: &'static str, text: &'static str) -> Reply {
    Reply::Raw {
        content_type,
        body: Bytes::from_static(text.as_bytes()),
        html: true,
    }
}

/// `/`
pub(crate) fn page() -> Reply {
    raw("text/html; charset=utf-8", PAGE)
}

/// `/dashboard.js`
pub(crate) fn script() -> Reply {
    raw("text/javascript; charset=utf-8", SCRIPT)
}

/// `/dashboard.css`
pub(crate) fn style() -> Reply {
    raw("text/css; charset=utf-8", STYLE)
}
