//! Getting into rooms that don't take just anyone, and acting on a room
//! as one of its members:
//!
//! - invitations: `POST /api/apps/{app}/rooms/{room}/invites` signs an
//!   expiring link into one room (HMAC-SHA256 with a key kept in the
//!   registry), which may hold a seat for the invited person;
//! - passwords: `POST …/rooms/{room}/admit` trades a room's password for a
//!   one-minute invite, with wrong guesses rate limited per address;
//! - member commands: `POST …/rooms/{room}/whoami`, `/start` and `/host`,
//!   proved by the member's resume token, for lobby screens.

use crate::AppState;
use crate::accounts::caller::MaybeCaller;
use crate::accounts::scopes::Scope;
use crate::api::{app_name, rfc3339};
use crate::error::ApiError;
use crate::gateway::invalid_room;
use crate::json::JsonBody;
use crate::listener::ClientAddr;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use lodge_runtime::rate::RateLimiter;
use lodge_runtime::rooms::{Command, MemberView, RoomInfo, valid_room_name};
use lodge_store::AppRole;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long an invite lasts when its maker doesn't say.
pub const DEFAULT_INVITE_SECS: u64 = 24 * 3600;
/// The longest an invite may last.
pub const MAX_INVITE_SECS: u64 = 30 * 24 * 3600;
/// The longest an invite may hold a seat.
pub const MAX_INVITE_SEAT_SECS: u64 = 600;
/// How long the invite a password admits with lasts.
pub const ADMISSION_SECS: u64 = 60;
/// Password attempts per address and room per minute.
pub const PASSWORD_ATTEMPTS_PER_MINUTE: u32 = 10;
/// The longest room password, in characters.
pub const MAX_ROOM_PASSWORD_CHARS: usize = 128;
/// The longest invite token read.
const MAX_INVITE_LEN: usize = 1024;

/// The registry's name for the invite signing key.
const KEY_NAME: &str = "room-invites";

/// What an invite says: this room, until then, maybe with this seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    #[serde(rename = "a")]
    pub app: String,
    #[serde(rename = "r")]
    pub room: String,
    /// Unix ms.
    #[serde(rename = "e")]
    pub expires_ms: i64,
    /// A seat reservation's token.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<String>,
}

/// Why an invite was refused (close code 4008 on a join).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    #[error("this invite is not valid: it was changed or made up; ask for a new link")]
    Forged,
    #[error("this invite expired at {at}; ask for a new link")]
    Expired { at: String },
    #[error("this invite is for room {room} of {app}, not this room")]
    OtherRoom { app: String, room: String },
}

/// The key invites are signed with, shared by every server of one registry.
#[derive(Clone)]
pub struct InviteKey(Arc<[u8]>);

impl InviteKey {
    /// The registry's key, made (from fresh random bytes) on first use.
    pub async fn load(store: &dyn lodge_store::Accounts) -> anyhow::Result<Self> {
        let mut candidate = vec![0u8; 32];
        getrandom::fill(&mut candidate)
            .map_err(|e| anyhow::anyhow!("no randomness for the invite key: {e}"))?;
        let key = store.server_key(KEY_NAME, candidate).await?;
        Ok(Self(key.into()))
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length")
    }

    /// The invite as a URL-safe token: its claims and their MAC.
    pub fn sign(&self, invite: &Invite) -> String {
        let claims = B64.encode(serde_json::to_vec(invite).expect("claims serialize"));
        let mut mac = self.mac();
        mac.update(claims.as_bytes());
        let tag = B64.encode(mac.finalize().into_bytes());
        format!("{claims}.{tag}")
    }

    /// The invite in `token`, if this server signed it, it is for `room`
    /// of `app`, and it has not expired.
    pub fn verify(&self, token: &str, app: &str, room: &str) -> Result<Invite, InviteError> {
        if token.len() > MAX_INVITE_LEN {
            return Err(InviteError::Forged);
        }
        let (claims, tag) = token.split_once('.').ok_or(InviteError::Forged)?;
        let tag = B64.decode(tag).map_err(|_| InviteError::Forged)?;
        let mut mac = self.mac();
        mac.update(claims.as_bytes());
        mac.verify_slice(&tag).map_err(|_| InviteError::Forged)?;
        let invite: Invite = B64
            .decode(claims)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(InviteError::Forged)?;
        if invite.app != app || invite.room != room {
            return Err(InviteError::OtherRoom {
                app: invite.app,
                room: invite.room,
            });
        }
        if invite.expires_ms <= lodge_store::now_ms() {
            return Err(InviteError::Expired {
                at: rfc3339(invite.expires_ms),
            });
        }
        Ok(invite)
    }
}

/// Password attempts, per client address and room.
pub struct PasswordAttempts(RateLimiter<(IpAddr, String)>);

impl Default for PasswordAttempts {
    fn default() -> Self {
        Self(RateLimiter::new(PASSWORD_ATTEMPTS_PER_MINUTE))
    }
}

/// Resume tokens: 22-128 characters of letters, digits, `-` and `_` (at
/// least 128 random bits in base64url).
pub fn valid_resume_token(token: &str) -> bool {
    (22..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

fn bad_resume() -> ApiError {
    ApiError::bad_request(
        "invalid_resume",
        "resume must be 22-128 characters of letters, digits, '-' and '_' (128 random bits or more)",
    )
}

/// `POST …/invites`'s body.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// The caller's resume token, as a member of the room.
    resume: Option<String>,
    /// An invite the caller holds for the room (passing it on).
    invite: Option<String>,
    /// How long the invite lasts (default a day, at most 30 days).
    expires_secs: Option<u64>,
    /// Hold a seat for the invited person for this long (at most 600 s).
    seat_secs: Option<u64>,
}

#[derive(Serialize)]
pub struct InviteJson {
    app: String,
    room: String,
    invite: String,
    expires: String,
    /// When the held seat is given up, if one is held.
    #[serde(skip_serializing_if = "Option::is_none")]
    seat_expires: Option<String>,
    /// The page that plays the room with the invite.
    play: String,
    /// The WebSocket join, with the invite.
    join: String,
}

impl InviteJson {
    fn new(key: &InviteKey, invite: Invite, seat_expires_ms: Option<i64>) -> Self {
        let token = key.sign(&invite);
        let (app, room) = (invite.app.clone(), invite.room.clone());
        Self {
            play: format!("/play/{app}/{room}#invite={token}"),
            join: format!("/apps/{app}/rooms/{room}?invite={token}"),
            expires: rfc3339(invite.expires_ms),
            seat_expires: seat_expires_ms.map(rfc3339),
            invite: token,
            app,
            room,
        }
    }
}

fn not_running(app: &str, room: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "room_not_running",
        format!("room {room} of {app} is not running"),
    )
}

/// The room's settings, or 404 when it isn't running.
fn live_room(
    state: &AppState,
    app: &str,
    room: &str,
) -> Result<Arc<lodge_runtime::rooms::RoomSettings>, ApiError> {
    state
        .rooms
        .settings(app, room)
        .ok_or_else(|| not_running(app, room))
}

/// `POST /api/apps/{app}/rooms/{room}/invites`: an invite link into a live
/// room. Rooms anyone may join take invites from anyone; invite-only and
/// password rooms only from their members (`resume`), holders of an
/// invite, and the app's collaborators. An invite that holds a seat only
/// from the room's members and the app's collaborators.
pub async fn create_invite(
    State(state): State<Arc<AppState>>,
    MaybeCaller(caller): MaybeCaller,
    Path((app, room)): Path<(String, String)>,
    body: Option<JsonBody<InviteBody>>,
) -> Result<(StatusCode, Json<InviteJson>), ApiError> {
    let app = app_name(&app)?;
    if !valid_room_name(&room) {
        return Err(invalid_room(&room));
    }
    let body = body.map(|JsonBody(b)| b).unwrap_or_default();
    let settings = live_room(&state, app.as_str(), &room)?;
    let as_member = match body.resume.as_deref() {
        Some(token) if !valid_resume_token(token) => return Err(bad_resume()),
        Some(token) => state
            .rooms
            .command(app.as_str(), &room, token, Command::Identify)
            .await
            .is_ok(),
        None => false,
    };
    let collaborator = match &caller {
        Some(caller) => caller
            .require_app_role(&state.auth, &app, AppRole::Maintainer, Scope::Rooms)
            .await
            .is_ok(),
        None => false,
    };
    if settings.needs_admission() {
        let with_invite = body
            .invite
            .as_deref()
            .is_some_and(|token| state.invites.verify(token, app.as_str(), &room).is_ok());
        if !(as_member || with_invite || collaborator) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "invite_not_allowed",
                format!(
                    "room {room} is invite-only or has a password: only its members (with their resume token), holders of an invite and {app}'s collaborators may invite"
                ),
            ));
        }
    }
    // A held seat keeps everyone else out of it: only the room's members
    // and the app's collaborators may hold one.
    if body.seat_secs.is_some() && !(as_member || collaborator) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invite_not_allowed",
            format!(
                "only members of room {room} (with their resume token) and {app}'s collaborators may hold a seat with an invite"
            ),
        ));
    }
    let expires_secs = body.expires_secs.unwrap_or(DEFAULT_INVITE_SECS);
    if !(1..=MAX_INVITE_SECS).contains(&expires_secs) {
        return Err(ApiError::bad_request(
            "invalid_expires_secs",
            format!("expires_secs must be from 1 to {MAX_INVITE_SECS}; {expires_secs} is not"),
        ));
    }
    let expires_ms = lodge_store::now_ms().saturating_add(expires_secs as i64 * 1000);
    let (seat, seat_expires_ms) = match body.seat_secs {
        None => (None, None),
        Some(secs) if !(1..=MAX_INVITE_SEAT_SECS).contains(&secs) => {
            return Err(ApiError::bad_request(
                "invalid_seat_secs",
                format!("seat_secs must be from 1 to {MAX_INVITE_SEAT_SECS}; {secs} is not"),
            ));
        }
        Some(secs) => {
            let held = Duration::from_secs(secs.min(expires_secs));
            let (token, expires_ms) = state
                .rooms
                .reserve_seat(app.as_str(), &room, held)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::CONFLICT,
                        "room_full",
                        format!(
                            "room {room} has no free seat to hold ({} players at most, held seats included)",
                            settings.max_players
                        ),
                    )
                })?;
            (Some(token), Some(expires_ms))
        }
    };
    let invite = Invite {
        app: app.to_string(),
        room,
        expires_ms,
        seat,
    };
    Ok((
        StatusCode::CREATED,
        Json(InviteJson::new(&state.invites, invite, seat_expires_ms)),
    ))
}

/// `POST …/admit`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmitBody {
    password: String,
}

/// `POST /api/apps/{app}/rooms/{room}/admit`: the room's password for a
/// one-minute invite. Wrong guesses are limited per address and room.
pub async fn admit(
    State(state): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    Path((app, room)): Path<(String, String)>,
    JsonBody(body): JsonBody<AdmitBody>,
) -> Result<Json<InviteJson>, ApiError> {
    let app = app_name(&app)?;
    if !valid_room_name(&room) {
        return Err(invalid_room(&room));
    }
    let settings = live_room(&state, app.as_str(), &room)?;
    let Some(hash) = settings.password.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_password",
            format!("room {room} has no password: join it directly"),
        ));
    };
    let key = (
        lodge_runtime::rate::subscriber(client),
        format!("{app}/{room}"),
    );
    if let Err(wait) = state.password_attempts.0.take(key) {
        let seconds = wait.as_secs().max(1);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many password attempts for this room ({PASSWORD_ATTEMPTS_PER_MINUTE} a minute); try again in {seconds} s"
            ),
        )
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from_str(&seconds.to_string()).expect("digits"),
        ));
    }
    if body.password.chars().count() > MAX_ROOM_PASSWORD_CHARS
        || !crate::accounts::password::verify(&body.password, Some(hash)).await
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "that is not the room's password",
        ));
    }
    let invite = Invite {
        app: app.to_string(),
        room,
        expires_ms: lodge_store::now_ms() + ADMISSION_SECS as i64 * 1000,
        seat: None,
    };
    Ok(Json(InviteJson::new(&state.invites, invite, None)))
}

/// The room password a creator asked for, checked and hashed.
pub async fn hash_room_password(password: &str) -> Result<String, ApiError> {
    let chars = password.chars().count();
    if !(1..=MAX_ROOM_PASSWORD_CHARS).contains(&chars) {
        return Err(ApiError::bad_request(
            "invalid_password",
            format!("password must be 1-{MAX_ROOM_PASSWORD_CHARS} characters"),
        ));
    }
    crate::accounts::password::hash(password)
        .await
        .map_err(|e| ApiError::internal(format!("{e:#}")))
}

/// A member command's body: the member's resume token, and for `/host`
/// who becomes the host.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    resume: String,
    member: Option<u64>,
}

#[derive(Serialize)]
pub struct MemberJson {
    #[serde(flatten)]
    you: MemberView,
    room: RoomInfo,
}

async fn member_command(
    state: &AppState,
    app: &str,
    room: &str,
    body: &MemberBody,
    command: Command,
) -> Result<Json<MemberJson>, ApiError> {
    let app = app_name(app)?;
    if !valid_room_name(room) {
        return Err(invalid_room(room));
    }
    if !valid_resume_token(&body.resume) {
        return Err(bad_resume());
    }
    let you = state
        .rooms
        .command(app.as_str(), room, &body.resume, command)
        .await?;
    let room = state
        .rooms
        .info(app.as_str(), room)
        .ok_or_else(|| not_running(app.as_str(), room))?;
    Ok(Json(MemberJson { you, room }))
}

/// `POST /api/apps/{app}/rooms/{room}/whoami`: who the member with this
/// resume token is, and the room (with its roster, even when unlisted).
pub async fn whoami(
    State(state): State<Arc<AppState>>,
    Path((app, room)): Path<(String, String)>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Json<MemberJson>, ApiError> {
    member_command(&state, &app, &room, &body, Command::Identify).await
}

/// `POST /api/apps/{app}/rooms/{room}/start`: the host starts the game.
pub async fn start(
    State(state): State<Arc<AppState>>,
    Path((app, room)): Path<(String, String)>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Json<MemberJson>, ApiError> {
    member_command(&state, &app, &room, &body, Command::Start).await
}

/// `POST /api/apps/{app}/rooms/{room}/host`: the host hands the role to
/// another player (`member`).
pub async fn set_host(
    State(state): State<Arc<AppState>>,
    Path((app, room)): Path<(String, String)>,
    JsonBody(body): JsonBody<MemberBody>,
) -> Result<Json<MemberJson>, ApiError> {
    let Some(to) = body.member else {
        return Err(ApiError::bad_request(
            "missing_member",
            "member (the id of the player to make host) is required",
        ));
    };
    member_command(&state, &app, &room, &body, Command::SetHost(to)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> InviteKey {
        InviteKey(Arc::from(&[7u8; 32][..]))
    }

    fn invite(expires_ms: i64) -> Invite {
        Invite {
            app: "party".into(),
            room: "ABCD-EFGH".into(),
            expires_ms,
            seat: Some("seat".into()),
        }
    }

    #[test]
    fn an_invite_verifies_for_its_room_until_it_expires() {
        let later = lodge_store::now_ms() + 60_000;
        let token = key().sign(&invite(later));
        assert_eq!(
            key().verify(&token, "party", "ABCD-EFGH"),
            Ok(invite(later))
        );
        assert!(matches!(
            key().verify(&token, "party", "OTHER"),
            Err(InviteError::OtherRoom { .. })
        ));
        let past = key().sign(&invite(lodge_store::now_ms() - 1));
        assert!(matches!(
            key().verify(&past, "party", "ABCD-EFGH"),
            Err(InviteError::Expired { .. })
        ));
    }

    #[test]
    fn a_changed_or_foreign_invite_is_forged() {
        let token = key().sign(&invite(lodge_store::now_ms() + 60_000));
        let (claims, tag) = token.split_once('.').unwrap();
        let other = InviteKey(Arc::from(&[8u8; 32][..]));
        assert_eq!(
            other.verify(&token, "party", "ABCD-EFGH"),
            Err(InviteError::Forged)
        );
        // Claims that say something else, under the old tag.
        let mut forged = invite(lodge_store::now_ms() + 10_000_000);
        forged.seat = None;
        let claims2 = B64.encode(serde_json::to_vec(&forged).unwrap());
        assert_ne!(claims, claims2);
        assert_eq!(
            key().verify(&format!("{claims2}.{tag}"), "party", "ABCD-EFGH"),
            Err(InviteError::Forged)
        );
        for junk in ["", ".", "abc", "a.b", &"x".repeat(5000)] {
            assert_eq!(
                key().verify(junk, "party", "ABCD-EFGH"),
                Err(InviteError::Forged)
            );
        }
    }

    #[test]
    fn resume_tokens_carry_enough_randomness() {
        assert!(valid_resume_token("abcdefghijklmnopqrstuv"));
        assert!(!valid_resume_token("short"));
        assert!(!valid_resume_token("has space in it and is long"));
        assert!(!valid_resume_token(&"a".repeat(129)));
    }
}
