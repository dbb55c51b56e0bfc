//! Compiling uploaded components with bounded time and memory.
//!
//! Cranelift can't be interrupted, and a compile that runs out of memory
//! takes the process with it, so uploads compile in a child process: the
//! `lodge` executable run as `lodge __compile`, which limits its own memory
//! (`RLIMIT_DATA`) and CPU time (`RLIMIT_CPU`) before it reads the
//! component on stdin, and writes the serialized artifact on stdout. The
//! parent kills it when the wall-clock limit passes. The child builds its
//! engine with [`new_engine`], so its artifact has the parent's
//! [`engine_key`] (checked on both sides).

use crate::cache::engine_key;
use crate::engine::{EngineOptions, new_engine};
use crate::inspect::PartError;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The hidden subcommand that compiles one component.
pub const COMPILE_COMMAND: &str = "__compile";

/// The flags that set the limits below, for error messages.
const TIMEOUT_FLAG: &str = "--compile-timeout-secs";
const MEMORY_FLAG: &str = "--compile-memory-mib";

/// How uploads are compiled.
#[derive(Debug, Clone)]
pub struct CompileConfig {
    /// The `lodge` executable to run as `lodge __compile`. `None` compiles
    /// in this process, under the same wall-clock limit but with nothing to
    /// stop a compile that runs on or grows: for tests that can't run the
    /// binary.
    pub exe: Option<PathBuf>,
    /// Wall-clock time one compile may take.
    pub timeout: Duration,
    /// Memory one compile may use (the child's heap and writable mappings).
    pub memory_bytes: u64,
}

impl Default for CompileConfig {
    fn default() -> Self {
        Self {
            exe: std::env::current_exe().ok(),
            timeout: Duration::from_secs(60),
            memory_bytes: 2 << 30,
        }
    }
}

/// Compiles room and http parts for the server's engine.
#[derive(Clone)]
pub struct Compiler {
    engine: Engine,
    options: EngineOptions,
    config: CompileConfig,
}

impl Compiler {
    /// `options` are the ones `engine` was built with, passed to the child.
    pub fn new(engine: Engine, options: EngineOptions, config: CompileConfig) -> Self {
        Self {
            engine,
            options,
            config,
        }
    }

    /// Compiles `bytes` (a component that passed `check_part`) and returns
    /// the serialized artifact, or why it was refused.
    pub async fn compile(&self, file: &str, bytes: bytes::Bytes) -> Result<Vec<u8>, PartError> {
        let started = std::time::Instant::now();
        let result = match &self.config.exe {
            Some(exe) => self.in_child(exe, file, bytes).await,
            None => self.in_process(file, bytes).await,
        };
        tracing::debug!(file, elapsed = ?started.elapsed(), ok = result.is_ok(), "compiled");
        result
    }

    async fn in_process(&self, file: &str, bytes: bytes::Bytes) -> Result<Vec<u8>, PartError> {
        let engine = self.engine.clone();
        let work = tokio::task::spawn_blocking(move || {
            Component::new(&engine, &bytes).and_then(|c| c.serialize())
        });
        match tokio::time::timeout(self.config.timeout, work).await {
            // The thread runs on to its end: nothing can stop Cranelift.
            Err(_) => Err(self.too_slow(file)),
            Ok(Err(e)) => Err(failed(file, format!("the compiler task failed: {e}"))),
            Ok(Ok(Err(e))) => Err(PartError::Invalid {
                file: file.to_owned(),
                reason: format!("{e:#}"),
            }),
            Ok(Ok(Ok(artifact))) => Ok(artifact),
        }
    }

    async fn in_child(
        &self,
        exe: &std::path::Path,
        file: &str,
        bytes: bytes::Bytes,
    ) -> Result<Vec<u8>, PartError> {
        let key = engine_key(&self.engine);
        let cpu_secs = cpu_limit(self.config.timeout);
        let mut child = tokio::process::Command::new(exe)
            .arg(COMPILE_COMMAND)
            .args(["--engine-key", &key])
            .args(["--memory-bytes", &self.config.memory_bytes.to_string()])
            .args(["--cpu-secs", &cpu_secs.to_string()])
            .args([
                "--max-memory-bytes",
                &self.options.max_memory_bytes.to_string(),
            ])
            .env_clear()
            // Cranelift compiles functions in parallel on rayon's pool: cap
            // it, so one upload can't take every core and its memory (thread
            // stacks and per-function state count) doesn't grow with them.
            .env("RAYON_NUM_THREADS", compile_threads().to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                // The path goes to the server's log, not to the client.
                tracing::error!(exe = %exe.display(), error = %e, "could not start the compiler");
                failed(file, format!("starting the compiler failed: {e}"))
            })?;
        let (Some(mut stdin), Some(mut stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(failed(file, "the compiler's pipes are missing".into()));
        };
        let run = async {
            let feed = async move {
                // A child that fails early closes its end; its exit says why.
                let _ = stdin.write_all(&bytes).await;
            };
            let mut artifact = Vec::new();
            let mut message = Vec::new();
            let read = stdout.read_to_end(&mut artifact);
            let said = async {
                let mut stderr = stderr;
                let _ = stderr.read_to_end(&mut message).await;
                // Only the start of what it said is kept.
                message.truncate(64 << 10);
            };
            let ((), read, ()) = tokio::join!(feed, read, said);
            let status = child.wait().await;
            (
                read.map(|_| artifact),
                String::from_utf8_lossy(&message).into_owned(),
                status,
            )
        };
        let outcome = tokio::time::timeout(self.config.timeout, run).await;
        let Ok((artifact, message, status)) = outcome else {
            // Killed by its id; `kill_on_drop` would too, but wait for it so
            // no zombie is left.
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Err(self.too_slow(file));
        };
        let status = status.map_err(|e| failed(file, format!("waiting for the compiler: {e}")))?;
        let message = message.trim();
        if status.success() {
            return artifact.map_err(|e| failed(file, format!("reading the compiled code: {e}")));
        }
        if message.contains(OUT_OF_MEMORY) || message.contains("memory allocation of") {
            return Err(self.too_big(file));
        }
        if message.contains("overflowed its stack") {
            return Err(PartError::Invalid {
                file: file.to_owned(),
                reason: "it is nested too deeply to compile".into(),
            });
        }
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(INVALID_EXIT), _) => Err(PartError::Invalid {
                file: file.to_owned(),
                reason: message
                    .strip_prefix(INVALID_PREFIX)
                    .unwrap_or(message)
                    .to_owned(),
            }),
            // RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard one.
            (_, Some(SIGXCPU | SIGKILL)) => Err(self.too_slow(file)),
            _ => Err(failed(
                file,
                format!("the compiler stopped ({status}): {}", last_line(message)),
            )),
        }
    }

    fn too_slow(&self, file: &str) -> PartError {
        PartError::CompileLimit {
            file: file.to_owned(),
            reason: format!(
                "did not compile within {} s, this server's limit",
                self.config.timeout.as_secs_f64()
            ),
            flag: TIMEOUT_FLAG,
        }
    }

    fn too_big(&self, file: &str) -> PartError {
        PartError::CompileLimit {
            file: file.to_owned(),
            reason: format!(
                "needs more than {} MiB of memory to compile, this server's limit",
                self.config.memory_bytes >> 20
            ),
            flag: MEMORY_FLAG,
        }
    }
}

const SIGKILL: i32 = 9;
const SIGXCPU: i32 = 24;

/// The child's exit code for "this is not a valid component".
const INVALID_EXIT: i32 = 2;
const INVALID_PREFIX: &str = "invalid: ";
/// What the child says when compiling failed for want of memory.
const OUT_OF_MEMORY: &str = "compiling ran out of memory";

/// The most threads one compile uses.
const MAX_COMPILE_THREADS: usize = 4;

fn compile_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_COMPILE_THREADS))
}

/// CPU seconds for the child: compiling runs on several threads, so the
/// wall clock is the real limit; this one only stops a child whose parent
/// is gone (and can no longer kill it).
fn cpu_limit(timeout: Duration) -> u64 {
    let threads = compile_threads() as u64;
    timeout
        .as_secs()
        .max(1)
        .saturating_mul(threads)
        .saturating_add(1)
}

fn failed(file: &str, reason: String) -> PartError {
    PartError::CompilerFailed {
        file: file.to_owned(),
        reason,
    }
}

fn last_line(message: &str) -> &str {
    message.lines().last().unwrap_or("no message")
}

/// What `lodge __compile` was asked to do.
#[derive(Debug, Clone)]
pub struct CompileChild {
    /// The parent's engine key; the child refuses to compile for another.
    pub engine_key: String,
    pub memory_bytes: u64,
    pub cpu_secs: u64,
    /// The parent's `EngineOptions::max_memory_bytes`.
    pub max_memory_bytes: u64,
}

/// The child's side: limits itself, then compiles the component on
/// `input` and writes the artifact to `output`. Returns the exit code.
pub fn compile_child(request: &CompileChild, input: impl Read, output: impl Write) -> i32 {
    match run_child(request, input, output) {
        Ok(()) => 0,
        Err(ChildError::Invalid(reason)) => {
            eprintln!("{INVALID_PREFIX}{reason}");
            INVALID_EXIT
        }
        Err(ChildError::Other(e)) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

enum ChildError {
    Invalid(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for ChildError {
    fn from(e: anyhow::Error) -> Self {
        Self::Other(e)
    }
}

fn run_child(
    request: &CompileChild,
    mut input: impl Read,
    mut output: impl Write,
) -> Result<(), ChildError> {
    use anyhow::Context;
    use rustix::process::{Resource, Rlimit, setrlimit};
    // First, before touching the upload: die with the server, and limit
    // memory and CPU. RLIMIT_DATA rather than RLIMIT_AS: it counts what is
    // allocated and written, not the address space the engine and the
    // allocator reserve without using.
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .context("asking to die with the server")?;
    let limit = |n: u64| Rlimit {
        current: Some(n),
        maximum: Some(n),
    };
    setrlimit(Resource::Data, limit(request.memory_bytes)).context("limiting memory")?;
    setrlimit(
        Resource::Cpu,
        Rlimit {
            current: Some(request.cpu_secs),
            maximum: Some(request.cpu_secs.saturating_add(1)),
        },
    )
    .context("limiting CPU time")?;
    // The pooling allocator only matters for running code, and its
    // reservation would count against the limit; compiled code is the same
    // without it (the key check below proves it).
    let (engine, _) = new_engine(&EngineOptions {
        pooling: false,
        max_memory_bytes: request.max_memory_bytes,
        ..EngineOptions::default()
    })?;
    let key = engine_key(&engine);
    if key != request.engine_key {
        return Err(anyhow::anyhow!(
            "this compiler's engine is {key}, not the server's {}; the lodge executable changed under the server",
            request.engine_key
        )
        .into());
    }
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .context("reading the component")?;
    let component = Component::new(&engine, &bytes).map_err(|e| {
        if is_out_of_memory(&e) {
            ChildError::Other(anyhow::anyhow!("{OUT_OF_MEMORY}: {e:#}"))
        } else {
            ChildError::Invalid(format!("{e:#}"))
        }
    })?;
    // Serializing only copies what was compiled; failing, it ran out of room.
    let artifact = component
        .serialize()
        .map_err(|e| anyhow::anyhow!("{OUT_OF_MEMORY}: serializing: {e:#}"))?;
    output
        .write_all(&artifact)
        .and_then(|()| output.flush())
        .context("writing the compiled code")?;
    Ok(())
}

/// Whether a compile error is the memory limit (an mmap refused) rather
/// than something wrong with the component.
fn is_out_of_memory(e: &wasmtime::Error) -> bool {
    e.is::<wasmtime::OutOfMemory>()
        || e.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::OutOfMemory)
        })
}
