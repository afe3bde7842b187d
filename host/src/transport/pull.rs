//! A pull of an export-file source whose document a pickup fetches: fetch,
//! hand the bytes to the plugin through the engine, then settle the
//! document (remembered as ingested, or set aside as refused).

use super::{Pickup, Settlement};
use crate::sync::{Engine, EngineResult, PullRefused, PullReport, SourceSetup};

/// Pull `source` with the newest document `pickup` has; an empty report
/// when there is nothing new.
pub async fn pull_pickup(
    engine: &Engine,
    source: &SourceSetup,
    pickup: &dyn Pickup,
) -> EngineResult<PullReport> {
    let fetched = pickup.fetch().await.map_err(|e| {
        anyhow::anyhow!(
            "source {}: cannot fetch the export from {}: {e}",
            source.id,
            pickup.describe()
        )
    })?;
    let Some(document) = fetched else {
        tracing::debug!(source = %source.id, from = %pickup.describe(), "No new export.");
        return Ok(PullReport {
            source: source.id.clone(),
            ..Default::default()
        });
    };
    tracing::info!(source = %source.id, from = %document.label, bytes = document.bytes.len(), "Export picked up.");
    match engine
        .pull_document(source, Some(document.bytes.clone()))
        .await
    {
        Ok(report) => {
            if let Err(e) = pickup.settle(&document, &Settlement::Ingested).await {
                // The store has it; at worst the same export is parsed again,
                // which changes nothing (content hashes).
                tracing::error!(source = %source.id, error = %e, "Export ingested but not marked as done.");
            }
            Ok(report)
        }
        Err(error) => {
            let refused = error
                .downcast_ref::<PullRefused>()
                .filter(|r| matches!(r.class, "validation" | "permanent"));
            if let Some(refused) = refused {
                let reason = format!("{} ({})", refused.message, refused.class);
                if let Err(e) = pickup
                    .settle(&document, &Settlement::Rejected(reason))
                    .await
                {
                    tracing::error!(source = %source.id, error = %e, "Refused export could not be set aside.");
                }
            }
            Err(error)
        }
    }
}
