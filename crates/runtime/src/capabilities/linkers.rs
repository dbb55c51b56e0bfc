//! Linkers, built from the capability table once per part kind and grant
//! set and kept for the life of the engine.

use super::{CAPABILITIES, GuestState};
use lodge_manifest::{CapabilityName, Role};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wasmtime::Engine;
use wasmtime::component::Linker;

/// A part kind and the names of the capabilities linked for it.
type LinkerKey = (Role, Vec<&'static str>);

/// The linkers made so far.
#[derive(Clone)]
pub(crate) struct Linkers {
    engine: Engine,
    made: Arc<Mutex<HashMap<LinkerKey, Arc<Linker<GuestState>>>>>,
}

impl Linkers {
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            made: Arc::default(),
        }
    }

    /// The linker for a part of `role` that declared `declared`: every
    /// capability its kind is granted or it declared, and all of standard
    /// WASI (which denies what nothing grants).
    pub fn get(
        &self,
        role: Role,
        declared: &[CapabilityName],
    ) -> anyhow::Result<Arc<Linker<GuestState>>> {
        let linked: Vec<_> = CAPABILITIES
            .iter()
            .filter(|c| c.linked(role, declared))
            .collect();
        let key = (role, linked.iter().map(|c| c.name).collect::<Vec<_>>());
        if let Some(linker) = self.made.lock().expect("linkers lock").get(&key) {
            return Ok(linker.clone());
        }
        let mut linker = Linker::new(&self.engine);
        for capability in linked {
            if let Some(link) = capability.link {
                link(&mut linker)?;
            }
        }
        let linker = Arc::new(linker);
        self.made
            .lock()
            .expect("linkers lock")
            .insert(key, linker.clone());
        Ok(linker)
    }
}
