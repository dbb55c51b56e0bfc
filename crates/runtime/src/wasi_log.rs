//! Guest stdout and stderr, as lines in the app's log.

use crate::logs::{AppLogs, LogSource};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// A WASI output stream that writes whole lines to the app log.
#[derive(Clone)]
pub struct LogStream {
    pub logs: AppLogs,
    pub app: String,
    pub room: Option<String>,
    pub level: &'static str,
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            stream: self.clone(),
            buf: Vec::new(),
        })
    }
}

struct LineWriter {
    stream: LogStream,
    buf: Vec<u8>,
}

impl LineWriter {
    fn emit(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line).trim_end().to_owned();
        let s = &self.stream;
        s.logs
            .push(&s.app, s.room.as_deref(), s.level, LogSource::Guest, text);
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.buf.extend_from_slice(data);
        while let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=end).collect();
            self.emit(&line);
        }
        if self.buf.len() >= crate::logs::MAX_LINE_BYTES {
            let line = std::mem::take(&mut self.buf);
            self.emit(&line);
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            self.emit(&line);
        }
        Poll::Ready(Ok(()))
    }
}
