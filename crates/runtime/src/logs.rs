//! The app log: guest log lines and room lifecycle events, kept in a ring
//! per app and streamed to followers (`lodge logs --follow`).

use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How many lines each app keeps for `lodge logs`.
const LINES_PER_APP: usize = 2000;
/// The longest line kept, in bytes; longer lines are cut.
pub const MAX_LINE_BYTES: usize = 4096;

/// What wrote a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    /// The app's own code (the log interface, or stdout/stderr).
    Guest,
    /// Lodge, about the room: started, joined, left, crashed, stopped.
    Lodge,
}

/// One line of an app's log.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub app: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    pub level: &'static str,
    pub source: LogSource,
    pub message: String,
}

struct AppLog {
    lines: VecDeque<LogLine>,
    tx: broadcast::Sender<LogLine>,
}

/// Every app's log.
#[derive(Clone, Default)]
pub struct AppLogs {
    apps: Arc<Mutex<HashMap<String, AppLog>>>,
}

fn cut(mut message: String) -> String {
    if message.len() > MAX_LINE_BYTES {
        let mut end = MAX_LINE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

impl AppLogs {
    /// Appends a line, mirrored to the server's own tracing output.
    pub fn push(
        &self,
        app: &str,
        room: Option<&str>,
        level: &'static str,
        source: LogSource,
        message: String,
    ) {
        let line = LogLine {
            time_ms: lodge_store::now_ms(),
            app: app.to_owned(),
            room: room.map(str::to_owned),
            level,
            source,
            message: cut(message),
        };
        match source {
            LogSource::Lodge if level == "error" => {
                tracing::warn!(app, room, "{}", line.message)
            }
            LogSource::Lodge => tracing::info!(app, room, "{}", line.message),
            LogSource::Guest => tracing::debug!(app, room, level, "guest: {}", line.message),
        }
        let mut apps = self.apps.lock().expect("log lock");
        let log = apps.entry(app.to_owned()).or_insert_with(|| AppLog {
            lines: VecDeque::with_capacity(64),
            tx: broadcast::channel(1024).0,
        });
        if log.lines.len() == LINES_PER_APP {
            log.lines.pop_front();
        }
        log.lines.push_back(line.clone());
        let _ = log.tx.send(line);
    }

    /// A Lodge lifecycle line.
    pub fn lodge(
        &self,
        app: &str,
        room: Option<&str>,
        level: &'static str,
        message: impl Into<String>,
    ) {
        self.push(app, room, level, LogSource::Lodge, message.into());
    }

    /// The kept lines of an app (optionally one room), oldest first, and a
    /// receiver for the lines that follow.
    pub fn read(
        &self,
        app: &str,
        room: Option<&str>,
    ) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let mut apps = self.apps.lock().expect("log lock");
        let log = apps.entry(app.to_owned()).or_insert_with(|| AppLog {
            lines: VecDeque::with_capacity(64),
            tx: broadcast::channel(1024).0,
        });
        let lines = log
            .lines
            .iter()
            .filter(|l| room.is_none() || l.room.as_deref() == room)
            .cloned()
            .collect();
        (lines, log.tx.subscribe())
    }

    /// Forgets an app's log (the app was deleted).
    pub fn forget(&self, app: &str) {
        self.apps.lock().expect("log lock").remove(app);
    }
}
