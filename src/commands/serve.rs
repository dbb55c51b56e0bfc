//! `lodge serve`: run the server.

use super::serve_config::StorageArgs;
use crate::client::default_data_dir;
use anyhow::Context;
use lodge_server::{
    AccountsConfig, AssetLimits, BundleLimits, CompileConfig, ComponentLimits, ConnectionLimits,
    GcConfig, HttpConfig, KvLimits, Quotas, RoomConfig, Server, ServerConfig,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The data directory: the SQLite database, blobs and compiled cache.
    /// [default: a `lodge` folder in the user's data directory]
    #[arg(long, env = "LODGE_DATA")]
    data: Option<PathBuf>,
    /// The address to listen on (port 0 picks a free port).
    /// [default: 127.0.0.1:8080]
    #[arg(long, env = "LODGE_LISTEN")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    storage: StorageArgs,
    /// The API token writes must present; when unset, one is created in the data directory.
    #[arg(long, env = "LODGE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Serve HTTPS and WSS with this certificate chain (PEM; needs --tls-key).
    #[arg(long, env = "LODGE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM; needs --tls-cert).
    #[arg(long, env = "LODGE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The largest bundle accepted, in bytes (compressed).
    #[arg(long, default_value_t = BundleLimits::default().max_bundle_bytes)]
    max_bundle_bytes: u64,
    /// The most bytes one bundle may unpack to.
    #[arg(long, default_value_t = BundleLimits::default().max_unpacked_bytes)]
    max_unpacked_bytes: u64,
    /// The most bytes one bundle entry may unpack to.
    #[arg(long, default_value_t = BundleLimits::default().max_entry_bytes)]
    max_entry_bytes: u64,
    /// The most entries a bundle may hold.
    #[arg(long, default_value_t = BundleLimits::default().max_entries)]
    max_entries: usize,
    /// The most a bundle may expand (uncompressed bytes per compressed byte).
    #[arg(long, default_value_t = BundleLimits::default().max_ratio)]
    max_ratio: u64,
    /// The most core modules one component may hold (nested ones included).
    #[arg(long, default_value_t = ComponentLimits::default().max_core_modules)]
    max_component_modules: u64,
    /// The most functions one component may define, in all its modules.
    #[arg(long, default_value_t = ComponentLimits::default().max_functions)]
    max_component_functions: u64,
    /// The most bytes of code (function bodies) one component may hold.
    #[arg(long, default_value_t = ComponentLimits::default().max_code_bytes)]
    max_code_bytes: u64,
    /// The largest function body, in bytes.
    #[arg(long, default_value_t = ComponentLimits::default().max_function_bytes)]
    max_function_bytes: u64,
    /// The most locals one function may declare.
    #[arg(long, default_value_t = ComponentLimits::default().max_function_locals)]
    max_function_locals: u64,
    /// The most locals all functions of one component may declare together.
    #[arg(long, default_value_t = ComponentLimits::default().max_locals)]
    max_locals: u64,
    /// The most table elements (initial sizes) one component may declare.
    #[arg(long, default_value_t = ComponentLimits::default().max_table_elements)]
    max_table_elements: u64,
    /// Wall-clock time compiling one uploaded component may take, in seconds.
    #[arg(long, default_value_t = CompileConfig::default().timeout.as_secs())]
    compile_timeout_secs: u64,
    /// Memory compiling one uploaded component may use, in MiB.
    #[arg(long, default_value_t = CompileConfig::default().memory_bytes >> 20)]
    compile_memory_mib: u64,
    /// Disk space kept in reserve (the file `reserve` in the data
    /// directory), given up when the disk is full so deleting apps still
    /// works, in MiB.
    #[arg(long, default_value_t = 8)]
    disk_reserve_mib: u64,
    /// How old a blob no version names must be before the periodic garbage
    /// collection removes it, in seconds: longer than any upload takes
    /// between storing its components and committing (servers sharing a
    /// store). Deleted versions' blobs go at once.
    #[arg(long, default_value_t = GcConfig::default().grace.as_secs())]
    gc_grace_secs: u64,
    /// CPU time one call into a room may take before the room is ended, in ms.
    #[arg(long, default_value_t = 1000)]
    room_cpu_ms: u64,
    /// Memory a room may use when its manifest sets no memory-mib, in MiB.
    #[arg(long, default_value_t = 64)]
    room_memory_mib: usize,
    /// The most memory a manifest may ask for (memory-mib), in MiB.
    #[arg(long, default_value_t = 256)]
    room_max_memory_mib: usize,
    /// How long a room with no members keeps running, in seconds.
    #[arg(long, default_value_t = 30)]
    room_idle_secs: u64,
    /// Members per room when the manifest sets no max-members.
    #[arg(long, default_value_t = 1000)]
    room_max_members: u32,
    /// Live rooms of one app at once, when its manifest sets no max-rooms.
    #[arg(long, default_value_t = RoomConfig::default().rooms_per_app)]
    rooms_per_app: u32,
    /// Live rooms across all apps (and the most a manifest may ask for);
    /// joins that would start another are refused with close code 1013.
    #[arg(long, default_value_t = RoomConfig::default().max_rooms)]
    rooms_max: usize,
    /// New rooms one client address may start per minute.
    #[arg(long, default_value_t = RoomConfig::default().starts_per_minute)]
    room_starts_per_minute: u32,
    /// Seconds a reserved seat (join-or-create) waits for its member; for
    /// tests (docs/limits.md).
    #[arg(long, hide = true, default_value_t = RoomConfig::default().seat_reservation.as_secs())]
    seat_reservation_secs: u64,
    /// Messages queued for a member before it counts as too slow and is disconnected.
    #[arg(long, default_value_t = RoomConfig::default().outbox)]
    member_outbox: usize,
    /// Bytes queued for a member before it counts as too slow and is disconnected.
    #[arg(long, default_value_t = RoomConfig::default().outbox_bytes)]
    member_outbox_bytes: usize,
    /// Bytes of members' messages waiting for one room before senders wait.
    #[arg(long, default_value_t = RoomConfig::default().mailbox_bytes)]
    room_mailbox_bytes: usize,
    /// The largest WebSocket message a member may send, or a room may send, in bytes.
    #[arg(long, default_value_t = RoomConfig::default().max_message_bytes)]
    max_message_bytes: usize,
    /// Open connections across all clients (lowered to what the open-file limit allows).
    #[arg(long, default_value_t = ConnectionLimits::default().max_total)]
    max_connections: usize,
    /// Open connections from one client address (IPv6: one /64).
    #[arg(long, default_value_t = ConnectionLimits::default().max_per_address)]
    max_connections_per_address: usize,
    /// Seconds a client may take to send a request's headers; idle
    /// keep-alive connections close after the same time.
    #[arg(long, default_value_t = ConnectionLimits::default().header_timeout.as_secs())]
    header_timeout_secs: u64,
    /// Seconds between pings to room members; one silent for two intervals is dropped.
    #[arg(long, default_value_t = 15)]
    ping_secs: u64,
    /// Linear memory all guests together may hold (rooms and http
    /// requests), in MiB; past it, a room or request is refused or ended
    /// with a reason [default: half of this machine's memory].
    #[arg(long)]
    guest_memory_mib: Option<usize>,
    /// Threads that run guest code (rooms and http parts), apart from the
    /// threads serving connections; apps take turns on them [default: one per core].
    #[arg(long)]
    guest_threads: Option<usize>,
    /// The longest kv key, in bytes.
    #[arg(long, default_value_t = KvLimits::default().max_key_bytes)]
    kv_key_bytes: u32,
    /// The largest kv value, in bytes.
    #[arg(long, default_value_t = KvLimits::default().max_value_bytes)]
    kv_value_bytes: u32,
    /// Keys plus values one kv scope (an app's, or one room's) may hold, in bytes.
    #[arg(long, default_value_t = KvLimits::default().max_scope_bytes)]
    kv_scope_bytes: u64,
    /// Keys plus values one app may hold in all its kv scopes, in bytes.
    #[arg(long, default_value_t = KvLimits::default().max_app_bytes)]
    kv_app_bytes: u64,
    /// Room scopes holding kv data, per app.
    #[arg(long, default_value_t = KvLimits::default().max_room_scopes)]
    kv_room_scopes: u32,
    /// Days after which a room scope nobody wrote to is removed.
    #[arg(long, default_value_t = KvLimits::default().room_scope_days)]
    kv_room_days: u32,
    /// Use on-demand instance allocation instead of the pooling allocator.
    #[arg(long)]
    no_pooling: bool,
    /// Instances the pooling allocator holds at once [default: enough for
    /// --rooms-max rooms and twice --http-max-concurrency requests].
    #[arg(long)]
    pool_instances: Option<u32>,
    /// Serve each app's http part at APP.DOMAIN too (for example
    /// `lodge.localhost`, which browsers resolve to this machine).
    #[arg(long, env = "LODGE_DOMAIN")]
    domain: Option<String>,
    /// CPU time one http request may use when the manifest sets no cpu-ms, in ms.
    #[arg(long, default_value_t = 1000)]
    http_cpu_ms: u64,
    /// The most files a version's `[client].assets` may list.
    #[arg(long, default_value_t = AssetLimits::default().max_count)]
    assets_max_count: usize,
    /// The largest asset file, in bytes.
    #[arg(long, default_value_t = AssetLimits::default().max_file_bytes)]
    asset_max_bytes: u64,
    /// The most bytes of assets one version may carry.
    #[arg(long, default_value_t = AssetLimits::default().max_total_bytes)]
    assets_max_total_bytes: u64,
    /// The most CPU time a manifest may ask for (cpu-ms), in ms.
    #[arg(long, default_value_t = 10_000)]
    http_max_cpu_ms: u64,
    /// Wall-clock time one http request may take when the manifest sets no timeout-ms, in ms.
    #[arg(long, default_value_t = 10_000)]
    http_timeout_ms: u64,
    /// The most wall-clock time a manifest may ask for (timeout-ms), in ms.
    #[arg(long, default_value_t = 60_000)]
    http_max_timeout_ms: u64,
    /// Memory one http request's instance may use, in MiB.
    #[arg(long, default_value_t = 64)]
    http_memory_mib: usize,
    /// The largest request body an http part accepts, in bytes (413 past it).
    #[arg(long, default_value_t = 10 << 20)]
    http_max_request_bytes: u64,
    /// The largest response body an http part may send, in bytes.
    #[arg(long, default_value_t = 64 << 20)]
    http_max_response_bytes: u64,
    /// Http requests running at once, across all apps (503 past it).
    #[arg(long, default_value_t = 256)]
    http_max_concurrency: usize,
    /// Http requests running at once for one app (503 past it).
    #[arg(long, default_value_t = 64)]
    http_max_concurrency_per_app: usize,
    /// Let http parts' outbound requests reach loopback, private (RFC 1918),
    /// link-local, unique-local and other non-public addresses, and hosts
    /// that resolve to them. Off by default: an app could otherwise reach
    /// services on this machine or its network.
    #[arg(long)]
    http_allow_private_outbound: bool,
    /// When a new version of an app is published, stop its rooms and tell
    /// members to rejoin (close code 1012), so they run the new version.
    #[arg(long)]
    restart_rooms_on_publish: bool,
    /// Who may create an account: anyone (open), people with an invite code
    /// an admin made (invite), or nobody (closed).
    #[arg(long, env = "LODGE_SIGNUP", default_value = "open", value_parser = ["open", "invite", "closed"])]
    signup: String,
    /// The first admin's username, created on the first start.
    #[arg(long, env = "LODGE_ADMIN_USER", default_value = "admin")]
    admin_user: String,
    /// The first admin's password, set if the admin has none yet; without
    /// it, a one-time setup link is printed.
    #[arg(
        long = "admin-password",
        env = "LODGE_ADMIN_PASSWORD",
        hide_env_values = true,
        hide = true
    )]
    admin_password: Option<String>,
    /// Apps one account may own (admins have no quotas).
    #[arg(long, default_value_t = Quotas::default().apps)]
    quota_apps: u64,
    /// Versions one app may have.
    #[arg(long, default_value_t = Quotas::default().versions_per_app)]
    quota_versions: u64,
    /// Bytes of components and assets in all of one account's apps.
    #[arg(long, default_value_t = Quotas::default().stored_bytes)]
    quota_stored_bytes: u64,
    /// Bytes of kv data in all of one account's apps.
    #[arg(long, default_value_t = Quotas::default().kv_bytes)]
    quota_kv_bytes: u64,
    /// Sign-in and sign-up attempts per minute from one client address.
    #[arg(long, default_value_t = AccountsConfig::default().signin_per_address_per_minute)]
    signin_per_minute: u32,
    /// Sign-in attempts per minute to one account.
    #[arg(long, default_value_t = AccountsConfig::default().signin_per_account_per_minute)]
    signin_per_account_per_minute: u32,
    /// How long a browser stays signed in, in days.
    #[arg(long, default_value_t = 30)]
    session_days: u64,
    /// Send the session cookie only over HTTPS (`Secure`, `__Host-`) though
    /// Lodge speaks plain HTTP: for a reverse proxy that serves HTTPS. With
    /// --tls-cert it always is.
    #[arg(long, env = "LODGE_SECURE_COOKIES")]
    secure_cookies: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let file = args.storage.file()?;
    let data_dir = args
        .data
        .or_else(|| file.data.clone())
        .unwrap_or_else(default_data_dir);
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let limits = BundleLimits {
        max_bundle_bytes: args.max_bundle_bytes,
        max_unpacked_bytes: args.max_unpacked_bytes,
        max_entry_bytes: args.max_entry_bytes,
        max_entries: args.max_entries,
        max_ratio: args.max_ratio,
    };
    let engine = lodge_server::EngineOptions {
        pooling: !args.no_pooling,
        pool_instances: args.pool_instances.map(|n| n.max(1)),
        ..Default::default()
    };
    let mut config = ServerConfig::new(data_dir, listen);
    config.token = args.token;
    config.limits = limits;
    config.assets = AssetLimits {
        max_count: args.assets_max_count.min(lodge_manifest::MAX_ASSETS),
        max_file_bytes: args.asset_max_bytes,
        max_total_bytes: args.assets_max_total_bytes,
    };
    config.component = ComponentLimits {
        max_core_modules: args.max_component_modules,
        max_functions: args.max_component_functions,
        max_code_bytes: args.max_code_bytes,
        max_function_bytes: args.max_function_bytes,
        max_function_locals: args.max_function_locals,
        max_locals: args.max_locals,
        max_table_elements: args.max_table_elements,
    };
    config.disk_reserve_bytes = args.disk_reserve_mib << 20;
    config.gc.grace = Duration::from_secs(args.gc_grace_secs);
    config.compile = CompileConfig {
        timeout: Duration::from_secs(args.compile_timeout_secs.max(1)),
        memory_bytes: args.compile_memory_mib.max(16) << 20,
        ..CompileConfig::default()
    };
    config.engine = engine;
    config.rooms = RoomConfig {
        cpu_per_call: Duration::from_millis(args.room_cpu_ms.max(10)),
        memory_bytes: args.room_memory_mib.max(1) << 20,
        max_memory_bytes: args.room_max_memory_mib.max(args.room_memory_mib).max(1) << 20,
        idle_grace: Duration::from_secs(args.room_idle_secs),
        default_max_members: args.room_max_members.max(1),
        outbox: args.member_outbox.max(1),
        outbox_bytes: args.member_outbox_bytes.max(1),
        mailbox_bytes: args.room_mailbox_bytes.max(1),
        max_message_bytes: args.max_message_bytes.max(1),
        max_rooms: args.rooms_max.max(1),
        rooms_per_app: args.rooms_per_app.max(1),
        starts_per_minute: args.room_starts_per_minute.max(1),
        seat_reservation: Duration::from_secs(args.seat_reservation_secs.max(1)),
        ..RoomConfig::default()
    };
    config.connections = ConnectionLimits {
        max_total: args.max_connections.max(1),
        max_per_address: args.max_connections_per_address.max(1),
        header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
    };
    config.ping_interval = Duration::from_secs(args.ping_secs.max(1));
    config.guest_memory_bytes = args.guest_memory_mib.map(|mib| mib.max(1) << 20);
    config.guest_threads = args.guest_threads.map(|n| n.max(1));
    config.kv = KvLimits {
        max_key_bytes: args.kv_key_bytes.max(1),
        max_value_bytes: args.kv_value_bytes,
        max_scope_bytes: args.kv_scope_bytes,
        max_app_bytes: args.kv_app_bytes,
        max_room_scopes: args.kv_room_scopes,
        room_scope_days: args.kv_room_days.max(1),
    };
    let storage = args.storage.storage(&file, &config.data_dir, config.kv)?;
    config.cluster = args.storage.cluster(&file, &storage, listen)?;
    config.storage = Some(storage);
    config.http = HttpConfig {
        cpu: Duration::from_millis(args.http_cpu_ms.max(10)),
        max_cpu: Duration::from_millis(args.http_max_cpu_ms.max(args.http_cpu_ms).max(10)),
        timeout: Duration::from_millis(args.http_timeout_ms.max(1)),
        max_timeout: Duration::from_millis(args.http_max_timeout_ms.max(args.http_timeout_ms)),
        memory_bytes: args.http_memory_mib.max(1) << 20,
        max_request_body: args.http_max_request_bytes,
        max_response_body: args.http_max_response_bytes,
        max_concurrent: args.http_max_concurrency.max(1),
        max_concurrent_per_app: args.http_max_concurrency_per_app.max(1),
        allow_private_outbound: args.http_allow_private_outbound,
    };
    config.restart_rooms_on_publish = args.restart_rooms_on_publish;
    config.tls = args
        .tls_cert
        .zip(args.tls_key)
        .map(|(cert, key)| lodge_server::TlsFiles { cert, key });
    config.domain = args
        .domain
        .map(|d| d.trim_matches('.').to_ascii_lowercase());
    config.accounts = AccountsConfig {
        signup: args
            .signup
            .parse()
            .map_err(|e| anyhow::anyhow!("--signup: {e}"))?,
        admin_username: args.admin_user,
        admin_password: args.admin_password,
        quotas: Quotas {
            apps: args.quota_apps,
            versions_per_app: args.quota_versions,
            stored_bytes: args.quota_stored_bytes,
            kv_bytes: args.quota_kv_bytes,
        },
        signin_per_address_per_minute: args.signin_per_minute.max(1),
        signin_per_account_per_minute: args.signin_per_account_per_minute.max(1),
        session_lifetime: Duration::from_secs(args.session_days.max(1) * 86_400),
        secure_cookies: args.secure_cookies,
    };
    let server = Server::bind(config).await?;
    let url = server.url().context("reading the listening address")?;
    // Scripts and tests read this line to find the port.
    println!("lodge listening on {url}");
    if let Some(link) = server.setup_link() {
        println!("set the admin's password (once) at {link}");
    }
    tracing::info!(%url, "serving");
    server.run(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
