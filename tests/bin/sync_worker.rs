//! A sync worker for the crash-safety test: runs full cycles against a
//! configuration until nothing is left to do. The test kills it with SIGKILL
//! at random moments and starts it again.

use forecourt::config::RawConfig;
use forecourt::store::Store;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config_path = std::env::args()
        .nth(1)
        .expect("usage: sync-worker <forecourt.toml>");
    let config = RawConfig::load(std::path::Path::new(&config_path))?;
    let app = forecourt::app::build_with_secrets(&config, Some(forecourt_tests::sandbox_secrets()))
        .await?;
    loop {
        app.engine.sync_once().await?;
        if app.store.queue_depth(None)? == 0 {
            println!("converged");
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
