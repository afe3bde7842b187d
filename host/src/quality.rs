//! Data quality: what the host checks, corrects and strips before a listing
//! leaves the hub (docs/quality.md).
//!
//! For each vehicle the planner looks at, [`Quality::prepare`] does the
//! platform-independent work once (hub-only data removed, vocabularies and
//! terminology normalised, the description template applied, markup and
//! personal data stripped); [`Quality::check`] then applies the rule set of
//! the (dealer, platform) pair and yields a [`Verdict`]: the vehicle as the
//! platform plugin will see it, its issues, whether it is blocked, and its
//! completeness. Blocked listings are never sent; what a platform already
//! shows stays as it is until the data is fixed (docs/quality.md explains why).

pub mod completeness;
pub mod config;
pub mod description;
pub mod fields;
pub mod gate;
pub mod image_probe;
pub mod images;
pub mod mileage;
pub mod normalise;
pub mod pii_strip;
pub mod price;
pub mod registration;
pub mod rules;
pub mod store;
pub mod vin;

pub use gate::{render, BatchContext, Gate};
pub use store::{MileageReading, QualityStore};

use crate::config::{ConfigError, RawConfig};
use crate::runtime::platform_api::PlatformInfo;
use crate::runtime::types::{ValidationIssue, Vehicle};
use config::TemplateMode;
use image_probe::{ImageProbe, ProbeSettings};
use rules::{id, Finding, RuleOverride, RuleSet, Severity};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

type Overrides = BTreeMap<&'static str, RuleOverride>;

#[derive(Debug, Clone, Default)]
struct DealerSettings {
    rules: Overrides,
    template: Option<(String, TemplateMode)>,
    terminology: Option<normalise::Terminology>,
}

/// Resolved quality configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    global: Overrides,
    dealers: BTreeMap<String, DealerSettings>,
    platforms: BTreeMap<String, Overrides>,
    template: Option<(String, TemplateMode)>,
    terminology: normalise::Terminology,
    /// How images are measured.
    pub probe: ProbeSettings,
    /// Whether images are measured at all.
    pub fetch: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            global: Overrides::new(),
            dealers: BTreeMap::new(),
            platforms: BTreeMap::new(),
            template: None,
            terminology: normalise::Terminology::new(&normalise::default_terminology()),
            probe: ProbeSettings::default(),
            fetch: false,
        }
    }
}

impl Settings {
    /// From a validated configuration (reads the terminology file, if any).
    pub fn from_config(config: &RawConfig, file: &str) -> Result<Self, ConfigError> {
        let q = &config.quality;
        let errors = config::Errors { text: "", file };
        let mut dictionary = normalise::default_terminology();
        if let Some(path) = &q.terminology_file {
            let err = |message: String| ConfigError {
                file: path.display().to_string(),
                line: None,
                key: "quality.terminology_file".into(),
                message,
            };
            let text =
                std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
            let extra: BTreeMap<String, Vec<String>> =
                toml::from_str(&text).map_err(|e| ConfigError {
                    file: path.display().to_string(),
                    line: e.span().map(|s| text[..s.start].matches('\n').count() + 1),
                    key: "(terminology)".into(),
                    message: format!(
                        "{}; write `\"Canonical term\" = [\"synonym\", ...]`",
                        e.message()
                    ),
                })?;
            dictionary.extend(extra);
        }
        dictionary.extend(q.terminology.clone());
        let template = |t: &Option<toml::Spanned<String>>,
                        mode: &Option<toml::Spanned<String>>,
                        key: &str|
         -> Result<_, ConfigError> {
            Ok(
                config::template(t, format!("{key}.description_template"), &errors)?.map(|t| {
                    (
                        t,
                        config::template_mode(mode, format!("{key}.template_mode"), &errors)
                            .unwrap_or_default(),
                    )
                }),
            )
        };
        let mut dealers = BTreeMap::new();
        for (id, d) in &q.dealers {
            let key = format!("quality.dealers.{id}");
            let terminology = (!d.terminology.is_empty()).then(|| {
                let mut dict = dictionary.clone();
                dict.extend(d.terminology.clone());
                normalise::Terminology::new(&dict)
            });
            dealers.insert(
                id.clone(),
                DealerSettings {
                    rules: config::parse_rules(&d.rules, &format!("{key}.rules"), &errors)?,
                    template: template(&d.description_template, &d.template_mode, &key)?,
                    terminology,
                },
            );
        }
        let mut platforms = BTreeMap::new();
        for (i, p) in config.platforms.iter().enumerate() {
            platforms.insert(
                p.id.get_ref().clone(),
                config::parse_rules(&p.quality, &format!("platform[{i}].quality"), &errors)?,
            );
        }
        Ok(Self {
            global: config::parse_rules(&q.rules, "quality.rules", &errors)?,
            dealers,
            platforms,
            template: template(&q.description_template, &q.template_mode, "quality")?,
            terminology: normalise::Terminology::new(&dictionary),
            probe: ProbeSettings {
                timeout: std::time::Duration::from_millis(*q.image_fetch_timeout_ms.get_ref()),
                concurrency: *q.image_fetch_concurrency.get_ref(),
                private_hosts: q.image_fetch_private_hosts.clone(),
            },
            fetch: q.image_fetch,
        })
    }

    /// The rules in force for a dealer's stock on a platform: built-in
    /// defaults, then `[quality.rules]`, the dealer's, the platform's.
    pub fn rules(&self, dealer: &str, platform: &str) -> RuleSet {
        let mut set = RuleSet::default().with(&self.global);
        if let Some(d) = self.dealers.get(dealer) {
            set = set.with(&d.rules);
        }
        if let Some(p) = self.platforms.get(platform) {
            set = set.with(p);
        }
        set
    }
}

/// The quality pipeline the engine and the preview share.
#[derive(Clone)]
pub struct Quality {
    settings: Arc<Settings>,
    probe: Option<Arc<ImageProbe>>,
    rules: Arc<Mutex<HashMap<(String, String), Arc<RuleSet>>>>,
    index: Arc<Mutex<Option<(std::time::Instant, Arc<gate::StockIndex>)>>>,
}

impl Default for Quality {
    fn default() -> Self {
        Self::new(Settings::default(), None)
    }
}

impl std::fmt::Debug for Quality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quality")
            .field("fetch", &self.probe.is_some())
            .finish()
    }
}

/// A vehicle after the platform-independent steps.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// As it will be sent (personal data stripped).
    pub vehicle: Vehicle,
    /// The same before personal data was stripped (for a platform that switched the rule off).
    pub unstripped: Vehicle,
    /// Findings that do not depend on the platform.
    pub findings: Vec<Finding>,
    /// Personal data removed (kind and count only).
    pub stripped: Vec<pii_strip::Stripped>,
    /// Normalisation changes (field: from -> to), for the preview.
    pub changes: Vec<String>,
    /// Hub-only data was present and removed.
    pub hub_only_removed: bool,
}

/// A finding with the severity it has on one platform.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Judged {
    /// What was found.
    #[serde(flatten)]
    pub finding: Finding,
    /// Its severity here.
    pub severity: Severity,
}

/// The verdict for one vehicle on one platform.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Platform id.
    pub platform: String,
    /// The vehicle as the platform plugin receives it.
    pub vehicle: Vehicle,
    /// Every finding with its severity.
    pub findings: Vec<Judged>,
    /// Whether a blocking rule failed.
    pub blocked: bool,
    /// Completeness of what would be sent.
    pub completeness: completeness::Completeness,
}

impl Verdict {
    /// The findings as contract validation issues.
    pub fn issues(&self) -> Vec<ValidationIssue> {
        self.findings
            .iter()
            .map(|j| j.finding.issue(j.severity))
            .collect()
    }
}

/// What a vehicle-level check needs to know about the rest of the world.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// Today (UK).
    pub today: Option<jiff::civil::Date>,
    /// Prices and shared image URLs of the stock.
    pub index: Option<&'a gate::StockIndex>,
    /// The last accepted mileage reading.
    pub last_mileage: Option<&'a MileageReading>,
    /// Measured image sizes by URL.
    pub sizes: Option<&'a HashMap<String, image_probe::Measured>>,
}

impl Quality {
    /// A pipeline with these settings; `probe` measures images the DMS gave no size for.
    pub fn new(settings: Settings, probe: Option<Arc<ImageProbe>>) -> Self {
        Self {
            settings: Arc::new(settings),
            probe,
            rules: Arc::default(),
            index: Arc::default(),
        }
    }

    /// From configuration, measuring images through `store`'s cache when enabled.
    pub fn from_config(
        config: &RawConfig,
        file: &str,
        store: Arc<dyn crate::store::Store>,
    ) -> Result<Self, ConfigError> {
        let settings = Settings::from_config(config, file)?;
        let probe = settings
            .fetch
            .then(|| ImageProbe::new(store, settings.probe.clone()));
        Ok(Self::new(settings, probe))
    }

    /// The same pipeline without image fetches (dry runs, previews of many vehicles).
    pub fn without_fetch(&self) -> Self {
        Self {
            probe: None,
            ..self.clone()
        }
    }

    /// The image probe, if images are measured.
    pub fn probe(&self) -> Option<&Arc<ImageProbe>> {
        self.probe.as_ref()
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The rules for a dealer's stock on a platform (cached).
    pub fn rules(&self, dealer: &str, platform: &str) -> Arc<RuleSet> {
        let mut cache = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry((dealer.to_string(), platform.to_string()))
            .or_insert_with(|| Arc::new(self.settings.rules(dealer, platform)))
            .clone()
    }

    /// Platform-independent steps: hub-only data removed, vocabularies,
    /// markup, terminology, description template, personal data.
    pub fn prepare(&self, record: &Vehicle) -> Prepared {
        let mut v = record.clone();
        let hub_only_removed = v.hub_only.take().is_some();
        let mut findings = Vec::new();
        let normalised = normalise::vocabularies(&mut v);
        for (field, value) in &normalised.unknown {
            findings.push(Finding::new(
                id::VOCABULARY,
                *field,
                format!("{value:?} is not in the {field} vocabulary; sent as given"),
            ));
        }
        let markup = description::markup(&v.description);
        findings.extend(markup.findings);
        v.description = markup.text;
        let dealer = self.settings.dealers.get(&v.dealer_id);
        let terminology = dealer
            .and_then(|d| d.terminology.as_ref())
            .unwrap_or(&self.settings.terminology);
        v.description = v.description.as_deref().map(|d| terminology.apply(d));
        for f in v.features.iter_mut() {
            *f = terminology.apply(f);
        }
        let template = dealer
            .and_then(|d| d.template.as_ref())
            .or(self.settings.template.as_ref());
        if let Some((t, mode)) = template {
            let missing = v.description.as_deref().is_none_or(|d| d.trim().is_empty());
            if *mode == TemplateMode::Always || missing {
                v.description = Some(normalise::render_template(t, &v)).filter(|d| !d.is_empty());
            }
        }
        let unstripped = v.clone();
        let stripped = pii_strip::strip(&mut v);
        for s in &stripped {
            let noun = match (s.kind, s.count) {
                ("email", 1) => "e-mail address",
                ("email", _) => "e-mail addresses",
                ("phone", 1) => "phone number",
                ("phone", _) => "phone numbers",
                (_, 1) => "web address",
                _ => "web addresses",
            };
            findings.push(Finding::new(
                id::PERSONAL_DATA,
                s.field.clone(),
                format!("{} {noun} removed", s.count),
            ));
        }
        Prepared {
            vehicle: v,
            unstripped,
            findings,
            stripped,
            changes: normalised.changes,
            hub_only_removed,
        }
    }

    /// Apply the (dealer, platform) rule set.
    pub fn check(
        &self,
        p: &Prepared,
        platform: &str,
        info: &PlatformInfo,
        facts: &Facts,
    ) -> Verdict {
        let rules = self.rules(&p.vehicle.dealer_id, platform);
        let mut v = if rules.on(id::PERSONAL_DATA) {
            p.vehicle.clone()
        } else {
            p.unstripped.clone()
        };
        let mut found: Vec<Finding> = p.findings.clone();
        found.extend(gate::field_findings(&v, &rules, info, facts));
        let empty = HashMap::new();
        let images = images::check(
            &v.images,
            &rules,
            facts.sizes.unwrap_or(&empty),
            facts.index.map(|i| &i.shared),
        );
        v.images = images.images;
        found.extend(images.findings);
        found.extend(price::check(&v, &rules, facts.index.map(|i| &i.prices)));
        found.extend(mileage::check(&v, &rules, facts.last_mileage, facts.today));
        found.extend(description::length(
            &v.description,
            &rules,
            info.max_description_length,
            platform,
        ));
        let findings: Vec<Judged> = found
            .into_iter()
            .map(|f| Judged {
                severity: rules.severity(f.rule),
                finding: f,
            })
            .filter(|j| j.severity != Severity::Off)
            .collect();
        let blocked = findings.iter().any(|j| j.severity == Severity::Block);
        let completeness = completeness::score(
            &v,
            platform,
            info,
            rules.list(id::MANDATORY_FIELDS, "fields"),
            crate::store::now_ms(),
        );
        Verdict {
            platform: platform.to_string(),
            vehicle: v,
            findings,
            blocked,
            completeness,
        }
    }

    /// The stock index, rebuilt at most once a minute (comparisons do not
    /// need to-the-second freshness, and a single sale should not rescan the stock).
    pub fn stock_index(
        &self,
        store: &dyn crate::store::Store,
    ) -> crate::store::StoreResult<Arc<gate::StockIndex>> {
        let mut cache = self.index.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, index)) = cache.as_ref() {
            if at.elapsed() < std::time::Duration::from_secs(60) {
                return Ok(index.clone());
            }
        }
        let index = Arc::new(gate::StockIndex::new(&store.present_vehicles()?));
        *cache = Some((std::time::Instant::now(), index.clone()));
        Ok(index)
    }

    /// Forget the cached stock index (after a bulk change, in tests).
    pub fn refresh_index(&self) {
        *self.index.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests;
