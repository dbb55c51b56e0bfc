//! `log`: lines in the app's log, tagged with the room when there is one.

use super::{GuestState, InstanceContext};
use crate::bindings::lodge::app::log;
use crate::logs::{AppLogs, LogSource};
use std::any::Any;
use wasmtime::component::{HasSelf, Linker};

/// Where one instance's log lines go.
pub(crate) struct LogAccess {
    app: String,
    room: Option<String>,
    logs: AppLogs,
}

pub(super) fn instance(ctx: &InstanceContext<'_>) -> Box<dyn Any + Send> {
    Box::new(LogAccess {
        app: ctx.app.to_owned(),
        room: ctx.room.as_ref().map(|r| r.name.to_owned()),
        logs: ctx.shared.logs.clone(),
    })
}

pub(super) fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    log::add_to_linker::<GuestState, HasSelf<LogAccess>>(linker, |s| s.get_mut::<LogAccess>())
}

impl log::Host for LogAccess {
    async fn write(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => "trace",
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        self.logs.push(
            &self.app,
            self.room.as_deref(),
            level,
            LogSource::Guest,
            message,
        );
    }
}
