//! `timers`: a room's timers, delivered to its mailbox as events carrying
//! the tag they were set with.

use super::{GuestState, InstanceContext};
use crate::bindings::lodge::app::timers;
use crate::rooms::Event;
use std::any::Any;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use wasmtime::component::{HasSelf, Linker};

/// One room's pending timers.
pub(crate) struct Timers {
    pub pending: HashMap<u64, tokio::task::AbortHandle>,
    next: u64,
    max: usize,
    mailbox: mpsc::Sender<Event>,
}

pub(super) fn instance(ctx: &InstanceContext<'_>) -> Box<dyn Any + Send> {
    let room = ctx
        .room
        .as_ref()
        .expect("timers run on the server for room parts only");
    Box::new(Timers {
        pending: HashMap::new(),
        next: 0,
        max: room.config.max_timers,
        mailbox: room.mailbox.clone(),
    })
}

pub(super) fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    timers::add_to_linker::<GuestState, HasSelf<Timers>>(linker, |s| s.get_mut::<Timers>())
}

impl Timers {
    /// Stops every pending timer (the room is ending).
    pub fn abort_all(&self) {
        for timer in self.pending.values() {
            timer.abort();
        }
    }
}

impl timers::Host for Timers {
    async fn set(&mut self, after_ms: u64, tag: String) -> Option<u64> {
        if self.pending.len() >= self.max {
            return None;
        }
        self.next += 1;
        let id = self.next;
        let mailbox = self.mailbox.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(after_ms.min(u64::from(u32::MAX)))).await;
            let _ = mailbox.send(Event::Timer { id, tag }).await;
        });
        self.pending.insert(id, task.abort_handle());
        Some(id)
    }

    async fn cancel(&mut self, id: u64) -> bool {
        match self.pending.remove(&id) {
            Some(task) => {
                task.abort();
                true
            }
            None => false,
        }
    }
}
