//! Creating rooms on request: a named room or one with a generated code
//! ([`Rooms::create`]), and join-or-create ([`Rooms::join_or_create`]),
//! which finds a public room with a free seat, or starts one, and reserves
//! a seat in it under the same lock, so simultaneous callers fill rooms
//! instead of each starting their own.

use super::{
    JoinRefused, Metadata, MetadataRefused, Ready, RoomSettings, RoomSpec, Rooms, check_metadata,
    close, codes,
};
use lodge_manifest::{LateJoin, Phase, RoomStart, RoomVisibility};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A room to create: its name (else a generated code), and settings that
/// narrow the app's: fewer players, a lobby, another late-join policy, no
/// spectators, a less visible listing, a password; and its first metadata.
#[derive(Debug, Clone, Default)]
pub struct NewRoom {
    /// A valid room name (the caller checked it with
    /// [`valid_room_name`](super::valid_room_name)).
    pub name: Option<String>,
    pub max_members: Option<u32>,
    pub start: Option<RoomStart>,
    pub late_join: Option<LateJoin>,
    /// `Some(false)` turns the app's spectators off for this room.
    pub spectators: Option<bool>,
    pub visibility: Option<RoomVisibility>,
    /// The password's Argon2id PHC string (the caller hashed it).
    pub password: Option<String>,
    pub metadata: Metadata,
}

/// A room [`Rooms::create`] started.
#[derive(Debug, Clone)]
pub struct Created {
    pub room: String,
    pub max_members: u32,
}

/// A seat [`Rooms::join_or_create`] holds for its caller.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub room: String,
    /// What the join presents (`?seat=TOKEN`) to take the seat.
    pub token: String,
    /// When the seat is given up if nobody claimed it (Unix ms).
    pub expires_ms: i64,
    /// Whether this call started the room.
    pub created: bool,
}

/// Why no new room may start now: a limit, named.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StartRefused {
    #[error("this server runs its most rooms at once ({max}, --rooms-max); try again later")]
    ServerRooms { max: usize },
    #[error(
        "{app} runs its most rooms at once ({max}, [room].max-rooms or --rooms-per-app); join a running room or try again later"
    )]
    AppRooms { app: String, max: usize },
    #[error(
        "too many new rooms from your address ({per_minute} a minute, --room-starts-per-minute); try again in {} s",
        retry_after.as_secs()
    )]
    StartRate {
        per_minute: u32,
        retry_after: Duration,
    },
}

/// Why a room was not created.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CreateRefused {
    #[error("room {room} of {app} is running: join it, or choose another name")]
    Exists { app: String, room: String },
    #[error("max_members must be from 1 to {max} ({app}'s [room].max-members); {asked} is not")]
    MaxMembers { app: String, asked: u32, max: u32 },
    #[error(
        "{app}'s rooms take no spectators ([room].spectators); leave out spectators or set it false"
    )]
    NoSpectators { app: String },
    #[error(
        "late_join \"spectate\" makes late joiners spectators, but this room takes none: allow spectators, or use \"allow\" or \"deny\""
    )]
    SpectateWithoutSpectators,
    #[error(
        "visibility \"{asked}\" would list the room more widely than {app}'s [room].visibility = \"{app_visibility}\": use \"{app_visibility}\" or narrower (public, then unlisted, then invite)"
    )]
    Visibility {
        app: String,
        asked: RoomVisibility,
        app_visibility: RoomVisibility,
    },
    #[error(transparent)]
    Metadata(#[from] MetadataRefused),
    #[error(
        "{app}'s rooms are not public ([room].visibility): join-or-create only hands out public rooms; create a room and share its name instead"
    )]
    NotPublic { app: String },
    #[error(transparent)]
    Limit(#[from] StartRefused),
    /// The instance did not start; `code` is the close code a join would
    /// have got (`TRY_AGAIN` for the server's guest memory, else
    /// `UNAVAILABLE`).
    #[error("{reason}")]
    Failed { code: u16, reason: String },
}

impl Rooms {
    /// Starts a room of `spec`'s app now, named `new.name` or with a fresh
    /// code ([`codes::room_code`], retried while taken), with at most
    /// `new.max_members` members (no more than the app's). Counts against
    /// the same limits as a join that starts a room, and answers once the
    /// instance is up (or why it could not start). The room then lives like
    /// any other: with nobody in it, it stops after the idle grace.
    pub async fn create(
        &self,
        spec: RoomSpec,
        new: NewRoom,
        client: IpAddr,
    ) -> Result<Created, CreateRefused> {
        let settings = narrowed(&spec, &new)?;
        check_metadata(&new.metadata)?;
        let max_members = settings.max_players;
        let exists = |room: &str| CreateRefused::Exists {
            app: spec.app.clone(),
            room: room.to_owned(),
        };
        let (room, fence) = match new.name {
            Some(name) => {
                if self.is_live(&spec.app, &name) {
                    return Err(exists(&name));
                }
                match self.claim_for_create(&spec, &name).await {
                    Ok(fence) => (name, fence),
                    Err(refused) if refused.code == super::close::MOVED => {
                        return Err(exists(&name));
                    }
                    Err(refused) => return Err(refused.into()),
                }
            }
            None => self.fresh_code(&spec).await?,
        };
        let ready = {
            let mut live = self.inner.live.lock().expect("rooms lock");
            if live.contains_key(&(spec.app.clone(), room.clone())) {
                return Err(exists(&room));
            }
            self.inner.may_start(&live, &spec, client)?;
            let start = super::Start {
                settings,
                metadata: new.metadata,
                by_join: false,
                fence,
            };
            let started = self.spawn(&mut live, &spec, &room, start);
            started.ready
        };
        started(ready).await?;
        Ok(Created { room, max_members })
    }

    /// Reserves a seat for the caller in a live public room of `spec`'s app
    /// with one free (the fullest such room, so rooms fill up), or in a new
    /// room with a generated code when none has. Finding the room and
    /// holding the seat happen under the live-rooms lock, and reservations
    /// count as taken seats, so many callers at once fill rooms one after
    /// another. The seat is held for [`RoomConfig::seat_reservation`](super::RoomConfig).
    pub async fn join_or_create(
        &self,
        spec: RoomSpec,
        filters: Metadata,
        client: IpAddr,
    ) -> Result<Reservation, CreateRefused> {
        if spec.visibility != RoomVisibility::Public {
            return Err(CreateRefused::NotPublic { app: spec.app });
        }
        check_metadata(&filters)?;
        let ttl = self.inner.config.seat_reservation;
        // In a cluster a new room's name is claimed before it starts, which
        // can't happen under the live-rooms lock: this server's callers of
        // one app then take turns, so they still fill rooms one by one.
        let _turn = match self.inner.placement.get() {
            Some(_) => Some(self.inner.join_or_create_turn.lock().await),
            None => None,
        };
        let claimed = match self.inner.placement.get() {
            Some(_) if !self.has_open_room(&spec, &filters) => Some(self.fresh_code(&spec).await?),
            _ => None,
        };
        let (reservation, ready) = {
            let mut live = self.inner.live.lock().expect("rooms lock");
            let now = Instant::now();
            let mut open: Vec<(&(String, String), &super::Live)> = live
                .iter()
                .filter(|((app, _), room)| {
                    *app == spec.app
                        && room.settings.open_to_strangers()
                        && room.seats.has_free_seat(now)
                        && matches(&room.board.read(), &room.settings, &filters)
                })
                .collect();
            // Fullest first, then by name, so the answer doesn't depend on hashing.
            open.sort_by_key(|((_, name), room)| {
                let free =
                    room.seats.max() as usize - (room.seats.members() + room.seats.reserved(now));
                (free, name.clone())
            });
            let found = open.into_iter().find_map(|((_, name), room)| {
                let (token, expires) = room.seats.reserve(now, ttl)?;
                Some((name.clone(), token, expires, room.ready.clone()))
            });
            match found {
                Some((room, token, expires, ready)) => {
                    (reservation(room, token, expires, now, false), ready)
                }
                None => {
                    self.inner.may_start(&live, &spec, client)?;
                    let (room, fence) = claimed.unwrap_or_else(|| {
                        let code = free_code(|code| {
                            live.contains_key(&(spec.app.clone(), code.to_owned()))
                        });
                        (code, None)
                    });
                    let start = super::Start {
                        settings: spec.settings(),
                        metadata: filters,
                        by_join: false,
                        fence,
                    };
                    let started = self.spawn(&mut live, &spec, &room, start);
                    let (token, expires) = started.seats.reserve(now, ttl).ok_or_else(|| {
                        CreateRefused::MaxMembers {
                            app: spec.app.clone(),
                            asked: 1,
                            max: spec.max_members,
                        }
                    })?;
                    (reservation(room, token, expires, now, true), started.ready)
                }
            }
        };
        started(ready).await?;
        Ok(reservation)
    }
}

impl Rooms {
    /// Whether a live public room of `spec`'s app has a free seat and every
    /// filter, here.
    pub fn has_open_room(&self, spec: &RoomSpec, filters: &Metadata) -> bool {
        let live = self.inner.live.lock().expect("rooms lock");
        let now = Instant::now();
        live.iter().any(|((app, _), room)| {
            *app == spec.app
                && room.settings.open_to_strangers()
                && room.seats.has_free_seat(now)
                && matches(&room.board.read(), &room.settings, filters)
        })
    }

    /// A generated room code free here and (in a cluster) claimed for this
    /// server, with the fence a room under it runs under.
    async fn fresh_code(&self, spec: &RoomSpec) -> Result<(String, Option<i64>), CreateRefused> {
        let app = spec.app.as_str();
        for _ in 0..5 {
            let code = {
                let live = self.inner.live.lock().expect("rooms lock");
                free_code(|code| live.contains_key(&(app.to_owned(), code.to_owned())))
            };
            match self.claim_for_create(spec, &code).await {
                Ok(fence) => return Ok((code, fence)),
                // Another server has this code: draw another.
                Err(refused) if refused.code == super::close::MOVED => {}
                Err(refused) => return Err(refused.into()),
            }
        }
        Err(CreateRefused::Failed {
            code: super::close::TRY_AGAIN,
            reason: "no free room code was found; try again".into(),
        })
    }
}

impl From<JoinRefused> for CreateRefused {
    fn from(refused: JoinRefused) -> Self {
        CreateRefused::Failed {
            code: refused.code,
            reason: refused.reason,
        }
    }
}

impl Rooms {
    /// Holds a free player seat of a live room for `ttl` (an invite's
    /// seat): its token and when it lapses (Unix ms); `None` when the room
    /// isn't running or has no free seat.
    pub fn reserve_seat(&self, app: &str, room: &str, ttl: Duration) -> Option<(String, i64)> {
        let live = self.inner.live.lock().expect("rooms lock");
        let now = Instant::now();
        let (token, expires) = live
            .get(&(app.to_owned(), room.to_owned()))?
            .seats
            .reserve(now, ttl)?;
        let held = reservation(room.to_owned(), token, expires, now, false);
        Some((held.token, held.expires_ms))
    }
}

/// The app's settings narrowed as `new` asks, or why they can't be.
fn narrowed(spec: &RoomSpec, new: &NewRoom) -> Result<RoomSettings, CreateRefused> {
    let mut settings = spec.settings();
    if let Some(asked) = new.max_members {
        if asked == 0 || asked > spec.max_members {
            return Err(CreateRefused::MaxMembers {
                app: spec.app.clone(),
                asked,
                max: spec.max_members,
            });
        }
        settings.max_players = asked;
    }
    match new.spectators {
        Some(true) if spec.max_spectators == 0 => {
            return Err(CreateRefused::NoSpectators {
                app: spec.app.clone(),
            });
        }
        Some(false) => settings.max_spectators = 0,
        _ => {}
    }
    if let Some(start) = new.start {
        settings.start = start;
    }
    if let Some(late_join) = new.late_join {
        settings.late_join = late_join;
    }
    if settings.late_join == LateJoin::Spectate && settings.max_spectators == 0 {
        return Err(CreateRefused::SpectateWithoutSpectators);
    }
    if let Some(asked) = new.visibility {
        let exposure = |v: RoomVisibility| match v {
            RoomVisibility::Public => 2,
            RoomVisibility::Unlisted => 1,
            RoomVisibility::Invite => 0,
        };
        if exposure(asked) > exposure(spec.visibility) {
            return Err(CreateRefused::Visibility {
                app: spec.app.clone(),
                asked,
                app_visibility: spec.visibility,
            });
        }
        settings.visibility = asked;
    }
    settings.password = new.password.clone();
    Ok(settings)
}

/// Whether a room could take a stranger as a player and has every filter
/// in its metadata.
fn matches(listing: &super::listing::Listing, settings: &RoomSettings, filters: &Metadata) -> bool {
    let takes_players = listing.phase == Phase::Lobby || settings.late_join == LateJoin::Allow;
    takes_players
        && filters
            .iter()
            .all(|(key, value)| listing.metadata.get(key) == Some(value))
}

fn reservation(
    room: String,
    token: String,
    expires: Instant,
    now: Instant,
    created: bool,
) -> Reservation {
    let ms = i64::try_from(expires.duration_since(now).as_millis()).unwrap_or(i64::MAX);
    Reservation {
        room,
        token,
        expires_ms: lodge_store::now_ms().saturating_add(ms),
        created,
    }
}

/// A room code `taken` says no live room has. 40 random bits make a
/// collision rare; the loop makes it harmless.
fn free_code(taken: impl Fn(&str) -> bool) -> String {
    loop {
        let code = codes::room_code();
        if !taken(&code) {
            return code;
        }
    }
}

/// Waits until the room's instance is up; why not, if it could not start.
async fn started(mut ready: watch::Receiver<Ready>) -> Result<(), CreateRefused> {
    let failed = |refused: JoinRefused| CreateRefused::Failed {
        code: refused.code,
        reason: refused.reason,
    };
    match ready.wait_for(Option::is_some).await {
        Ok(state) => match state.as_ref() {
            Some(Err(refused)) => Err(failed(refused.clone())),
            _ => Ok(()),
        },
        // The actor went without saying (it only does so after failing).
        Err(_) => Err(failed(JoinRefused {
            code: close::UNAVAILABLE,
            reason: "the room could not start (see `lodge logs`)".into(),
        })),
    }
}
