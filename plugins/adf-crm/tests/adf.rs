//! The ADF documents the plugin renders: golden files, and every document
//! checked against the content models and attribute values of the ADF 1.0
//! DTD (`tests/adf-1.0.dtd`), with a small validator built from the DTD
//! text itself. Then delivery over a scripted transport.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::Duration;

use forecourt_plugin_adf_crm::config::Config;
use forecourt_plugin_adf_crm::deliver::{self, Post, Transport};
use forecourt_plugin_adf_crm::{adf, AdfCrm};
use forecourt_sdk::http::Response;
use forecourt_sdk::testkit::{check_golden, fixtures};
use forecourt_sdk::{Crm, ErrorClass, Lead, Person, PluginError, Vehicle};
use regex::Regex;

const CONFIG: &str = r#"{"endpoint":"https://crm.example.com/leads","dealer":{"name":"Forecourt Motors & Sons","id":"D-77","email":"sales@dealer.example","phone":"0161 496 0000","url":"https://dealer.example"},"platform_names":{"autotrader":"Auto Trader"}}"#;

fn config() -> Config {
    Config::parse(CONFIG).unwrap()
}

fn buyer() -> Person {
    Person {
        name: Some("Jane Buyer".into()),
        email: Some("jane.buyer@example.com".into()),
        phone: Some("07700 900123".into()),
        address: Some("12 High Street, Stockport, SK1 1AA".into()),
    }
}

fn lead(id: &str, vehicle: Option<Vehicle>, customer: Person, message: Option<&str>) -> Lead {
    Lead {
        id: format!("enq-{id}"),
        platform: "autotrader".into(),
        platform_enquiry_id: format!("ENQ-{id}"),
        received_at_ms: 1_795_860_900_000,
        customer,
        message: message.map(str::to_string),
        vehicle: vehicle.map(|mut v| {
            v.hub_only = None;
            v
        }),
        resend: false,
    }
}

fn cases() -> Vec<(&'static str, Lead)> {
    let mut out = vec![
        (
            "lead_complete_used_car",
            lead(
                "1",
                Some(fixtures::base("STK-1")),
                buyer(),
                Some("Is it still available? Could I view it on Saturday?"),
            ),
        ),
        (
            "lead_no_vehicle",
            lead("2", None, buyer(), Some("Do you have any estates?")),
        ),
        (
            "lead_phone_only_postcode_only",
            lead(
                "3",
                Some(fixtures::base("STK-3")),
                Person {
                    name: None,
                    email: None,
                    phone: Some("+44 161 496 0000".into()),
                    address: Some("sk1 1aa".into()),
                },
                None,
            ),
        ),
        (
            "lead_special_characters",
            lead(
                "4",
                Some(fixtures::base("STK-4")),
                Person {
                    name: Some("Zoë O'Brien <Dr>".into()),
                    email: Some("zoe@example.com".into()),
                    phone: None,
                    address: Some("Flat 2\nRose & Crown Yard\nLeeds".into()),
                },
                Some("Price \"£12,995\" & <finance>?\u{7} 🚗"),
            ),
        ),
    ];
    let mut resent = lead("5", Some(fixtures::base("STK-5")), buyer(), None);
    resent.resend = true;
    if let Some(v) = resent.vehicle.as_mut() {
        v.condition = forecourt_sdk::Condition::New;
        v.mileage = None;
        v.price.as_mut().unwrap().amount_minor = 2_199_550;
    }
    out.push(("lead_resend_new_car_with_pence", resent));
    // The shared vehicle fixtures, as what a buyer enquired about.
    for (name, v) in fixtures::cases() {
        out.push((name, lead(name, Some(v), buyer(), Some("Hello"))));
    }
    out
}

// ----- a validator built from the DTD -----

struct Dtd {
    /// Element name → regex over its children's names, each followed by a space.
    models: HashMap<String, Regex>,
    /// Elements whose content is text only.
    text_only: Vec<String>,
    /// (element, attribute) → allowed values, for enumerated attributes.
    enums: HashMap<(String, String), Vec<String>>,
}

/// A content model as a regex over child names, each followed by a space:
/// `,` is concatenation, `|` alternation, `? * +` as written. Names side by
/// side (a typo in the DTD's `option`) read as a sequence.
fn content_regex(model: &str) -> String {
    let tokens = Regex::new(r"[A-Za-z#][A-Za-z0-9_#-]*|[(),|?*+]").unwrap();
    let mut out = String::new();
    for t in tokens.find_iter(model) {
        match t.as_str() {
            "(" => out.push_str("(?:"),
            "," => {}
            ")" | "|" | "?" | "*" | "+" => out.push_str(t.as_str()),
            name => out.push_str(&format!("(?:{name} )")),
        }
    }
    format!("^{out}$")
}

fn dtd() -> Dtd {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/adf-1.0.dtd"))
            .unwrap();
    let element = Regex::new(r"<!ELEMENT\s+(\w+)\s+(.*)>").unwrap();
    let attlist = Regex::new(r"<!ATTLIST\s+(\w+)\s+(.*)>").unwrap();
    let enumerated = Regex::new(r"(\w+)\s+\(([^)]*)\)").unwrap();
    let mut dtd = Dtd {
        models: HashMap::new(),
        text_only: vec![],
        enums: HashMap::new(),
    };
    for line in text.lines() {
        if let Some(c) = element.captures(line) {
            let (name, model) = (c[1].to_string(), c[2].trim().to_string());
            if model.contains("PCDATA") {
                dtd.text_only.push(name);
            } else {
                dtd.models
                    .insert(name, Regex::new(&content_regex(&model)).unwrap());
            }
        }
        if let Some(c) = attlist.captures(line) {
            let el = c[1].to_string();
            for a in enumerated.captures_iter(&c[2]) {
                let values = a[2].split('|').map(|v| v.trim().to_string()).collect();
                dtd.enums.insert((el.clone(), a[1].to_string()), values);
            }
        }
    }
    dtd
}

fn validate(dtd: &Dtd, node: roxmltree::Node, path: &str, errors: &mut Vec<String>) {
    let name = node.tag_name().name();
    let here = format!("{path}/{name}");
    let children: Vec<roxmltree::Node> = node.children().filter(|c| c.is_element()).collect();
    if dtd.text_only.iter().any(|t| t == name) {
        if !children.is_empty() {
            errors.push(format!("{here}: text-only element has child elements"));
        }
    } else if let Some(model) = dtd.models.get(name) {
        let sequence: String = children
            .iter()
            .map(|c| format!("{} ", c.tag_name().name()))
            .collect();
        if !model.is_match(&sequence) {
            errors.push(format!(
                "{here}: children `{}` do not match the DTD",
                sequence.trim()
            ));
        }
    } else {
        errors.push(format!("{here}: element not declared in the DTD"));
    }
    for a in node.attributes() {
        if let Some(values) = dtd.enums.get(&(name.to_string(), a.name().to_string())) {
            if !values.iter().any(|v| v == a.value()) {
                errors.push(format!(
                    "{here}@{}: `{}` is not one of {values:?}",
                    a.name(),
                    a.value()
                ));
            }
        }
    }
    for c in children {
        validate(dtd, c, &here, errors);
    }
}

fn check_against_dtd(xml: &str) -> Vec<String> {
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?adf version=\"1.0\"?>\n"),
        "prolog and ADF processing instruction"
    );
    let doc = roxmltree::Document::parse(xml)
        .unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "adf");
    let mut errors = vec![];
    validate(&dtd(), root, "", &mut errors);
    errors
}

#[test]
fn the_validator_catches_what_it_should() {
    let good = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?adf version=\"1.0\"?>\n<adf><prospect><requestdate>x</requestdate><vehicle><year/><make/><model/></vehicle><customer><contact><name>a</name><email>e</email></contact></customer><vendor><vendorname>v</vendorname><contact><name>n</name><phone>p</phone></contact></vendor></prospect></adf>";
    assert_eq!(check_against_dtd(good), Vec::<String>::new());
    // make before year; a contact with neither email nor phone; a bad enum value.
    let bad = good
        .replace("<year/><make/>", "<make/><year/>")
        .replace("<name>a</name><email>e</email>", "<name>a</name>")
        .replace("<prospect>", "<prospect status=\"maybe\">");
    let errors = check_against_dtd(&bad);
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

#[test]
fn every_lead_renders_valid_adf_matching_its_golden_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut failures = vec![];
    for (name, lead) in cases() {
        let xml = adf::render(&config(), &lead).unwrap();
        let errors = check_against_dtd(&xml);
        if !errors.is_empty() {
            failures.push(format!("{name}: {errors:#?}"));
        }
        if let Err(e) = check_golden(&dir, &format!("{name}.xml"), &xml) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn documents_carry_the_lead_and_never_hub_only_data() {
    let v = fixtures::base("STK-1");
    assert!(v.hub_only.is_some());
    let secret_note = v.hub_only.as_ref().unwrap().internal_notes.clone().unwrap();
    let mut l = lead("1", None, buyer(), Some("hi"));
    l.vehicle = Some(v.clone());
    // Even if a host forgot to strip it, render never reads hub-only data.
    let xml = adf::render(&config(), &l).unwrap();
    assert!(!xml.contains(&secret_note));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let find = |tag: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(tag))
            .and_then(|n| n.text())
            .map(str::to_string)
    };
    assert_eq!(
        find("requestdate").as_deref(),
        Some("2026-11-28T10:15:00+00:00")
    );
    assert_eq!(find("make").as_deref(), Some("Volkswagen"));
    assert_eq!(find("stock").as_deref(), Some("STK-1"));
    assert_eq!(
        find("vendorname").as_deref(),
        Some("Forecourt Motors & Sons")
    );
    assert_eq!(find("postalcode").as_deref(), Some("SK1 1AA"));
    let vrm = doc
        .descendants()
        .find(|n| n.has_tag_name("id") && n.attribute("source") == Some("VRM"))
        .unwrap();
    assert_eq!(vrm.text(), Some("AB19CDE"));
    let provider = doc
        .descendants()
        .find(|n| n.has_tag_name("provider"))
        .unwrap();
    assert!(provider
        .descendants()
        .any(|n| n.text() == Some("Auto Trader")));
}

#[test]
fn a_lead_without_contact_details_is_refused() {
    let l = lead(
        "9",
        None,
        Person {
            name: Some("Nobody".into()),
            email: None,
            phone: Some("  ".into()),
            address: None,
        },
        None,
    );
    let e = adf::render(&config(), &l).unwrap_err();
    assert_eq!(e.class, ErrorClass::Validation);
    assert_eq!(e.field.as_deref(), Some("customer"));
    assert!(!e.message.contains("Nobody"));
}

#[test]
fn render_through_the_trait_and_describe() {
    let doc = AdfCrm::render(CONFIG, lead("1", None, buyer(), None)).unwrap();
    assert_eq!(doc.content_type, "application/x-adf+xml");
    let info = AdfCrm::describe();
    assert_eq!(info.batch_size, 10);
    assert!(serde_json::from_str::<serde_json::Value>(&info.config_schema).is_ok());
    let e = AdfCrm::render("{}", lead("1", None, buyer(), None)).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("config"));
}

// ----- delivery -----

struct Fake {
    answers: VecDeque<Result<Response, PluginError>>,
    posts: Vec<Post>,
    elapsed: Duration,
}

impl Transport for Fake {
    fn send(&mut self, post: &Post) -> Result<Response, PluginError> {
        self.posts.push(post.clone());
        self.answers
            .pop_front()
            .expect("an answer for every request")
    }
    fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Result<Response, PluginError> {
    Ok(Response {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    })
}

fn fake(answers: Vec<Result<Response, PluginError>>) -> Fake {
    Fake {
        answers: answers.into(),
        posts: vec![],
        elapsed: Duration::ZERO,
    }
}

#[test]
fn each_lead_is_posted_once_with_its_id() {
    let leads = vec![
        lead("1", None, buyer(), None),
        lead("2", None, buyer(), None),
        lead("3", None, buyer(), None),
        lead("4", None, buyer(), None),
    ];
    let mut t = fake(vec![
        answer(
            201,
            &[("location", "https://crm.example.com/leads/991")],
            "",
        ),
        answer(200, &[], r#"{"leadId": 992}"#),
        answer(409, &[], "duplicate"),
        answer(202, &[], ""),
    ]);
    let results = deliver::deliver(&config(), &leads, &mut t);
    let outcomes: Vec<_> = results.iter().map(|r| r.outcome.clone().unwrap()).collect();
    assert_eq!(
        outcomes,
        ["https://crm.example.com/leads/991", "992", "enq-3", "enq-4"]
    );
    assert_eq!(t.posts.len(), 4);
    let p = &t.posts[0];
    assert_eq!(p.url, "https://crm.example.com/leads");
    assert!(p.headers.contains(&(
        "content-type".into(),
        "application/x-adf+xml; charset=utf-8".into()
    )));
    assert!(p
        .headers
        .contains(&("idempotency-key".into(), "enq-1".into())));
    assert!(
        !p.headers.iter().any(|(k, _)| k == "authorization"),
        "credentials are the host's job"
    );
    assert!(p.body.contains("<?adf version=\"1.0\"?>"));
}

#[test]
fn failures_have_classes_and_auth_or_rate_limits_stop_the_batch() {
    let leads: Vec<Lead> = (1..=4)
        .map(|i| lead(&i.to_string(), None, buyer(), None))
        .collect();
    let mut t = fake(vec![
        answer(503, &[], "busy"),
        answer(400, &[], "lead for jane.buyer@example.com refused"),
        answer(401, &[], ""),
    ]);
    let results = deliver::deliver(&config(), &leads, &mut t);
    let classes: Vec<ErrorClass> = results
        .iter()
        .map(|r| r.outcome.clone().unwrap_err().class)
        .collect();
    assert_eq!(
        classes,
        [
            ErrorClass::Transient,
            ErrorClass::Validation,
            ErrorClass::Auth,
            ErrorClass::Auth
        ]
    );
    assert_eq!(t.posts.len(), 3, "the fourth lead is not sent after 401");
    assert!(results[3]
        .outcome
        .clone()
        .unwrap_err()
        .message
        .starts_with("not sent:"));
    // The CRM's body may echo the buyer: it is not quoted.
    assert!(!results[1]
        .outcome
        .clone()
        .unwrap_err()
        .message
        .contains("jane"));
    let mut t = fake(vec![answer(429, &[("retry-after", "7")], "")]);
    let results = deliver::deliver(&config(), &leads[..2], &mut t);
    let e = results[0].outcome.clone().unwrap_err();
    assert_eq!(e.class, ErrorClass::RateLimited);
    assert_eq!(e.retry_after_ms, Some(7000));
    assert_eq!(
        results[1].outcome.clone().unwrap_err().class,
        ErrorClass::RateLimited
    );
}

#[test]
fn budget_and_configuration_limits() {
    let leads = vec![lead("1", None, buyer(), None)];
    let mut t = fake(vec![]);
    t.elapsed = Duration::from_secs(20);
    let e = deliver::deliver(&config(), &leads, &mut t)[0]
        .outcome
        .clone()
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
    assert!(t.posts.is_empty());
    let mail_only = Config::parse(r#"{"dealer":{"name":"D","email":"s@d.example"}}"#).unwrap();
    let e = deliver::deliver(&mail_only, &leads, &mut fake(vec![]))[0]
        .outcome
        .clone()
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("config"));
    // A lead that cannot be ADF is a validation failure, not a request.
    let bad = vec![lead(
        "1",
        None,
        Person {
            name: None,
            email: None,
            phone: None,
            address: None,
        },
        None,
    )];
    let mut t = fake(vec![]);
    let e = deliver::deliver(&config(), &bad, &mut t)[0]
        .outcome
        .clone()
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Validation);
    assert!(t.posts.is_empty());
}
