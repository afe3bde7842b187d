//! The plugin's configuration: where the CRM takes leads, and who the dealer
//! is (ADF's `vendor`, which every lead must carry).

use serde::Deserialize;
use std::collections::BTreeMap;

/// The MIME type of ADF (what the CRM is sent unless configured otherwise).
pub const ADF_CONTENT_TYPE: &str = "application/x-adf+xml";

/// The plugin's configuration (a JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where leads are POSTed (`http(s)://host[:port]/path`), on the
    /// manifest's origin. Optional: a target that only e-mails needs none.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The dealer, as ADF's `vendor`.
    pub dealer: Dealer,
    /// `Content-Type` of the POST: `application/x-adf+xml` (default),
    /// `application/xml` or `text/xml`, whichever the CRM wants.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// Display names of platforms for ADF's `provider` (e.g.
    /// `{"autotrader": "Auto Trader"}`); the platform id otherwise.
    #[serde(default)]
    pub platform_names: BTreeMap<String, String>,
}

/// ADF `vendor`: the dealership.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dealer {
    /// Trading name.
    pub name: String,
    /// The dealer's id in the CRM, if it wants one (`vendor/id`).
    #[serde(default)]
    pub id: Option<String>,
    /// Who leads go to, e.g. "Sales team".
    #[serde(default = "default_contact")]
    pub contact: String,
    /// The sales inbox.
    #[serde(default)]
    pub email: Option<String>,
    /// The sales phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// The dealer's website.
    #[serde(default)]
    pub url: Option<String>,
}

fn default_content_type() -> String {
    ADF_CONTENT_TYPE.into()
}

fn default_contact() -> String {
    "Sales".into()
}

/// JSON Schema (draft 2020-12) of [`Config`].
pub const CONFIG_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "ADF CRM",
  "type": "object",
  "additionalProperties": false,
  "required": ["dealer"],
  "properties": {
    "endpoint": {
      "type": "string",
      "pattern": "^https?://[^/?#@]+(/[^#]*)?$",
      "description": "Where leads are POSTed, on the manifest's [[http]] origin. Not needed for e-mail delivery."
    },
    "dealer": {
      "type": "object",
      "additionalProperties": false,
      "required": ["name"],
      "properties": {
        "name": {"type": "string", "minLength": 1, "description": "Trading name (ADF vendorname)."},
        "id": {"type": "string", "description": "The dealer's id in the CRM (ADF vendor/id)."},
        "contact": {"type": "string", "default": "Sales", "description": "Who leads go to (ADF vendor/contact/name)."},
        "email": {"type": "string", "description": "Sales inbox (ADF vendor/contact/email)."},
        "phone": {"type": "string", "description": "Sales phone (ADF vendor/contact/phone)."},
        "url": {"type": "string", "description": "Website (ADF vendor/url)."}
      },
      "anyOf": [{"required": ["email"]}, {"required": ["phone"]}]
    },
    "content_type": {
      "enum": ["application/x-adf+xml", "application/xml", "text/xml"],
      "default": "application/x-adf+xml"
    },
    "platform_names": {
      "type": "object",
      "additionalProperties": {"type": "string"},
      "description": "Display names of platforms for ADF provider/name, by platform id."
    }
  }
}"#;

impl Config {
    /// Parse and check a configuration object.
    pub fn parse(json: &str) -> Result<Config, String> {
        let config: Config =
            serde_json::from_str(json).map_err(|e| format!("invalid configuration: {e}"))?;
        if let Some(endpoint) = &config.endpoint {
            let rest = endpoint
                .strip_prefix("https://")
                .or_else(|| endpoint.strip_prefix("http://"))
                .ok_or("endpoint must be an http(s) URL")?;
            let host = rest.split(['/', '?']).next().unwrap_or_default();
            if host.is_empty()
                || host.contains('@')
                || rest.contains('#')
                || rest.chars().any(char::is_whitespace)
            {
                return Err(
                    "endpoint must be scheme://host[:port]/path, without credentials or fragment"
                        .into(),
                );
            }
        }
        if config.dealer.name.trim().is_empty() {
            return Err("dealer.name must not be empty (ADF vendorname)".into());
        }
        if config.dealer.email.is_none() && config.dealer.phone.is_none() {
            return Err("dealer needs an email or a phone (ADF vendor/contact)".into());
        }
        if !["application/x-adf+xml", "application/xml", "text/xml"]
            .contains(&config.content_type.as_str())
        {
            return Err(format!(
                "content_type `{}` is not application/x-adf+xml, application/xml or text/xml",
                config.content_type
            ));
        }
        Ok(config)
    }

    /// The name a platform goes by in a lead.
    pub fn platform_name<'a>(&'a self, platform: &'a str) -> &'a str {
        self.platform_names
            .get(platform)
            .map(String::as_str)
            .unwrap_or(platform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_configs() {
        let c = Config::parse(r#"{"endpoint":"https://crm.example.com/leads","dealer":{"name":"Forecourt Motors","email":"sales@dealer.example"}}"#).unwrap();
        assert_eq!(c.content_type, ADF_CONTENT_TYPE);
        assert_eq!(c.dealer.contact, "Sales");
        assert_eq!(c.platform_name("autotrader"), "autotrader");
        assert!(Config::parse(r#"{"dealer":{"name":"D","phone":"0161 496 0000"}}"#).is_ok());
        for bad in [
            r#"{}"#,
            r#"{"dealer":{"name":"","email":"a@b"}}"#,
            r#"{"dealer":{"name":"D"}}"#,
            r#"{"endpoint":"ftp://x","dealer":{"name":"D","email":"a@b"}}"#,
            r#"{"endpoint":"https://u:p@x/leads","dealer":{"name":"D","email":"a@b"}}"#,
            r#"{"dealer":{"name":"D","email":"a@b"},"content_type":"application/json"}"#,
            r#"{"dealer":{"name":"D","email":"a@b"},"colour":"red"}"#,
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
        let schema: serde_json::Value = serde_json::from_str(CONFIG_SCHEMA).unwrap();
        assert_eq!(schema["required"][0], "dealer");
    }
}
