//! Getting a compiled component ready to instantiate: an in-memory LRU with
//! a byte budget, in front of the on-disk cache, in front of the blob.

use crate::cache::CompiledCache;
use crate::metrics::Metrics;
use lodge_store::BlobStore;
use lru::LruCache;
use std::sync::{Arc, Mutex};
use wasmtime::component::Component;

/// Loads components by hash, keeping recently used ones in memory.
#[derive(Clone)]
pub struct ComponentLoader {
    cache: CompiledCache,
    blobs: Arc<dyn BlobStore>,
    memory: Arc<Mutex<Memory>>,
    metrics: Metrics,
}

struct Memory {
    lru: LruCache<String, (Component, usize)>,
    bytes: usize,
    budget: usize,
}

impl ComponentLoader {
    /// `budget` bounds the compiled bytes kept in memory.
    pub fn new(
        cache: CompiledCache,
        blobs: Arc<dyn BlobStore>,
        budget: usize,
        metrics: Metrics,
    ) -> Self {
        Self {
            cache,
            blobs,
            memory: Arc::new(Mutex::new(Memory {
                lru: LruCache::unbounded(),
                bytes: 0,
                budget,
            })),
            metrics,
        }
    }

    /// The component with this hash, compiled.
    pub async fn load(&self, sha256: &str) -> anyhow::Result<Component> {
        if let Some((component, _)) = self.memory.lock().expect("loader lock").lru.get(sha256) {
            self.metrics.cache_hits.inc();
            return Ok(component.clone());
        }
        self.metrics.cache_misses.inc();
        let cache = self.cache.clone();
        let hash = sha256.to_owned();
        let from_disk = tokio::task::spawn_blocking(move || cache.load(&hash)).await?;
        let component = match from_disk {
            Some(component) => component,
            None => {
                // Not compiled for this engine yet (a new wasmtime, a lost cache): rebuild.
                let bytes = self.blobs.get(sha256).await?.ok_or_else(|| {
                    anyhow::anyhow!("component {sha256} is missing from the blob store")
                })?;
                let cache = self.cache.clone();
                let engine = cache.engine().clone();
                let hash = sha256.to_owned();
                tokio::task::spawn_blocking(move || -> anyhow::Result<Component> {
                    // The blob passed the upload checks, so it compiles here.
                    let component = Component::new(&engine, &bytes)?;
                    // A full disk must not stop the room: run it uncached.
                    if let Err(e) = cache.write(&hash, &component.serialize()?) {
                        tracing::warn!(sha256 = %hash, error = %e, "could not cache a compiled component");
                    }
                    Ok(component)
                })
                .await??
            }
        };
        let range = component.image_range();
        let size = (range.end as usize).saturating_sub(range.start as usize);
        let mut memory = self.memory.lock().expect("loader lock");
        memory.bytes += size;
        if let Some((_, old)) = memory.lru.put(sha256.to_owned(), (component.clone(), size)) {
            memory.bytes -= old;
        }
        while memory.bytes > memory.budget && memory.lru.len() > 1 {
            if let Some((_, (_, evicted))) = memory.lru.pop_lru() {
                memory.bytes -= evicted;
            }
        }
        Ok(component)
    }
}
