//! What the quality pipeline keeps in the store: image sizes by URL, the
//! mileage readings of each vehicle, and listing completeness. Every
//! [`crate::store::Store`] implements this trait, so the admin API and
//! metrics can query completeness through the store they already hold.

use super::completeness::{Completeness, PlatformCompleteness};
use super::image_probe::{CachedSize, Measured};
use crate::store::StoreResult;
use std::collections::HashMap;

/// One accepted mileage reading.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MileageReading {
    /// The vehicle.
    pub stock_id: String,
    /// Its VIN, when known (a vehicle that returns under a new stock id keeps it).
    pub vin: Option<String>,
    /// Miles (kilometres are converted).
    pub miles: u32,
    /// When it was accepted (ms since the epoch).
    pub at: i64,
}

/// Data-quality state.
pub trait QualityStore {
    /// Cached sizes of these image URLs.
    fn image_sizes(&self, urls: &[String]) -> StoreResult<HashMap<String, CachedSize>>;
    /// Remember the size of an image (or why it could not be read).
    fn put_image_size(&self, url: &str, measured: &Measured, now: i64) -> StoreResult<()>;
    /// The newest accepted reading for this stock id or VIN.
    fn last_mileage(
        &self,
        stock_id: &str,
        vin: Option<&str>,
    ) -> StoreResult<Option<MileageReading>>;
    /// Append accepted readings (a reading equal to the newest one is not repeated).
    fn record_mileage(&self, readings: &[MileageReading]) -> StoreResult<()>;
    /// Forget a vehicle's readings (an operator confirmed a lower reading is right).
    fn reset_mileage(&self, stock_id: &str, actor: &str, now: i64) -> StoreResult<usize>;
    /// Replace the completeness of these (vehicle, platform) pairs and drop
    /// every row of the `cleared` vehicles (no longer advertised).
    fn put_completeness(&self, rows: &[Completeness], cleared: &[String]) -> StoreResult<()>;
    /// Completeness rows, lowest score first, optionally of one platform.
    fn completeness(&self, platform: Option<&str>) -> StoreResult<Vec<Completeness>>;
    /// Completeness aggregated per platform.
    fn completeness_summary(&self) -> StoreResult<Vec<PlatformCompleteness>> {
        Ok(super::completeness::summarise(&self.completeness(None)?))
    }
    /// Make the planner look at these vehicles again (their content is unchanged).
    fn request_replan(&self, stock_ids: &[String]) -> StoreResult<usize>;
}
