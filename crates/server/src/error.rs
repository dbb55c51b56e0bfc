//! `ApiError`: every failure as `{"error": {"code", "message"}}` with the
//! right status. The services' own errors (`PublishError`, `ResolveError`,
//! `StoreError`) become answers here, and only here.

use crate::bundle::BundleError;
use crate::publish::{PublishError, ResolveError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lodge_manifest::Role;
use lodge_runtime::PartError;
use lodge_runtime::rooms::{CommandRefused, CreateRefused, StartRefused, close};
use lodge_store::StoreError;
use serde_json::json;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// A header to send along (like `Retry-After`).
    pub header: Option<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            header: None,
        }
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.header = Some((name, value));
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // An app's own failures (app_*) are in the app's log, not Lodge's.
        if self.status.is_server_error() && !self.code.starts_with("app_") {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"lodge\""),
            );
        }
        if let Some((name, value)) = self.header {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    /// The answer names what failed, never where: I/O errors can carry
    /// paths inside the data directory (a temp file's, say), so the full
    /// error goes to the server's log and the client gets its kind.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full { doing } => Self::disk_full(&doing),
            StoreError::Unavailable { backend, reason } => {
                tracing::warn!(backend, reason, "storage unavailable");
                Self::unavailable(backend)
            }
            e => {
                tracing::error!(error = %e, "storage failed");
                let message = match &e {
                    StoreError::Io { doing, source } => {
                        format!("storage I/O failed while {doing}: {}", source.kind())
                    }
                    // Backends' own messages name the failure, not the file.
                    StoreError::Backend { backend, message } => {
                        format!("{backend} failed: {message}")
                    }
                    StoreError::Corrupt(_) => {
                        "stored data is damaged (see the server's log)".to_owned()
                    }
                    _ => "storage failed (see the server's log)".to_owned(),
                };
                Self::internal(message)
            }
        }
    }
}

impl ApiError {
    /// `503 storage_unavailable`: a storage backend can't be reached now;
    /// the request may succeed when it is back.
    pub fn unavailable(backend: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            format!(
                "the {backend} storage can't be reached now; nothing was changed, try again shortly"
            ),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
    }

    /// `507 disk_full`: a write found no space; `doing` names what it was.
    pub fn disk_full(doing: &str) -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "disk_full",
            format!(
                "the server's disk is full: {doing} failed; deleting apps or versions frees space"
            ),
        )
    }

    /// An I/O failure while `doing`: `507` when the disk is full, else `500`
    /// without the path (the server's log has the whole error).
    pub fn io(doing: &str, e: &std::io::Error) -> Self {
        if lodge_store::is_disk_full(e) {
            Self::disk_full(doing)
        } else {
            tracing::error!(error = %e, "{doing}");
            Self::internal(format!("{doing} failed: {}", e.kind()))
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        use PublishError::*;
        let unprocessable = |code, e: &PublishError| {
            Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
        };
        match e {
            UploadTimeout { .. } => {
                Self::new(StatusCode::REQUEST_TIMEOUT, "upload_timeout", e.to_string())
            }
            Bundle(e) => bundle_error(e),
            ManifestMissing { .. } => unprocessable("manifest_missing", &e),
            Manifest(_) => unprocessable("manifest_invalid", &e),
            OverServerLimit { .. } => unprocessable("manifest_over_limit", &e),
            PartMissing { .. } => unprocessable("part_missing", &e),
            AssetMissing { .. } => unprocessable("asset_missing", &e),
            TooManyAssets { .. } => unprocessable("assets_too_many", &e),
            AssetTooLarge { .. } | AssetsTooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "assets_too_large",
                e.to_string(),
            ),
            Part(e) => part_error(e),
            VersionConflict { .. } => {
                Self::new(StatusCode::CONFLICT, "version_exists", e.to_string())
            }
            OutOfScope { .. } | NotACollaborator { .. } => {
                Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            OverQuota(_) => Self::new(StatusCode::FORBIDDEN, "quota_exceeded", e.to_string()),
            DiskFull { doing } => Self::disk_full(&doing),
            Io { doing, source } => Self::io(&doing, &source),
            Store(e) => e.into(),
            Internal(message) => Self::internal(message),
        }
    }
}

impl From<ResolveError> for ApiError {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::InvalidVersion { .. } => {
                Self::bad_request("invalid_version", e.to_string())
            }
            ResolveError::NoApp(_) | ResolveError::NoVersion { .. } => {
                Self::not_found(e.to_string())
            }
            ResolveError::NoPart { role, .. } => {
                let code = match role {
                    Role::Room => "no_room_part",
                    Role::Client => "no_client_part",
                    Role::Http => "no_http_part",
                };
                Self::new(StatusCode::NOT_FOUND, code, e.to_string())
            }
            ResolveError::Store(e) => e.into(),
        }
    }
}

/// A refused bundle: `400`, or `413` when it is too large.
fn bundle_error(e: BundleError) -> ApiError {
    use BundleError::*;
    let (status, code) = match &e {
        Empty => (StatusCode::BAD_REQUEST, "bundle_empty"),
        NotGzip => (StatusCode::BAD_REQUEST, "bundle_not_gzip"),
        Damaged(_) => (StatusCode::BAD_REQUEST, "bundle_damaged"),
        TooLarge { .. } | UnpackedTooLarge { .. } => {
            (StatusCode::PAYLOAD_TOO_LARGE, "bundle_too_large")
        }
        EntryTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "bundle_entry_too_large"),
        TooManyEntries { .. } => (StatusCode::BAD_REQUEST, "bundle_too_many_entries"),
        Ratio { .. } => (StatusCode::BAD_REQUEST, "bundle_ratio"),
        UnsafePath { .. } => (StatusCode::BAD_REQUEST, "bundle_unsafe_path"),
        NotAFile { .. } => (StatusCode::BAD_REQUEST, "bundle_not_a_file"),
        Duplicate { .. } => (StatusCode::BAD_REQUEST, "bundle_duplicate_entry"),
    };
    ApiError::new(status, code, e.to_string())
}

/// A refused part: `422`, unless the compiler itself failed.
fn part_error(e: PartError) -> ApiError {
    use PartError::*;
    let code = match &e {
        NotWasm { .. } => "part_not_wasm",
        CoreModule { .. } => "part_core_module",
        Cartridge { .. } => "part_cartridge",
        Invalid { .. } => "part_invalid",
        NeedsCapability { .. } | ImportNotAllowed { .. } => "part_import_denied",
        ImportTooNew { .. } | ImportVersionUnsupported { .. } => "part_import_version",
        MissingExport { .. } => "part_export_missing",
        NeedsRoomEvents0_3 { .. } => "part_room_events_version",
        Browser { .. } => "part_not_browser_ready",
        OverLimit { .. } => "part_over_limit",
        CompileLimit { .. } => "part_compile_limit",
        // Starting or talking to the compiler failed: not the author's doing.
        CompilerFailed { .. } => return ApiError::internal(e.to_string()),
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
}

impl From<CommandRefused> for ApiError {
    fn from(e: CommandRefused) -> Self {
        let message = e.to_string();
        let (status, code) = match e {
            CommandRefused::NoRoom => (StatusCode::NOT_FOUND, "room_not_running"),
            CommandRefused::NotAMember => (StatusCode::FORBIDDEN, "not_in_room"),
            CommandRefused::NotHost { .. } => (StatusCode::FORBIDDEN, "not_host"),
            CommandRefused::AlreadyPlaying => (StatusCode::CONFLICT, "already_playing"),
            CommandRefused::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_command"),
            CommandRefused::Crashed(_) => (StatusCode::BAD_GATEWAY, "app_room_failed"),
        };
        Self::new(status, code, message)
    }
}

impl From<CreateRefused> for ApiError {
    /// Room limits are `503` (the server's or the app's rooms) or `429`
    /// (this address's start rate), with `Retry-After`; a room part that
    /// can't start is the app's failure (`502 app_room_failed`).
    fn from(e: CreateRefused) -> Self {
        let message = e.to_string();
        match e {
            CreateRefused::Exists { .. } => Self::new(StatusCode::CONFLICT, "room_exists", message),
            CreateRefused::MaxMembers { .. } => Self::bad_request("invalid_max_members", message),
            CreateRefused::NoSpectators { .. } | CreateRefused::SpectateWithoutSpectators => {
                Self::bad_request("invalid_spectators", message)
            }
            CreateRefused::Visibility { .. } => Self::bad_request("invalid_visibility", message),
            CreateRefused::Metadata(_) => Self::bad_request("invalid_metadata", message),
            CreateRefused::NotPublic { .. } => {
                Self::new(StatusCode::CONFLICT, "rooms_not_public", message)
            }
            CreateRefused::Limit(limit) => {
                let (status, code, retry_after) = match limit {
                    StartRefused::ServerRooms { .. } => {
                        (StatusCode::SERVICE_UNAVAILABLE, "rooms_max", 5)
                    }
                    StartRefused::AppRooms { .. } => {
                        (StatusCode::SERVICE_UNAVAILABLE, "rooms_per_app", 5)
                    }
                    StartRefused::StartRate { retry_after, .. } => (
                        StatusCode::TOO_MANY_REQUESTS,
                        "room_starts",
                        retry_after.as_secs().max(1),
                    ),
                };
                Self::new(status, code, message)
                    .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after))
            }
            CreateRefused::Failed { code, .. } if code == close::TRY_AGAIN => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "guest_memory", message)
                    .with_header(header::RETRY_AFTER, HeaderValue::from(5u64))
            }
            CreateRefused::Failed { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, "app_room_failed", message)
            }
        }
    }
}
