//! One lead as an ADF 1.0 document (Auto-lead Data Format, the XML dealer
//! CRMs take leads in), built element by element in the order the DTD's
//! content models require:
//!
//! ```text
//! adf      → prospect+                        prospect → id*, requestdate, vehicle+, customer, vendor, provider?
//! vehicle  → id*, year, make, model, vin?, stock?, trim?, doors?, bodystyle?, transmission?, odometer?,
//!            colorcombination*, imagetag?, price?, pricecomments?, option*, finance?, comments?
//! customer → contact, id*, timeframe?, comments?
//! vendor   → id*, vendorname, url?, contact    provider → id*, name, service?, url?, email?, phone?, contact?
//! contact  → name+, (email | phone+ | email, phone+), address?
//! address  → street+, apartment?, city?, regioncode?, postalcode?, country?
//! ```
//!
//! ADF has no registration element: the UK registration mark goes in
//! `vehicle/id source="VRM"`. Text is escaped; characters XML 1.0 forbids
//! are dropped.

use forecourt_sdk::{BodyStyle, Condition, Lead, MileageUnit, PluginError, Transmission, Vehicle};

use crate::config::Config;

/// Escape text for element content and attribute values; drop what XML 1.0 cannot carry.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c as u32, 0xFFFE | 0xFFFF) => {}
            c => out.push(c),
        }
    }
    out
}

/// A tiny writer that indents and escapes.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn open(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(tag);
        self.attrs(attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str(&format!("</{tag}>\n"));
    }

    fn leaf(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(tag);
        self.attrs(attrs);
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str(&format!("</{tag}>\n"));
    }

    fn leaf_opt(&mut self, tag: &str, text: Option<&str>) {
        if let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) {
            self.leaf(tag, &[], t);
        }
    }

    fn attrs(&mut self, attrs: &[(&str, &str)]) {
        for (name, value) in attrs {
            self.out.push_str(&format!(" {name}=\"{}\"", escape(value)));
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }
}

/// `2026-11-28T10:15:00+00:00` (ISO 8601, UTC) for milliseconds since the epoch.
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whether `text` is a whole UK postcode ("SK1 1AA", "EC1A1BB").
pub fn is_uk_postcode(text: &str) -> bool {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let b = compact.as_bytes();
    if !(5..=7).contains(&b.len()) {
        return false;
    }
    let (outward, inward) = compact.split_at(b.len() - 3);
    let inward = inward.as_bytes();
    inward[0].is_ascii_digit()
        && inward[1].is_ascii_alphabetic()
        && inward[2].is_ascii_alphabetic()
        && outward.as_bytes()[0].is_ascii_alphabetic()
        && outward.bytes().all(|c| c.is_ascii_alphanumeric())
        && outward.bytes().any(|c| c.is_ascii_digit())
}

fn body_style(b: &BodyStyle) -> String {
    match b {
        BodyStyle::Hatchback => "Hatchback".into(),
        BodyStyle::Saloon => "Saloon".into(),
        BodyStyle::Estate => "Estate".into(),
        BodyStyle::Suv => "SUV".into(),
        BodyStyle::Coupe => "Coupe".into(),
        BodyStyle::Convertible => "Convertible".into(),
        BodyStyle::Mpv => "MPV".into(),
        BodyStyle::Pickup => "Pickup".into(),
        BodyStyle::PanelVan => "Panel Van".into(),
        BodyStyle::Minibus => "Minibus".into(),
        BodyStyle::Other(o) => o.clone(),
    }
}

fn transmission(t: &Transmission) -> String {
    match t {
        Transmission::Manual => "Manual".into(),
        Transmission::Automatic => "Automatic".into(),
        Transmission::SemiAutomatic => "Semi-automatic".into(),
        Transmission::Cvt => "CVT".into(),
        Transmission::Other(o) => o.clone(),
    }
}

/// Whole units when there are no pence, else two decimals.
fn amount(minor: i64) -> String {
    if minor % 100 == 0 {
        (minor / 100).to_string()
    } else {
        format!("{}.{:02}", minor / 100, (minor % 100).abs())
    }
}

fn vehicle(x: &mut Xml, lead: &Lead) {
    let v: Option<&Vehicle> = lead.vehicle.as_ref();
    let status = match v.map(|v| &v.condition) {
        Some(Condition::New) => "new",
        _ => "used",
    };
    x.open("vehicle", &[("interest", "buy"), ("status", status)]);
    let Some(v) = v else {
        // The platform named no vehicle the hub knows: the lead still goes
        // through, with the elements ADF requires left empty.
        x.leaf("year", &[], "");
        x.leaf("make", &[], "");
        x.leaf("model", &[], "");
        x.leaf(
            "comments",
            &[],
            "The platform did not identify a vehicle the dealer lists.",
        );
        x.close("vehicle");
        return;
    };
    if let Some(vrm) = v.registration.as_deref().filter(|r| !r.trim().is_empty()) {
        x.leaf("id", &[("source", "VRM")], vrm.trim());
    }
    let year = v
        .first_registration
        .as_ref()
        .map(|d| d.year)
        .or(v.model_year)
        .map(|y| y.to_string())
        .unwrap_or_default();
    x.leaf("year", &[], &year);
    x.leaf("make", &[], v.make.as_deref().unwrap_or("").trim());
    x.leaf("model", &[], v.model.as_deref().unwrap_or("").trim());
    x.leaf_opt("vin", v.vin.as_deref());
    x.leaf("stock", &[], &v.stock_id);
    x.leaf_opt("trim", v.variant.as_deref().or(v.trim.as_deref()));
    if let Some(d) = v.doors {
        x.leaf("doors", &[], &d.to_string());
    }
    if let Some(b) = &v.body_style {
        x.leaf_opt("bodystyle", Some(&body_style(b)));
    }
    if let Some(t) = &v.transmission {
        x.leaf_opt("transmission", Some(&transmission(t)));
    }
    if let Some(m) = &v.mileage {
        let units = match m.unit {
            MileageUnit::Miles => "mi",
            MileageUnit::Kilometres => "km",
        };
        x.leaf("odometer", &[("units", units)], &m.value.to_string());
    }
    if let Some(colour) = v.colour.as_deref().filter(|c| !c.trim().is_empty()) {
        x.open("colorcombination", &[]);
        x.leaf("exteriorcolor", &[], colour.trim());
        x.leaf("preference", &[], "1");
        x.close("colorcombination");
    }
    if let Some(image) = v.images.first() {
        x.leaf("imagetag", &[], &image.url);
    }
    if let Some(p) = &v.price {
        x.leaf(
            "price",
            &[("type", "asking"), ("currency", &p.currency)],
            &amount(p.amount_minor),
        );
    }
    x.close("vehicle");
}

fn address(x: &mut Xml, text: &str) {
    let parts: Vec<&str> = text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return;
    }
    let (lines, postcode) = match parts.last() {
        Some(last) if is_uk_postcode(last) => (&parts[..parts.len() - 1], Some(*last)),
        _ => (&parts[..], None),
    };
    x.open("address", &[]);
    if lines.is_empty() {
        // street+ is required even when only a postcode is known.
        x.leaf("street", &[("line", "1")], "");
    }
    for (i, line) in lines.iter().enumerate() {
        x.leaf("street", &[("line", &(i + 1).to_string())], line);
    }
    if let Some(pc) = postcode {
        x.leaf("postalcode", &[], &pc.to_ascii_uppercase());
        x.leaf("country", &[], "GB");
    }
    x.close("address");
}

/// The ADF document for one lead, or why the lead cannot be one.
pub fn render(config: &Config, lead: &Lead) -> Result<String, PluginError> {
    let c = &lead.customer;
    let email = c.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let phone = c.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if email.is_none() && phone.is_none() {
        return Err(PluginError::validation(
            "customer",
            "the buyer left no e-mail address or phone number, and an ADF lead needs one",
        ));
    }
    let mut x = Xml {
        out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?adf version=\"1.0\"?>\n"),
        depth: 0,
    };
    x.open("adf", &[]);
    x.open(
        "prospect",
        &[("status", if lead.resend { "resend" } else { "new" })],
    );
    x.leaf(
        "id",
        &[("sequence", "1"), ("source", "forecourt")],
        &lead.id,
    );
    x.leaf(
        "id",
        &[("source", config.platform_name(&lead.platform))],
        &lead.platform_enquiry_id,
    );
    x.leaf("requestdate", &[], &iso8601(lead.received_at_ms));
    vehicle(&mut x, lead);

    x.open("customer", &[]);
    x.open("contact", &[]);
    let name = c.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    x.leaf("name", &[("part", "full")], name.unwrap_or("Not given"));
    if let Some(e) = email {
        x.leaf("email", &[], e);
    }
    if let Some(p) = phone {
        x.leaf("phone", &[("type", "voice")], p);
    }
    if let Some(a) = c.address.as_deref() {
        address(&mut x, a);
    }
    x.close("contact");
    x.leaf_opt("comments", lead.message.as_deref());
    x.close("customer");

    x.open("vendor", &[]);
    if let Some(id) = &config.dealer.id {
        x.leaf("id", &[("source", "crm")], id);
    }
    x.leaf("vendorname", &[], &config.dealer.name);
    x.leaf_opt("url", config.dealer.url.as_deref());
    x.open("contact", &[]);
    x.leaf(
        "name",
        &[("part", "full"), ("type", "business")],
        &config.dealer.contact,
    );
    x.leaf_opt("email", config.dealer.email.as_deref());
    if let Some(p) = &config.dealer.phone {
        x.leaf("phone", &[("type", "voice")], p);
    }
    x.close("contact");
    x.close("vendor");

    x.open("provider", &[]);
    x.leaf(
        "name",
        &[("part", "full"), ("type", "business")],
        config.platform_name(&lead.platform),
    );
    x.leaf("service", &[], "forecourt");
    x.close("provider");
    x.close("prospect");
    x.close("adf");
    Ok(x.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_drops_forbidden_characters() {
        assert_eq!(
            escape("A&B <c> \"d\" 'e'\u{7}\tf"),
            "A&amp;B &lt;c&gt; &quot;d&quot; &apos;e&apos;\tf"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(1_795_860_900_000), "2026-11-28T10:15:00+00:00");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00+00:00");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00+00:00");
    }

    #[test]
    fn postcodes() {
        for pc in ["SK1 1AA", "EC1A 1BB", "m11ae", "W1A 0AX", "B33 8TH"] {
            assert!(is_uk_postcode(pc), "{pc}");
        }
        for not in ["12 High Street", "Stockport", "SK1", "ABCDEFG", "1234 5AB"] {
            assert!(!is_uk_postcode(not), "{not}");
        }
    }

    #[test]
    fn amounts() {
        assert_eq!(amount(1_299_500), "12995");
        assert_eq!(amount(1_299_550), "12995.50");
    }
}
