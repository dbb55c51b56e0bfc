//! The JSON API under `/api`: list, show, upload and delete apps.

use crate::AppState;
use crate::accounts::caller::Caller;
use crate::accounts::routes::{MemberJson, members_json};
use crate::accounts::scopes::Scope;
use crate::error::ApiError;
use crate::publish::{PublishError, ResolveError};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use lodge_manifest::{AppName, Role};
use lodge_runtime::rooms::close;
use lodge_store::{AppRole, AppSummary, PartRecord, VersionRecord};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

type Shared = State<Arc<AppState>>;

pub(crate) fn rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// One app in `GET /api/apps`.
#[derive(Serialize)]
pub struct AppListItem {
    pub name: String,
    pub latest: String,
    pub description: String,
    pub parts: Vec<Role>,
    pub versions: usize,
    pub updated: String,
    /// Rooms running now.
    pub live_rooms: usize,
    /// Members in those rooms.
    pub live_members: usize,
    /// The account the app belongs to.
    pub owner: Option<String>,
}

impl From<AppSummary> for AppListItem {
    fn from(a: AppSummary) -> Self {
        Self {
            owner: None,
            live_rooms: 0,
            live_members: 0,
            name: a.name.to_string(),
            latest: a.latest.version.to_string(),
            description: a.latest.description,
            parts: a.latest.roles,
            versions: a.versions,
            updated: rfc3339(a.latest.created_ms),
        }
    }
}

/// A part in API answers.
#[derive(Serialize)]
pub struct PartJson {
    pub role: Role,
    pub component: String,
    pub sha256: String,
    pub size: u64,
    pub capabilities: Vec<String>,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// For a client part: the ES module the browser loads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// For a client part: its `[client].assets` (the version's `assets`),
    /// so the part alone says what its Worker loads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assets: Option<Vec<AssetJson>>,
    /// For a client part: what runs it in the page (`[client].abi`:
    /// "component", or "wasm4" for a WASM-4 cartridge).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abi: Option<lodge_manifest::ClientAbi>,
}

/// A file of `[client].assets` in API answers.
#[derive(Serialize, Clone)]
pub struct AssetJson {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    /// Where the page fetches it: `/assets/{sha256}`.
    pub url: String,
}

/// A version in API answers.
#[derive(Serialize)]
pub struct VersionJson {
    pub name: String,
    pub version: String,
    pub description: String,
    pub created: String,
    pub size: u64,
    pub digest: String,
    pub parts: Vec<PartJson>,
    /// The files of `[client].assets`, in the manifest's order.
    pub assets: Vec<AssetJson>,
    pub manifest: lodge_manifest::Manifest,
}

impl From<VersionRecord> for VersionJson {
    fn from(v: VersionRecord) -> Self {
        let assets: Vec<AssetJson> = v
            .assets
            .iter()
            .map(|a| AssetJson {
                url: format!("/assets/{}", a.sha256),
                name: a.name.clone(),
                sha256: a.sha256.clone(),
                size: a.size,
            })
            .collect();
        let parts = v
            .manifest
            .parts()
            .iter()
            .filter_map(|p| {
                let PartRecord {
                    sha256,
                    size,
                    imports,
                    exports,
                    ..
                } = v.part(p.role)?.clone();
                let browser = (p.role == Role::Client).then(|| {
                    let entry = match v.manifest.client.as_ref().map(|c| c.abi) {
                        Some(lodge_manifest::ClientAbi::Wasm4) => {
                            lodge_runtime::wasm4::CARTRIDGE_ENTRY
                        }
                        _ => lodge_runtime::BROWSER_ENTRY,
                    };
                    format!("/client/{}/{sha256}/{entry}", lodge_runtime::BROWSER_KEY)
                });
                Some(PartJson {
                    assets: (p.role == Role::Client).then(|| assets.clone()),
                    abi: v
                        .manifest
                        .client
                        .as_ref()
                        .filter(|_| p.role == Role::Client)
                        .map(|c| c.abi),
                    browser,
                    role: p.role,
                    component: p.component.to_owned(),
                    sha256,
                    size,
                    capabilities: p.capabilities.iter().map(|c| c.to_string()).collect(),
                    imports,
                    exports,
                })
            })
            .collect();
        Self {
            name: v.manifest.app.name.to_string(),
            version: v.manifest.app.version.to_string(),
            description: v.manifest.app.description.clone(),
            created: rfc3339(v.created_ms),
            size: v.size,
            digest: v.digest,
            parts,
            assets,
            manifest: v.manifest,
        }
    }
}

#[derive(Serialize)]
pub struct AppList {
    pub apps: Vec<AppListItem>,
}

#[derive(Serialize)]
pub struct AppDetail {
    pub name: String,
    pub latest: String,
    /// Who may push and delete: owners first, then maintainers.
    pub members: Vec<MemberJson>,
    pub versions: Vec<VersionJson>,
}

#[derive(Serialize)]
pub struct PublishAnswer {
    /// "created", or "unchanged" when identical content was already published.
    pub status: &'static str,
    #[serde(flatten)]
    pub version: VersionJson,
}

#[derive(Serialize)]
pub struct DeleteAnswer {
    pub name: String,
    /// The version deleted, when one version was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub versions_deleted: usize,
}

pub(crate) fn app_name(name: &str) -> Result<AppName, ApiError> {
    AppName::new(name).map_err(|_| {
        ApiError::bad_request(
            "invalid_name",
            format!(
                "\"{name}\" is not a valid app name: use 1-64 characters from a-z, 0-9 and '-', not starting or ending with '-'"
            ),
        )
    })
}

fn version(app: &AppName, version: &str) -> Result<semver::Version, ApiError> {
    semver::Version::parse(version).map_err(|reason| {
        ResolveError::InvalidVersion {
            app: app.clone(),
            given: version.to_owned(),
            reason,
        }
        .into()
    })
}

fn no_app(name: &AppName) -> ApiError {
    ResolveError::NoApp(name.clone()).into()
}

pub async fn list_apps(State(state): Shared) -> Result<Json<AppList>, ApiError> {
    let apps = state.apps.registry.list_apps().await?;
    let owners: std::collections::HashMap<String, String> = state
        .auth
        .store
        .app_owners()
        .await?
        .into_iter()
        .map(|(app, account)| (app.to_string(), account.username))
        .collect();
    let apps = apps
        .into_iter()
        .map(|summary| {
            let rooms = state.rooms.list(summary.name.as_str());
            let owner = owners.get(summary.name.as_str()).cloned();
            let mut item = AppListItem::from(summary);
            item.owner = owner;
            item.live_rooms = rooms.len();
            item.live_members = rooms.iter().map(|r| r.members).sum();
            item
        })
        .collect();
    Ok(Json(AppList { apps }))
}

pub async fn show_app(
    State(state): Shared,
    Path(name): Path<String>,
) -> Result<Json<AppDetail>, ApiError> {
    let name = app_name(&name)?;
    let versions = state.apps.registry.versions(&name).await?;
    let latest = versions.first().ok_or_else(|| no_app(&name))?;
    Ok(Json(AppDetail {
        members: members_json(&state, &name).await?,
        name: name.to_string(),
        latest: latest.manifest.app.version.to_string(),
        versions: versions.into_iter().map(VersionJson::from).collect(),
    }))
}

pub async fn show_version(
    State(state): Shared,
    Path((name, v)): Path<(String, String)>,
) -> Result<Json<VersionJson>, ApiError> {
    let name = app_name(&name)?;
    let record = state.apps.resolve(&name, Some(&v), None).await?;
    Ok(Json(VersionRecord::clone(&record).into()))
}

pub async fn upload(
    State(state): Shared,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<PublishAnswer>), ApiError> {
    let scopes = caller.scopes();
    if !scopes
        .0
        .iter()
        .any(|s| matches!(s, Scope::PublishAll | Scope::Publish(_)))
    {
        return Err(crate::accounts::caller::forbidden(
            "this token has no publish scope (publish:* or publish:APP)",
        ));
    }
    let limit = state.apps.limits().max_bundle_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Far too large: answer at once. Slightly too large: read and discard it,
    // so the client sees this answer instead of a reset.
    if declared.is_some_and(|n| n > limit.saturating_add(crate::bundle::DRAIN_BYTES)) {
        return Err(PublishError::from(crate::bundle::BundleError::TooLarge { limit }).into());
    }
    let publisher = lodge_store::Publisher {
        account: caller.account.id,
        admin: caller.is_admin(),
        quotas: state.auth.quotas,
    };
    let in_scope = move |app: &AppName| scopes.may_publish(app);
    let (created, record) = state.apps.publish(body, Some(publisher), &in_scope).await?;
    if !created {
        // Identical content was already there: still only for its collaborators.
        let app = &record.manifest.app.name;
        caller
            .require_app_role(
                &state.auth,
                app,
                AppRole::Maintainer,
                Scope::Publish(app.clone()),
            )
            .await?;
    }
    if created {
        state.refresh_kv_budgets().await;
        let app = &record.manifest.app;
        state
            .announce(lodge_store::cluster::ClusterEvent::Published {
                app: app.name.to_string(),
                version: app.version.to_string(),
            })
            .await;
    }
    if created && state.restart_rooms_on_publish {
        let app = &record.manifest.app;
        state
            .rooms
            .stop(
                app.name.as_str(),
                None,
                close::RESTART,
                &format!(
                    "{}@{} was published: rejoin to run it",
                    app.name, app.version
                ),
            )
            .await;
    }
    let (status, word) = if created {
        (StatusCode::CREATED, "created")
    } else {
        (StatusCode::OK, "unchanged")
    };
    Ok((
        status,
        Json(PublishAnswer {
            status: word,
            version: record.into(),
        }),
    ))
}

pub async fn delete_app(
    State(state): Shared,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<DeleteAnswer>, ApiError> {
    let name = app_name(&name)?;
    caller
        .require_app_role(
            &state.auth,
            &name,
            AppRole::Owner,
            Scope::Publish(name.clone()),
        )
        .await?;
    let deleted = state.apps.delete_app(&name).await?;
    if deleted == 0 {
        return Err(no_app(&name));
    }
    forget_app(&state, &name, "the app was deleted").await;
    state
        .announce(lodge_store::cluster::ClusterEvent::Deleted {
            app: name.to_string(),
        })
        .await;
    Ok(Json(DeleteAnswer {
        name: name.to_string(),
        version: None,
        versions_deleted: deleted,
    }))
}

/// After an app's last version is gone: its rooms stop (telling members
/// `reason`), and its kv data and logs go.
pub(crate) async fn forget_app(state: &AppState, name: &AppName, reason: &str) {
    state
        .rooms
        .stop(name.as_str(), None, close::GOING_AWAY, reason)
        .await;
    if let Err(e) = state.kv.delete_app(name.as_str()).await {
        tracing::warn!(app = %name, error = %e, "could not delete the app's kv data");
    }
    state.logs.forget(name.as_str());
}

pub async fn delete_version(
    State(state): Shared,
    caller: Caller,
    Path((name, v)): Path<(String, String)>,
) -> Result<Json<DeleteAnswer>, ApiError> {
    let name = app_name(&name)?;
    // The last version takes the app (and its name) with it: that is an
    // owner's to do.
    let last = state.apps.registry.versions(&name).await?.len() <= 1;
    let needed = if last {
        AppRole::Owner
    } else {
        AppRole::Maintainer
    };
    caller
        .require_app_role(&state.auth, &name, needed, Scope::Publish(name.clone()))
        .await?;
    let version = version(&name, &v)?;
    if !state.apps.delete_version(&name, &version).await? {
        return Err(ResolveError::NoVersion {
            app: name.clone(),
            version: version.to_string(),
        }
        .into());
    }
    state
        .rooms
        .stop(
            name.as_str(),
            Some(&version),
            close::GOING_AWAY,
            "this version of the app was deleted",
        )
        .await;
    if last && state.apps.registry.versions(&name).await?.is_empty() {
        // The app went with its last version: so do its kv data and logs,
        // before anyone publishes the name again.
        forget_app(&state, &name, "the app was deleted").await;
    }
    state
        .announce(lodge_store::cluster::ClusterEvent::Deleted {
            app: name.to_string(),
        })
        .await;
    Ok(Json(DeleteAnswer {
        name: name.to_string(),
        version: Some(version.to_string()),
        versions_deleted: 1,
    }))
}

pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; see docs/api.md",
    )
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see docs/api.md")
}
