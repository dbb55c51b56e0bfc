//! HTTP parts: every request gets a fresh instance of the app's
//! `wasi:http/proxy` component, made from a pre-instantiated component (and
//! the pooling allocator), with a CPU deadline, a wall-clock timeout, body
//! size limits and a concurrency limit that answers "busy" instead of
//! queueing.

mod body;
pub(crate) mod connect;

pub use body::HttpBody;

use crate::capabilities::{GuestState, InstanceContext, Linkers};
use crate::epoch::{GuestCore, guest_store};
use crate::memory::{GuestLimits, MemoryRefused};
use crate::metrics::HttpLabels;
use crate::shared::Shared;
use body::{AbortOnDrop, Limited, Watched};
use bytes::Bytes;
use http_body_util::BodyExt;
use lodge_manifest::{CapabilityName, Role};
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::{Error, WasiHttpView};

/// Server-wide settings for http parts (`lodge serve --http-*`).
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// CPU time a request may use when the manifest doesn't say.
    pub cpu: Duration,
    /// The most CPU time a manifest may ask for.
    pub max_cpu: Duration,
    /// Wall-clock time a request may take when the manifest doesn't say.
    pub timeout: Duration,
    /// The most wall-clock time a manifest may ask for.
    pub max_timeout: Duration,
    /// Linear memory one request's instance may grow to.
    pub memory_bytes: usize,
    /// The largest request body accepted (413 past it).
    pub max_request_body: u64,
    /// The largest response body sent; a larger one is cut off.
    pub max_response_body: u64,
    /// Requests running at once across all apps; more answer 503.
    pub max_concurrent: usize,
    /// Requests running at once for one app; more answer 503.
    pub max_concurrent_per_app: usize,
    /// Outbound requests may reach loopback, private, link-local and other
    /// non-public addresses (`--http-allow-private-outbound`).
    pub allow_private_outbound: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            cpu: Duration::from_secs(1),
            max_cpu: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
            max_timeout: Duration::from_secs(60),
            memory_bytes: 64 << 20,
            max_request_body: 10 << 20,
            max_response_body: 64 << 20,
            max_concurrent: 256,
            max_concurrent_per_app: 64,
            allow_private_outbound: false,
        }
    }
}

/// Which component answers, and with what limits: from the app's version.
#[derive(Debug, Clone)]
pub struct HttpSpec {
    pub app: String,
    pub version: semver::Version,
    pub sha256: String,
    pub capabilities: Vec<CapabilityName>,
    pub allowed_hosts: Vec<String>,
    /// `[http].timeout-ms` and `cpu-ms`, when the manifest sets them.
    pub timeout_ms: Option<u32>,
    pub cpu_ms: Option<u32>,
    /// `[http].reuse-instances`: serve requests one after another on kept instances.
    pub reuse_instances: bool,
}

/// Requests one kept instance serves before it is replaced.
const MAX_REQUESTS_PER_INSTANCE: u32 = 10_000;
/// How long a kept instance may sit unused before it is dropped.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// An instance kept between requests (`reuse-instances`).
struct Warm {
    store: Store<GuestState>,
    proxy: Proxy,
    served: u32,
    idle_since: std::time::Instant,
}

/// Why a request got no answer from the app: the one vocabulary of http
/// part failures. Each has a name ([`HttpFailure::outcome`]) and a message
/// for the client; the server turns it into a status and an error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpFailure {
    /// Too many requests running: try again after `retry_after`.
    Busy { retry_after: Duration },
    /// The request body is larger than the limit (bytes).
    BodyTooLarge { limit: u64 },
    /// The handler did not answer within its wall-clock timeout.
    Timeout { after: Duration },
    /// The handler used up its CPU time.
    CpuDeadline { budget: Duration },
    /// The handler trapped (a panic, an out-of-bounds access, out of memory).
    Trap { reason: String },
    /// The server's memory for guests is used up (`--guest-memory-mib`).
    ServerMemory { reason: String },
    /// The handler returned without setting a response.
    NoResponse,
    /// The handler answered with an error instead of a response.
    Failed { reason: String },
    /// Lodge could not run the part.
    Internal { reason: String },
}

impl HttpFailure {
    /// The failure's name: the `outcome` label of
    /// `lodge_http_requests_total` and what the app's log calls it. The
    /// HTTP status and error code a client gets are the server's to say
    /// (`lodge_server::run`), once.
    pub fn outcome(&self) -> &'static str {
        match self {
            HttpFailure::Busy { .. } => "busy",
            HttpFailure::ServerMemory { .. } => "guest_memory",
            HttpFailure::BodyTooLarge { .. } => "too_large",
            HttpFailure::Timeout { .. } => "timeout",
            HttpFailure::CpuDeadline { .. } => "cpu_deadline",
            HttpFailure::Trap { .. } => "trap",
            HttpFailure::NoResponse => "no_response",
            HttpFailure::Failed { .. } => "failed",
            HttpFailure::Internal { .. } => "error",
        }
    }

    /// What the client reads.
    pub fn message(&self) -> String {
        match self {
            HttpFailure::Busy { retry_after } => format!(
                "the app is busy (too many requests at once); retry after {} s",
                retry_after.as_secs()
            ),
            HttpFailure::BodyTooLarge { limit } => {
                format!("the request body is larger than this server's limit of {limit} bytes")
            }
            HttpFailure::Timeout { after } => {
                format!("the app did not answer within {} ms", after.as_millis())
            }
            HttpFailure::CpuDeadline { budget } => format!(
                "the app's handler ran past its CPU time of {} ms and was stopped",
                budget.as_millis()
            ),
            HttpFailure::Trap { reason } => format!("the app's handler failed: {reason}"),
            HttpFailure::ServerMemory { reason } => {
                format!("the app could not run: {reason}")
            }
            HttpFailure::NoResponse => "the app's handler returned without a response".into(),
            HttpFailure::Failed { reason } => format!("the app answered with an error: {reason}"),
            HttpFailure::Internal { reason } => format!("Lodge could not run the app: {reason}"),
        }
    }
}

/// Runs apps' http parts.
#[derive(Clone)]
pub struct HttpParts {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Shared,
    config: HttpConfig,
    running: Arc<Semaphore>,
    per_app: Mutex<HashMap<String, Arc<Semaphore>>>,
    linkers: Linkers,
    /// Pre-instantiated components by (sha256, capabilities).
    pres: Mutex<lru::LruCache<PreKey, ProxyPre<GuestState>>>,
    /// Idle instances of parts that reuse them, by (sha256, capabilities).
    warm: Mutex<HashMap<PreKey, Vec<Warm>>>,
}

impl Inner {
    /// An idle kept instance, if one is fresh enough.
    fn take_warm(&self, key: &PreKey) -> Option<Warm> {
        let mut warm = self.warm.lock().expect("http lock");
        let idle = warm.get_mut(key)?;
        while let Some(instance) = idle.pop() {
            if instance.idle_since.elapsed() < MAX_IDLE {
                return Some(instance);
            }
        }
        None
    }

    /// Keeps an instance that served a request cleanly, up to the app's
    /// concurrency, and up to the server's in all (the instance pool holds
    /// that many kept instances beside the running ones).
    fn keep_warm(&self, key: PreKey, mut instance: Warm) {
        if instance.served >= MAX_REQUESTS_PER_INSTANCE {
            return;
        }
        instance.idle_since = std::time::Instant::now();
        let mut warm = self.warm.lock().expect("http lock");
        if warm.values().map(Vec::len).sum::<usize>() >= self.config.max_concurrent {
            for idle in warm.values_mut() {
                idle.retain(|w| w.idle_since.elapsed() < MAX_IDLE);
            }
            warm.retain(|_, idle| !idle.is_empty());
            if warm.values().map(Vec::len).sum::<usize>() >= self.config.max_concurrent {
                return;
            }
        }
        let idle = warm.entry(key).or_default();
        if idle.len() >= self.config.max_concurrent_per_app {
            // Full: make room by dropping instances unused for too long.
            idle.retain(|w| w.idle_since.elapsed() < MAX_IDLE);
        }
        if idle.len() < self.config.max_concurrent_per_app {
            idle.push(instance);
        }
    }
}

/// A component's hash and the capabilities it was linked with.
type PreKey = (String, Vec<CapabilityName>);

/// The permits a running request holds; released when it finishes.
struct Admission {
    _global: OwnedSemaphorePermit,
    _app: OwnedSemaphorePermit,
}

impl HttpParts {
    pub fn new(shared: Shared, config: HttpConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                linkers: Linkers::new(shared.engine.clone()),
                shared,
                running: Arc::new(Semaphore::new(config.max_concurrent)),
                per_app: Mutex::default(),
                pres: Mutex::new(lru::LruCache::new(
                    NonZeroUsize::new(256).expect("non-zero"),
                )),
                warm: Mutex::default(),
                config,
            }),
        }
    }

    /// Answers one request with the app's http part. The request's URI and
    /// headers are what the guest sees.
    pub async fn handle(
        &self,
        spec: &HttpSpec,
        request: http::Request<HttpBody>,
    ) -> Result<http::Response<HttpBody>, HttpFailure> {
        let result = self.run(spec, request).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(failure) => failure.outcome(),
        };
        self.inner
            .shared
            .metrics
            .http_requests
            .get_or_create(&HttpLabels { outcome })
            .inc();
        result
    }

    fn admit(&self, app: &str) -> Result<Admission, HttpFailure> {
        let busy = HttpFailure::Busy {
            retry_after: Duration::from_secs(1),
        };
        let app_limit = {
            let mut per_app = self.inner.per_app.lock().expect("http lock");
            per_app
                .entry(app.to_owned())
                .or_insert_with(|| {
                    Arc::new(Semaphore::new(self.inner.config.max_concurrent_per_app))
                })
                .clone()
        };
        let app_permit = app_limit.try_acquire_owned().map_err(|_| busy.clone())?;
        let global = self
            .inner
            .running
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy)?;
        Ok(Admission {
            _global: global,
            _app: app_permit,
        })
    }

    /// The limits that apply to one spec: the manifest's, within the server's maximum.
    fn limits(&self, spec: &HttpSpec) -> (Duration, Duration) {
        let config = &self.inner.config;
        let pick = |asked: Option<u32>, default: Duration, max: Duration| {
            asked
                .map(|ms| Duration::from_millis(ms.into()))
                .unwrap_or(default)
                .min(max)
        };
        (
            pick(spec.timeout_ms, config.timeout, config.max_timeout),
            pick(spec.cpu_ms, config.cpu, config.max_cpu),
        )
    }

    async fn run(
        &self,
        spec: &HttpSpec,
        request: http::Request<HttpBody>,
    ) -> Result<http::Response<HttpBody>, HttpFailure> {
        let admission = self.admit(&spec.app)?;
        let config = &self.inner.config;
        let limit = config.max_request_body;
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(self.failed(spec, HttpFailure::BodyTooLarge { limit }));
        }
        let pre = self.pre(spec).await.map_err(|e| HttpFailure::Internal {
            reason: format!("{e:#}"),
        })?;
        let (timeout, cpu) = self.limits(spec);
        let body_too_large = Arc::new(AtomicBool::new(false));
        let request = request.map(|body| {
            Limited::new(
                body,
                limit,
                |limit| Error::HttpRequestBodySize(Some(limit)),
                body_too_large.clone(),
            )
            .boxed_unsync()
        });

        let key = pre_key(spec);
        let warm = if spec.reuse_instances {
            self.inner.take_warm(&key)
        } else {
            None
        };
        let (mut store, kept, served) = match warm {
            Some(warm) => (warm.store, Some(warm.proxy), warm.served),
            None => (self.store(spec, cpu), None, 0),
        };
        store.data_mut().core.cpu.restart();
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)
            .map_err(|e| HttpFailure::Internal {
                reason: format!("{e:#}"),
            })?;
        let outparam = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(|e| HttpFailure::Internal {
                reason: format!("{e:#}"),
            })?;

        // The guest runs in its own task so it can keep streaming the body
        // after the response head is sent; the permits go with it.
        let inner = self.inner.clone();
        let reuse = spec.reuse_instances;
        self.inner.shared.threads.nudge(&spec.app);
        let mut task = AbortOnDrop(self.inner.shared.threads.spawn(async move {
            let _admission = admission;
            let call = async {
                store.data().core.take_turn().await;
                let proxy = match kept {
                    Some(proxy) => proxy,
                    None => pre.instantiate_async(&mut store).await?,
                };
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, outparam)
                    .await?;
                Ok::<_, wasmtime::Error>(proxy)
            };
            match tokio::time::timeout(timeout, call).await {
                Err(_) => Err(HttpFailure::Timeout { after: timeout }),
                Ok(Ok(proxy)) => {
                    store.data().core.give_turn_back();
                    // Only an instance that finished cleanly serves again.
                    if reuse {
                        let warm = Warm {
                            store,
                            proxy,
                            served: served + 1,
                            idle_since: std::time::Instant::now(),
                        };
                        inner.keep_warm(key, warm);
                    }
                    Ok(())
                }
                Ok(Err(e)) if store.data().core.cpu.spent() => {
                    drop(e);
                    Err(HttpFailure::CpuDeadline { budget: cpu })
                }
                // Every pooled instance slot is taken (rooms and requests
                // share the pool): busy, not broken.
                Ok(Err(e))
                    if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
                        .is_some() =>
                {
                    Err(HttpFailure::Busy {
                        retry_after: Duration::from_secs(1),
                    })
                }
                Ok(Err(e)) => Err(match MemoryRefused::find(&e) {
                    Some(refused @ MemoryRefused::Server { .. }) => HttpFailure::ServerMemory {
                        reason: refused.to_string(),
                    },
                    _ => HttpFailure::Trap {
                        reason: trap_reason(&e),
                    },
                }),
            }
        }));

        let answer = match tokio::time::timeout(timeout, receiver).await {
            Err(_) => Err(HttpFailure::Timeout { after: timeout }),
            Ok(Ok(Ok(response))) => Ok(response),
            Ok(Ok(Err(code))) => Err(HttpFailure::Failed {
                reason: format!("{code:?}"),
            }),
            // The outparam was dropped unset: the task says why.
            Ok(Err(_)) => Err(match (&mut task.0).await {
                Ok(Err(failure)) => failure,
                Ok(Ok(())) => HttpFailure::NoResponse,
                Err(e) => HttpFailure::Internal {
                    reason: format!("the request's task failed: {e}"),
                },
            }),
        };
        if body_too_large.load(Ordering::Relaxed) {
            return Err(self.failed(spec, HttpFailure::BodyTooLarge { limit }));
        }
        let response = answer.map_err(|failure| self.failed(spec, failure))?;
        let cut = Arc::new(AtomicBool::new(false));
        let (logs, app) = (self.inner.shared.logs.clone(), spec.app.clone());
        let report = Box::new(move |failure: &HttpFailure| {
            logs.lodge(
                &app,
                None,
                "error",
                format!(
                    "http response cut off after its head was sent: {}",
                    failure.message()
                ),
            );
        });
        Ok(response.map(|body| {
            let limited = Limited::new(
                body,
                config.max_response_body,
                |limit| Error::HttpResponseBodySize(Some(limit)),
                cut,
            );
            Watched::new(limited.boxed_unsync(), task, report).boxed_unsync()
        }))
    }

    /// Logs a failure in the app's log and passes it on.
    fn failed(&self, spec: &HttpSpec, failure: HttpFailure) -> HttpFailure {
        let level = match failure {
            HttpFailure::BodyTooLarge { .. } => "info",
            _ => "error",
        };
        self.inner.shared.logs.lodge(
            &spec.app,
            None,
            level,
            format!(
                "http request failed ({}): {}",
                failure.outcome(),
                failure.message()
            ),
        );
        failure
    }

    fn store(&self, spec: &HttpSpec, cpu: Duration) -> Store<GuestState> {
        let inner = &self.inner;
        let ctx = InstanceContext {
            shared: &inner.shared,
            role: Role::Http,
            app: &spec.app,
            room: None,
            allowed_hosts: &spec.allowed_hosts,
            allow_private_outbound: inner.config.allow_private_outbound,
        };
        let core = GuestCore::new(
            cpu,
            GuestLimits::new(inner.config.memory_bytes, inner.shared.memory.clone()),
            &spec.app,
            inner.shared.threads.turns(),
        );
        let state = GuestState::new(&ctx, &spec.capabilities, core);
        guest_store(&inner.shared.engine, state)
    }

    /// The pre-instantiated component for a spec, made once and kept.
    async fn pre(&self, spec: &HttpSpec) -> anyhow::Result<ProxyPre<GuestState>> {
        let key = pre_key(spec);
        if let Some(pre) = self.inner.pres.lock().expect("http lock").get(&key) {
            return Ok(pre.clone());
        }
        let component = self.inner.shared.loader.load(&spec.sha256).await?;
        let linker = self.inner.linkers.get(Role::Http, &key.1)?;
        let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
        self.inner
            .pres
            .lock()
            .expect("http lock")
            .put(key, pre.clone());
        Ok(pre)
    }
}

fn pre_key(spec: &HttpSpec) -> PreKey {
    let mut capabilities = spec.capabilities.clone();
    capabilities.sort();
    (spec.sha256.clone(), capabilities)
}

/// A trap's cause on one line, without wasmtime's backtrace.
fn trap_reason(e: &wasmtime::Error) -> String {
    crate::fault::describe(e).1
}

/// Turns any body into the runtime's body type.
pub fn body_from<B>(body: B) -> HttpBody
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    body.map_err(|e| Error::InternalError(Some(e.to_string())))
        .boxed_unsync()
}
