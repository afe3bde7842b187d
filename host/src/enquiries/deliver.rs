//! Delivering enquiries to a CRM target: through the `crm` plugin's
//! `deliver` (HTTP, credentials injected by the host), or by e-mail of the
//! document its `render` produces. Outcomes follow the listings' rules
//! (`sync/retry.rs`): transient failures back off and dead-letter after the
//! target's maximum attempts, rate limits wait, `auth` pauses the target,
//! `validation` and `permanent` dead-letter at once.

use super::email::Mailer;
use super::{DeliveryJob, DeliveryOutcome, StoredEnquiry};
use crate::runtime::crm_api::{CrmInfo, Lead};
use crate::runtime::types::{ErrorClass, PluginError, Vehicle};
use crate::runtime::Plugin;
use crate::store::now_ms;
use crate::sync::retry::{class_name, Decision, RetryPolicy};
use std::collections::HashMap;
use std::time::Duration;

/// One `[[crm]]` target, resolved.
pub struct CrmTarget {
    /// Target id.
    pub id: String,
    /// Its `crm` plugin.
    pub plugin: Plugin,
    /// The plugin's configuration (JSON).
    pub config: String,
    /// What the plugin said in describe().
    pub info: CrmInfo,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// E-mail delivery by the host, instead of the plugin's `deliver`.
    pub mailer: Option<Mailer>,
}

impl CrmTarget {
    /// "plugin" or "e-mail", for reports.
    pub fn mode(&self) -> &'static str {
        if self.mailer.is_some() {
            "e-mail"
        } else {
            "plugin"
        }
    }

    /// Leads per batch.
    pub fn batch_size(&self) -> usize {
        if self.mailer.is_some() {
            10
        } else {
            self.info.batch_size.clamp(1, 100) as usize
        }
    }
}

/// What one delivery round did on one target.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct DeliveryReport {
    /// Target id.
    pub target: String,
    /// Leads the CRM took.
    pub delivered: usize,
    /// Leads scheduled for retry.
    pub retried: usize,
    /// Leads dead-lettered.
    pub dead: usize,
    /// Why delivery stopped early (paused).
    pub held: Option<String>,
}

/// The lead for a stored enquiry, or why it cannot be delivered.
pub fn lead(
    enquiry: &StoredEnquiry,
    vehicle: Option<Vehicle>,
    resend: bool,
) -> Result<Lead, DeliveryOutcome> {
    let Some(customer) = enquiry.customer.clone() else {
        return Err(DeliveryOutcome::Dead {
            class: "permanent".into(),
            message:
                "the enquiry's personal data was deleted (retention) before it could be delivered"
                    .into(),
        });
    };
    Ok(Lead {
        id: enquiry.uid.clone(),
        platform: enquiry.platform.clone(),
        platform_enquiry_id: enquiry.platform_enquiry_id.clone(),
        received_at_ms: enquiry.received_at,
        customer,
        message: enquiry.message.clone(),
        vehicle: vehicle.map(|mut v| {
            v.hub_only = None;
            v
        }),
        resend,
    })
}

/// The e-mail subject of a lead: platform and vehicle, no personal data.
pub fn subject(lead: &Lead) -> String {
    let vehicle = lead
        .vehicle
        .as_ref()
        .map(|v| {
            let name = [v.make.as_deref(), v.model.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let year = v
                .first_registration
                .as_ref()
                .map(|d| d.year)
                .or(v.model_year)
                .map(|y| format!("{y} "))
                .unwrap_or_default();
            format!(": {year}{name} ({})", v.stock_id)
        })
        .unwrap_or_default();
    let resend = if lead.resend { " (resent)" } else { "" };
    format!("Enquiry via {}{vehicle}{resend}", lead.platform)
}

/// Map a plugin or SMTP error to the job's next step.
pub fn outcome_of(
    target: &CrmTarget,
    job: &DeliveryJob,
    error: &PluginError,
    rng: &mut impl rand::Rng,
) -> (DeliveryOutcome, bool) {
    let class = class_name(&error.class).to_string();
    let message = match &error.field {
        Some(field) => format!("{field}: {}", error.message),
        None => error.message.clone(),
    };
    let retry_after = error.retry_after_ms.map(Duration::from_millis);
    match target
        .retry
        .decide(&error.class, retry_after, job.attempts as u32, rng)
    {
        Decision::Retry { after, counts } => (
            DeliveryOutcome::Retry {
                run_at: now_ms() + after.as_millis() as i64,
                class,
                message,
                counts,
            },
            false,
        ),
        // Credentials refused: keep the job, pause the target.
        Decision::Pause => (
            DeliveryOutcome::Retry {
                run_at: now_ms(),
                class,
                message,
                counts: false,
            },
            true,
        ),
        Decision::Dead => (DeliveryOutcome::Dead { class, message }, false),
    }
}

/// Send a batch of leads through the plugin's `deliver`; one outcome per job.
pub async fn through_plugin(
    target: &CrmTarget,
    batch: Vec<(DeliveryJob, Lead)>,
) -> Vec<(DeliveryJob, Result<String, PluginError>)> {
    let leads: Vec<Lead> = batch.iter().map(|(_, l)| l.clone()).collect();
    let answers: HashMap<String, Result<String, PluginError>> =
        match target.plugin.deliver_leads(&target.config, &leads).await {
            Ok(Ok(results)) => results.into_iter().map(|r| (r.id, r.outcome)).collect(),
            Ok(Err(batch_error)) => leads
                .iter()
                .map(|l| (l.id.clone(), Err(batch_error.clone())))
                .collect(),
            // A trap or timeout: retried like a transient failure.
            Err(call) => leads
                .iter()
                .map(|l| {
                    (
                        l.id.clone(),
                        Err(PluginError {
                            class: ErrorClass::Transient,
                            message: call.to_string(),
                            retry_after_ms: None,
                            field: None,
                        }),
                    )
                })
                .collect(),
        };
    batch
        .into_iter()
        .map(|(job, lead)| {
            let result = answers.get(&lead.id).cloned().unwrap_or_else(|| {
                Err(PluginError {
                    class: ErrorClass::Transient,
                    message: "the plugin returned no result for this lead".into(),
                    retry_after_ms: None,
                    field: None,
                })
            });
            (job, result)
        })
        .collect()
}

/// Render each lead with the plugin and e-mail it.
pub async fn by_email(
    target: &CrmTarget,
    mailer: &Mailer,
    batch: Vec<(DeliveryJob, Lead)>,
) -> Vec<(DeliveryJob, Result<String, PluginError>)> {
    let mut out = Vec::with_capacity(batch.len());
    let mut refused = false;
    for (job, lead) in batch {
        if refused {
            // After an auth failure the rest would only be refused too.
            out.push((
                job,
                Err(PluginError {
                    class: ErrorClass::Auth,
                    message: "not sent: the mail server refused the credentials".into(),
                    retry_after_ms: None,
                    field: None,
                }),
            ));
            continue;
        }
        let result = match target.plugin.render_lead(&target.config, &lead).await {
            Ok(Ok(document)) => mailer
                .send(&lead.id, &subject(&lead), &document)
                .await
                .map(|()| format!("mail:{}", lead.id)),
            Ok(Err(e)) => Err(e),
            Err(call) => Err(PluginError {
                class: ErrorClass::Transient,
                message: call.to_string(),
                retry_after_ms: None,
                field: None,
            }),
        };
        refused = matches!(&result, Err(e) if e.class == ErrorClass::Auth);
        out.push((job, result));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::types::Person;

    fn stored(customer: Option<Person>) -> StoredEnquiry {
        StoredEnquiry {
            id: 1,
            uid: "enq-1".into(),
            platform: "autotrader".into(),
            platform_enquiry_id: "E1".into(),
            stock_id: Some("S1".into()),
            remote_id: None,
            via: "pull".into(),
            received_at: 5,
            stored_at: 6,
            customer,
            message: Some("hi".into()),
            purged_at: None,
        }
    }

    #[test]
    fn leads_carry_the_vehicle_without_hub_only_data() {
        let mut vehicle = crate::sample::sample_stock(1, 1).remove(0);
        vehicle.hub_only = Some(crate::runtime::types::HubOnly {
            internal_notes: Some("needs valet".into()),
            previous_keeper: None,
            part_exchange: None,
            cost_price: None,
        });
        let person = Person {
            name: Some("Zyxwv Buyer".into()),
            email: None,
            phone: None,
            address: None,
        };
        let lead = lead(&stored(Some(person)), Some(vehicle.clone()), false).unwrap();
        let v = lead.vehicle.as_ref().unwrap();
        assert!(v.hub_only.is_none());
        assert_eq!(lead.id, "enq-1");
        let s = subject(&lead);
        assert!(s.starts_with("Enquiry via autotrader: "), "{s}");
        assert!(s.contains(&vehicle.stock_id) && !s.contains("Zyxwv"), "{s}");
    }

    #[test]
    fn a_purged_enquiry_is_dead_lettered() {
        assert!(matches!(
            lead(&stored(None), None, false),
            Err(DeliveryOutcome::Dead { .. })
        ));
    }
}
