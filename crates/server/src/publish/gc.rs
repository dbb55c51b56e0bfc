//! Garbage collection of blobs and of the derived files made from them
//! (compiled components, client parts prepared for the browser).
//!
//! Correct when several servers share one registry and blob store:
//!
//! - the referenced set is read under the registry's garbage-collection
//!   lease (`Registry::lock_gc`), so servers collect one at a time;
//! - a blob is removed only when unreferenced under that lease AND not
//!   stored since a cutoff (`BlobStore::delete_if_older`, atomic against
//!   `put`, which makes a blob young again). A full collection's cutoff is
//!   `now - grace`, so a blob an upload (here or on another server) stored
//!   but has not committed yet is never collected; a refused upload's own
//!   blobs and a deleted version's blobs are known, and their cutoff is the
//!   moment that upload or delete started, so a delete frees space at once;
//! - a publish checks after its commit that its blobs are still there and
//!   stores any that went again (see `Apps::publish`).
//!
//! Compiled and browser files are this server's own: they go with the
//! references, under the server's write lock.

use super::Apps;
use super::error::PublishError;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

/// How garbage collection runs.
#[derive(Debug, Clone, Copy)]
pub struct GcConfig {
    /// How old an unreferenced blob must be before a full collection takes
    /// it; longer than any upload takes between storing and committing.
    pub grace: Duration,
    /// How often a full collection runs (also once at start).
    pub interval: Duration,
}

impl Default for GcConfig {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(3600),
            interval: Duration::from_secs(600),
        }
    }
}

/// How long the lease lasts if its holder dies while holding it.
const LEASE_TTL: Duration = Duration::from_secs(600);
/// How long a targeted collection waits for another server's to finish.
const LEASE_WAIT: Duration = Duration::from_secs(5);

/// Which blobs a collection looks at.
pub(super) enum Candidates {
    /// Every stored blob, removed once unreferenced and older than the grace.
    All,
    /// Blobs an upload stored or a deleted version named, removed once
    /// unreferenced and not stored again since `since`.
    Known {
        hashes: Vec<String>,
        since: SystemTime,
    },
}

/// What a collection did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Blobs removed.
    pub removed: usize,
    /// Unreferenced blobs kept because they are young.
    pub kept_young: usize,
    /// Another server held the lease: nothing was looked at.
    pub busy: bool,
}

impl Apps {
    /// A full collection: every blob no version names and older than the
    /// grace period, with the compiled and browser files no version names.
    pub async fn collect_garbage(&self) -> GcReport {
        let _guard = self.write_lock.lock().await;
        self.collect_locked(Candidates::All).await
    }

    /// Collects under the write lock (which the caller holds); failures are
    /// logged, since the next collection tries again.
    pub(super) async fn collect_locked(&self, candidates: Candidates) -> GcReport {
        let report = match self.try_collect(candidates).await {
            Ok(report) => report,
            Err(e) => {
                tracing::warn!(error = %e, "garbage collection failed; the next one tries again");
                GcReport::default()
            }
        };
        if report.removed > 0 {
            tracing::info!(removed = report.removed, "removed blobs no version names");
        }
        // Space may have been freed: take the reserve back if it was given up.
        let reserve = self.reserve.clone();
        let _ = tokio::task::spawn_blocking(move || reserve.hold()).await;
        report
    }

    async fn try_collect(&self, candidates: Candidates) -> Result<GcReport, PublishError> {
        let wait = match candidates {
            Candidates::All => Duration::ZERO,
            Candidates::Known { .. } => LEASE_WAIT,
        };
        let deadline = tokio::time::Instant::now() + wait;
        let lease = loop {
            if let Some(lease) = self.registry.lock_gc(&self.holder, LEASE_TTL).await? {
                break lease;
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::info!("another server is collecting garbage; this collection is skipped");
                return Ok(GcReport {
                    busy: true,
                    ..GcReport::default()
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let result = self.sweep(candidates).await;
        if let Err(e) = self.registry.unlock_gc(&lease).await {
            tracing::warn!(error = %e, "giving back the garbage-collection lease failed; it expires by itself");
        }
        result
    }

    /// The collection proper, under the lease.
    async fn sweep(&self, candidates: Candidates) -> Result<GcReport, PublishError> {
        let referenced = self.registry.referenced_blobs().await?;
        let mut report = GcReport::default();
        let full = matches!(candidates, Candidates::All);
        let (hashes, cutoff) = match candidates {
            Candidates::All => (
                self.blobs.list().await?,
                SystemTime::now()
                    .checked_sub(self.gc.grace)
                    .unwrap_or(SystemTime::UNIX_EPOCH),
            ),
            Candidates::Known { hashes, since } => (hashes, since),
        };
        let mut derived: HashSet<String> = HashSet::new();
        for hash in hashes {
            if referenced.contains(&hash) {
                continue;
            }
            if self.blobs.delete_if_older(&hash, cutoff).await? {
                report.removed += 1;
            } else if self.blobs.contains(&hash).await? {
                report.kept_young += 1;
            }
            derived.insert(hash);
        }
        let cache = self.cache.clone();
        let browser = self.browser.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            // A full collection also looks for derived files whose blob is
            // long gone (a crash between removing the two).
            let listed = if full {
                cache.list()?.into_iter().chain(browser.list()?).collect()
            } else {
                derived
            };
            for hash in listed {
                if !referenced.contains(&hash) {
                    cache.remove(&hash)?;
                    browser.remove(&hash)?;
                }
            }
            Ok(())
        })
        .await
        .map_err(PublishError::task("removing derived files"))?
        .map_err(PublishError::io("removing derived files"))?;
        Ok(report)
    }
}
