//! The Lodge server: the HTTP API, uploads, rooms over WebSocket, apps'
//! http parts and the web UI.
//!
//! [`Server::bind`] opens the storage and the listener; [`Server::run`]
//! serves until the shutdown future resolves. [`router`] builds the axum
//! router from an [`AppState`] ([`Server::state`]), which tests can drive
//! in-process.

pub mod accounts;
mod api;
mod assets;
mod auth;
pub mod bundle;
pub mod cluster;
mod data_dir;
mod error;
mod gateway;
mod headers;
mod json;
mod listener;
mod names;
mod observe;
pub mod publish;
mod room_access;
mod room_create;
mod room_list;
mod run;
mod tls;
mod ui;

pub use accounts::{AccountsConfig, SignupPolicy};
pub use auth::{TOKEN_FILE, Token};
pub use bundle::BundleLimits;
pub use cluster::{ClusterConfig, ClusterNode};
pub use error::ApiError;
pub use listener::{ClientAddr, ConnectionLimits};
pub use lodge_runtime::{
    COMPILE_COMMAND, CompileChild, CompileConfig, ComponentLimits, EngineOptions, HttpConfig,
    RoomConfig, compile_child,
};
pub use lodge_store::cluster::LeaseTiming;
pub use lodge_store::{
    BlobBackend, KvBackend, KvLimits, QuotaOverrides, Quotas, StorageConfig, StorageUrls,
};
pub use publish::{Apps, AssetLimits, GcConfig, PublishError, ResolveError};
pub use tls::{TlsError, TlsFiles};

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{any, delete, get, patch, post, put};
use lodge_runtime::{
    AppLogs, BrowserCache, CompiledCache, Compiler, ComponentLoader, GuestThreads, HttpParts,
    MemoryBudget, Metrics, Rooms, Shared, new_engine, start_ticker,
};
use lodge_store::Kv;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// How `lodge serve` was asked to run.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// The API token; when `None`, the data directory's token file is used (and created).
    pub token: Option<String>,
    pub limits: BundleLimits,
    /// How many `[client].assets` a version may list, and how large.
    pub assets: AssetLimits,
    /// What one component may hold, checked before it is compiled.
    pub component: ComponentLimits,
    /// How uploads are compiled: the `lodge` executable run as
    /// `lodge __compile` (by default this process's own executable), and
    /// the time and memory one compile may take.
    pub compile: CompileConfig,
    pub engine: EngineOptions,
    pub rooms: RoomConfig,
    pub kv: KvLimits,
    /// Which storage backends to use; `None` is the embedded ones inside
    /// `data_dir` (with `kv` as their limits).
    pub storage: Option<StorageConfig>,
    /// How unreferenced blobs are collected.
    pub gc: GcConfig,
    /// Linear memory all guests together may hold (rooms and http
    /// requests); `None` is half of the machine's memory.
    pub guest_memory_bytes: Option<usize>,
    /// Threads that run guest code, apart from those serving sockets;
    /// `None` is one per core.
    pub guest_threads: Option<usize>,
    /// Open connections and how long they may idle.
    pub connections: ConnectionLimits,
    /// How often room members are pinged; one that answers nothing for two
    /// intervals is dropped, freeing their seat.
    pub ping_interval: std::time::Duration,
    /// Compiled components kept in memory, in bytes.
    pub component_memory_bytes: usize,
    /// Limits for apps' http parts.
    pub http: HttpConfig,
    /// Serve `{app}.{domain}` from the app's http part (`--domain`).
    pub domain: Option<String>,
    /// Disk space kept in `<data>/reserve` and given up when the disk is
    /// full, so deleting apps (which frees space) still works.
    pub disk_reserve_bytes: u64,
    /// Stop an app's rooms when a new version is published, telling members
    /// to rejoin (close 1012), so they run the new version (`lodge dev`).
    pub restart_rooms_on_publish: bool,
    /// Serve HTTPS and WSS with this certificate and key (`--tls-cert`,
    /// `--tls-key`); plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// Sign-up policy, the first admin, quotas and sign-in limits.
    pub accounts: AccountsConfig,
    /// Join a cluster of servers sharing one Lodge (`--cluster`).
    pub cluster: Option<ClusterConfig>,
}

impl ServerConfig {
    /// The defaults, with storage in `data_dir`, listening on `listen`.
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> Self {
        Self {
            data_dir,
            listen,
            token: None,
            limits: BundleLimits::default(),
            assets: AssetLimits::default(),
            component: ComponentLimits::default(),
            compile: CompileConfig::default(),
            engine: EngineOptions::default(),
            rooms: RoomConfig::default(),
            kv: KvLimits::default(),
            storage: None,
            gc: GcConfig::default(),
            guest_memory_bytes: None,
            guest_threads: None,
            connections: ConnectionLimits::default(),
            ping_interval: std::time::Duration::from_secs(15),
            component_memory_bytes: 256 << 20,
            http: HttpConfig::default(),
            domain: None,
            disk_reserve_bytes: 8 << 20,
            restart_rooms_on_publish: false,
            tls: None,
            accounts: AccountsConfig::default(),
            cluster: None,
        }
    }
}

/// Everything request handlers share.
pub struct AppState {
    pub apps: Apps,
    /// Accounts, sessions, tokens, and the operator's token.
    pub auth: accounts::Auth,
    pub rooms: Rooms,
    pub logs: AppLogs,
    pub metrics: Metrics,
    pub kv: Arc<dyn Kv>,
    /// How often room members are pinged (`ServerConfig::ping_interval`).
    pub ping_interval: std::time::Duration,
    /// Open room connections (WebSockets), for a graceful shutdown.
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    pub http: HttpParts,
    /// `lodge serve --domain`: apps answer at `{app}.{domain}`.
    pub domain: Option<String>,
    pub restart_rooms_on_publish: bool,
    /// Origin headers already reported removed from an app's `/run/` answers.
    pub reported_headers: headers::Reported,
    /// Signs and checks room invitations.
    pub invites: room_access::InviteKey,
    /// Room password guesses, per address and room.
    pub password_attempts: room_access::PasswordAttempts,
    /// This server's membership of a cluster (`--cluster`), if any.
    pub cluster: Option<Arc<ClusterNode>>,
    /// Compiled components (to compile newly published ones ahead).
    pub loader: lodge_runtime::ComponentLoader,
}

/// The HTTP routes.
pub fn router(state: Arc<AppState>) -> Router {
    use accounts::{admin, routes as acc};
    let api = Router::new()
        .route(
            "/apps",
            get(api::list_apps).post(api::upload.layer(DefaultBodyLimit::disable())),
        )
        .route("/apps/{name}", get(api::show_app).delete(api::delete_app))
        .route(
            "/apps/{name}/versions/{version}",
            get(api::show_version).delete(api::delete_version),
        )
        .route(
            "/apps/{name}/rooms",
            get(room_list::list_rooms).post(room_create::create),
        )
        .route(
            "/apps/{name}/rooms/join-or-create",
            post(room_create::join_or_create).delete(observe::stop_join_or_create),
        )
        .route("/apps/{name}/rooms/{room}", delete(observe::stop_room))
        .route(
            "/apps/{name}/rooms/{room}/invites",
            post(room_access::create_invite),
        )
        .route("/apps/{name}/rooms/{room}/admit", post(room_access::admit))
        .route(
            "/apps/{name}/rooms/{room}/whoami",
            post(room_access::whoami),
        )
        .route("/apps/{name}/rooms/{room}/start", post(room_access::start))
        .route(
            "/apps/{name}/rooms/{room}/host",
            post(room_access::set_host),
        )
        .route("/apps/{name}/logs", get(observe::logs))
        .route("/apps/{name}/members", get(acc::list_members))
        .route(
            "/apps/{name}/members/{username}",
            put(acc::put_member).delete(acc::delete_member),
        )
        .route("/apps/{name}/transfer", post(admin::transfer_app))
        .route("/signup", post(acc::signup))
        .route(
            "/session",
            post(acc::create_session).delete(acc::delete_session),
        )
        .route("/setup", get(acc::setup_state).post(acc::setup))
        .route("/me", get(acc::me).delete(acc::delete_me))
        .route("/me/password", put(acc::change_password))
        .route("/me/sessions", delete(acc::delete_all_sessions))
        .route("/tokens", get(acc::list_tokens).post(acc::create_token))
        .route("/tokens/{id}", delete(acc::delete_token))
        .route("/users", get(admin::list_users))
        .route(
            "/users/{username}",
            patch(admin::change_user).delete(admin::delete_user),
        )
        .route(
            "/invites",
            get(admin::list_invites).post(admin::create_invite),
        )
        .route("/cluster", get(cluster::status::show))
        .fallback(api::not_found)
        // JSON bodies are small; uploads enforce their own limits while
        // streaming (their route lifts this one).
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        // In a cluster, a room's requests go to the server running it.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cluster::proxy::to_owner,
        ));
    Router::new()
        .nest("/api", api)
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(cluster::status::readyz))
        .route(
            "/internal/apps/{app}/rooms/{room}",
            get(cluster::forward::internal_join),
        )
        .route("/metrics", get(observe::metrics))
        .route("/apps/{app}/rooms/{room}", get(gateway::join))
        .route("/assets/{sha256}", get(assets::serve))
        .merge(ui::routes())
        .route("/run/{app}", any(run::by_path))
        .route("/run/{app}/", any(run::by_path))
        .route("/run/{app}/{*rest}", any(run::by_path))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            run::by_host,
        ))
        .layer(axum::middleware::from_fn(headers::lodge_headers))
        .layer(
            // The path only: query strings carry seat and resume tokens
            // and invites, which have no place in a log.
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &axum::http::Request<axum::body::Body>| {
                    tracing::debug_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                },
            ),
        )
        .with_state(state)
}

/// A bound, ready server.
pub struct Server {
    /// The first admin's one-time setup link, while it has no password.
    setup_link: Option<String>,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<AppState>,
    connections: ConnectionLimits,
    room_scope_days: u32,
}

impl Server {
    /// Opens the data directory (creating it), recovers from any crash, and binds.
    pub async fn bind(config: ServerConfig) -> anyhow::Result<Self> {
        let open_files = raise_open_file_limit();
        let data = &config.data_dir;
        std::fs::create_dir_all(data)
            .with_context(|| format!("creating the data directory {}", data.display()))?;
        data_dir::lock_folder(data);
        let token = auth::load_or_create(config.token.as_deref(), data)?;
        let storage = config
            .storage
            .clone()
            .unwrap_or_else(|| StorageConfig::embedded(data, config.kv))
            .open()
            .await?;
        data_dir::lock_files(data);
        let (kv, blobs) = (storage.kv, storage.blobs);
        let mut engine_options = config.engine.clone();
        // Rooms and http requests each have their own budget (rooms, running
        // requests, kept instances), and the pool holds all of them, so
        // neither can starve the other of instances.
        engine_options.pool_instances = engine_options.pool_instances.or_else(|| {
            let needed = config.rooms.max_rooms + 2 * config.http.max_concurrent + POOL_HEADROOM;
            Some(u32::try_from(needed).unwrap_or(u32::MAX))
        });
        engine_options.max_memory_bytes = engine_options
            .max_memory_bytes
            .max(config.rooms.max_memory_bytes as u64);
        let (engine, pooling) = new_engine(&engine_options)?;
        start_ticker(engine.clone());
        let cache = CompiledCache::new(engine.clone(), &data.join("cache/compiled"))
            .context("opening the compiled-component cache")?;
        let browser = BrowserCache::new(&data.join("cache/browser"))
            .context("opening the cache of client parts prepared for the browser")?;
        tracing::info!(data = %data.display(), pooling, "storage opened");
        let metrics = Metrics::default();
        let logs = AppLogs::default();
        let loader = ComponentLoader::new(
            cache.clone(),
            blobs.clone(),
            config.component_memory_bytes,
            metrics.clone(),
        );
        let memory = match config.guest_memory_bytes {
            Some(bytes) => MemoryBudget::new(bytes),
            None => MemoryBudget::half_of_machine(),
        };
        tracing::info!(
            guest_memory_mib = memory.limit() >> 20,
            "guest memory budget"
        );
        let kick: lodge_runtime::Kick = {
            let engine = engine.clone();
            Box::new(move || engine.increment_epoch())
        };
        let threads = match config.guest_threads {
            Some(n) => GuestThreads::new(n, kick),
            None => GuestThreads::per_core(kick),
        }
        .context("starting the guest threads")?;
        let shared = Shared {
            engine: engine.clone(),
            loader: loader.clone(),
            kv: kv.clone(),
            logs: logs.clone(),
            metrics: metrics.clone(),
            memory,
            threads,
        };
        let http = HttpParts::new(shared.clone(), config.http.clone());
        let rooms = Rooms::new(shared, config.rooms.clone());
        let apps = Apps::new(publish::AppsParts {
            registry: storage.registry,
            blobs,
            cache,
            browser,
            compiler: Compiler::new(engine, engine_options, config.compile.clone()),
            limits: publish::PublishLimits {
                bundle: config.limits,
                max_room_memory_bytes: config.rooms.max_memory_bytes,
                max_rooms: config.rooms.max_rooms,
                max_http_timeout: config.http.max_timeout,
                max_http_cpu: config.http.max_cpu,
                component: config.component,
                assets: config.assets,
            },
            reserve: lodge_store::DiskReserve::new(
                &data.join("reserve"),
                config.disk_reserve_bytes,
            ),
            gc: config.gc,
        });
        apps.collect_garbage().await;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let connections = ConnectionLimits {
            max_total: config
                .connections
                .max_total
                .min(connection_budget(open_files)),
            ..config.connections
        };
        if connections.max_total < config.connections.max_total {
            tracing::warn!(
                open_files,
                max_connections = connections.max_total,
                "the open-file limit allows fewer connections than --max-connections"
            );
        }
        let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let invites = room_access::InviteKey::load(storage.accounts.as_ref())
            .await
            .context("reading the room invite key")?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let cluster = match &config.cluster {
            Some(cluster) => {
                let advertise = match &cluster.advertise {
                    Some(url) => url.clone(),
                    None if config.listen.ip().is_unspecified() => anyhow::bail!(
                        "--advertise: this server listens on {} (every address); give the URL the other servers reach it at, like http://10.0.0.5:8080",
                        config.listen
                    ),
                    None => format!("{scheme}://{}", listener.local_addr()?),
                };
                let secret = cluster::secret(storage.accounts.as_ref())
                    .await
                    .context("reading the cluster's forwarding secret")?;
                let node = ClusterNode::join(cluster, advertise, kv.clone(), rooms.clone(), secret)
                    .await?;
                rooms.set_placement(node.clone());
                metrics.identify(node.id());
                Some(node)
            }
            None => None,
        };
        let (auth, setup_code) =
            accounts::Auth::start(storage.accounts, token, &config.accounts, tls.is_some())
                .await
                .context("starting accounts")?;
        let setup_link = setup_code.map(|code| {
            format!(
                "{scheme}://{}/setup#code={code}",
                listener
                    .local_addr()
                    .map_or_else(|_| config.listen.to_string(), |a| a.to_string())
            )
        });
        if setup_link.is_some() {
            // The link itself goes to standard output only (`setup_link`):
            // logs are shipped and kept, and it takes over the admin.
            tracing::warn!(
                "the admin account has no password yet: open the setup link printed on standard output, or start with LODGE_ADMIN_PASSWORD"
            );
        }
        Ok(Self {
            setup_link,
            room_scope_days: config.kv.room_scope_days,
            connections,
            listener,
            tls,
            state: Arc::new(AppState {
                apps,
                auth,
                rooms,
                logs,
                metrics,
                kv,
                ping_interval: config.ping_interval,
                connections: Default::default(),
                http,
                domain: config.domain.clone(),
                restart_rooms_on_publish: config.restart_rooms_on_publish,
                reported_headers: Default::default(),
                invites,
                password_attempts: Default::default(),
                cluster,
                loader,
            }),
        })
    }

    /// The first admin's one-time setup link, while the admin has no password.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    /// What the handlers share, for driving [`router`] in-process (tests).
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The URL this server answers at: `https://ADDR` with TLS, else `http://ADDR`.
    pub fn url(&self) -> std::io::Result<String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        Ok(format!("{scheme}://{}", self.local_addr()?))
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let expiry = tokio::spawn(expire_room_data(
            self.state.kv.clone(),
            self.room_scope_days,
        ));
        let collection = tokio::spawn(collect_garbage(self.state.clone()));
        let budgets = tokio::spawn(keep_kv_budgets(self.state.clone()));
        let events = tokio::spawn(cluster::events::follow(self.state.clone()));
        let state = self.state.clone();
        // Members hear why, instead of seeing their connection drop: stop
        // every room, then give the relays a moment to send the close. In
        // a cluster the rooms move: members reconnect, and other servers
        // take the rooms over at once.
        let drain = async move {
            if let Some(node) = &state.cluster {
                node.drain().await;
            }
            state
                .rooms
                .stop_all(
                    lodge_runtime::rooms::close::GOING_AWAY,
                    "the server is shutting down",
                )
                .await;
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
            while state.connections.load(std::sync::atomic::Ordering::Relaxed) > 0
                && tokio::time::Instant::now() < deadline
            {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        };
        let metrics = self.state.metrics.clone();
        let endpoint = listener::Endpoint {
            listener: self.listener,
            tls: self.tls,
        };
        listener::serve(
            endpoint,
            router(self.state),
            self.connections,
            metrics,
            shutdown,
            drain,
            std::time::Duration::from_secs(10),
        )
        .await;
        expiry.abort();
        events.abort();
        collection.abort();
        budgets.abort();
        Ok(())
    }
}

/// Removes, now and every hour, the kv data of room scopes nobody wrote to
/// for `days` days: rooms long gone no longer count against their app.
async fn expire_room_data(kv: Arc<dyn Kv>, days: u32) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        hourly.tick().await;
        let before = lodge_store::now_ms() - i64::from(days) * 86_400_000;
        match kv.expire_room_scopes(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(scopes = n, days, "removed the kv data of rooms long gone"),
            Err(e) => tracing::warn!(error = %e, "removing the kv data of rooms long gone failed"),
        }
    }
}

/// Collects unreferenced blobs every `GcConfig::interval` (the first
/// collection ran in `Server::bind`): those of crashed or other servers'
/// uploads, once older than the grace period.
async fn collect_garbage(state: Arc<AppState>) {
    let every = state
        .apps
        .gc_config()
        .interval
        .max(std::time::Duration::from_secs(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        ticks.tick().await;
        state.apps.collect_garbage().await;
    }
}

/// The largest JSON body an API route reads (uploads have their own limits).
pub(crate) const JSON_BODY_LIMIT: usize = 64 << 10;

/// How often each app's share of its owner's kv quota is worked out again.
const KV_BUDGET_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Holds each account's apps, together, to the account's kv quota: every
/// few seconds, each app of a non-admin owner may grow by what the quota
/// leaves after the owner's other apps. (Within one app the quota is exact;
/// across apps growing at once it may be passed by one interval's writes.)
async fn keep_kv_budgets(state: Arc<AppState>) {
    let mut ticks = tokio::time::interval(KV_BUDGET_INTERVAL);
    loop {
        ticks.tick().await;
        state.refresh_kv_budgets().await;
    }
}

impl AppState {
    /// Works out again what each app may hold in kv under its owner's
    /// quota: periodically, and at once when quotas or owners change or a
    /// new app is published.
    pub async fn refresh_kv_budgets(&self) {
        let (owners, used) = match (
            self.auth.store.app_owners().await,
            self.kv.app_bytes().await,
        ) {
            (Ok(owners), Ok(used)) => (owners, used),
            (Err(e), _) => {
                tracing::warn!(error = %e, "reading app owners for kv quotas failed");
                return;
            }
            (_, Err(e)) => {
                tracing::warn!(error = %e, "reading kv usage for kv quotas failed");
                return;
            }
        };
        self.kv
            .set_app_budgets(kv_budgets(&owners, &used, self.auth.quotas));
    }
}

/// Each app's kv budget: its owner's kv quota less what the owner's other
/// apps hold. Admins' apps have none (only the server's per-app limit).
fn kv_budgets(
    owners: &[(lodge_manifest::AppName, lodge_store::Account)],
    used: &std::collections::HashMap<String, u64>,
    defaults: Quotas,
) -> std::collections::HashMap<String, u64> {
    let mut by_owner: std::collections::HashMap<i64, u64> = Default::default();
    for (app, owner) in owners {
        *by_owner.entry(owner.id).or_default() += used.get(app.as_str()).copied().unwrap_or(0);
    }
    owners
        .iter()
        .filter(|(_, owner)| !owner.is_admin())
        .map(|(app, owner)| {
            let quota = defaults.with(&owner.quotas).kv_bytes;
            let own = used.get(app.as_str()).copied().unwrap_or(0);
            let others = by_owner[&owner.id] - own;
            (app.to_string(), quota.saturating_sub(others))
        })
        .collect()
}

/// Instances the pool holds beyond the room and http budgets: rooms
/// stopping while their successors start.
const POOL_HEADROOM: usize = 16;

/// File descriptors kept back from connections: databases, blobs, compiled
/// components, the runtime's own.
const RESERVED_FILES: u64 = 256;

/// Raises the soft open-file limit to the hard one, so a crowd of
/// connections finds the server ready; returns the limit now in force.
fn raise_open_file_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let wanted = limit.maximum;
        limit.current = wanted;
        if setrlimit(Resource::Nofile, limit).is_err() {
            limit = getrlimit(Resource::Nofile);
        }
    }
    limit.current.unwrap_or(u64::MAX)
}

/// The connections `open_files` descriptors leave room for.
fn connection_budget(open_files: u64) -> usize {
    let budget = if open_files > 2 * RESERVED_FILES {
        open_files - RESERVED_FILES
    } else {
        open_files / 2
    };
    usize::try_from(budget).unwrap_or(usize::MAX).max(1)
}
