//! A room's seats: its members and its seat reservations, counted together
//! under one lock, so whoever looks for a free seat (join-or-create, under
//! the live-rooms lock) and the room admitting a member can never both take
//! the last one.
//!
//! A reservation is a random token that holds one seat until it expires
//! ([`RoomConfig::seat_reservation`](super::RoomConfig), by default
//! [`SEAT_RESERVATION`]); the join that presents it takes that seat even
//! when every other seat is taken or held. The room's actor reports its
//! member count after every event; a member being admitted counts from the
//! moment its join takes a seat.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a reserved seat waits for its member to join.
pub const SEAT_RESERVATION: Duration = Duration::from_secs(15);

/// The seats of one room, shared by its live-rooms entry and its actor.
pub(crate) struct Seats {
    max: u32,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Members in the room, and the one being admitted.
    members: usize,
    /// Reservations by token, with when each expires.
    reserved: HashMap<String, Instant>,
    /// The room is stopping: no more reservations.
    closed: bool,
}

impl State {
    fn prune(&mut self, now: Instant) {
        self.reserved.retain(|_, expires| *expires > now);
    }

    fn taken(&self) -> usize {
        self.members + self.reserved.len()
    }
}

/// The room has no free seat.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Full;

impl Seats {
    pub(crate) fn new(max: u32) -> Self {
        Self {
            max,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("seats lock")
    }

    /// `max-members` for this room.
    pub(crate) fn max(&self) -> u32 {
        self.max
    }

    /// Holds a free seat for `ttl` under a new token; `None` when the room
    /// has none (members and live reservations fill it) or is stopping.
    pub(crate) fn reserve(&self, now: Instant, ttl: Duration) -> Option<(String, Instant)> {
        let token = super::codes::seat_token();
        let expires = now + ttl;
        self.reserve_as(token.clone(), now, expires)
            .then_some((token, expires))
    }

    fn reserve_as(&self, token: String, now: Instant, expires: Instant) -> bool {
        let mut state = self.lock();
        state.prune(now);
        if state.closed || state.taken() >= self.max as usize {
            return false;
        }
        state.reserved.insert(token, expires);
        true
    }

    /// Takes a seat for a joining member: the one `seat` reserved, if it is
    /// a live reservation of this room, else a free one. An unknown or
    /// expired token is ignored (the join is an ordinary one).
    pub(crate) fn take(&self, seat: Option<&str>, now: Instant) -> Result<(), Full> {
        let mut state = self.lock();
        state.prune(now);
        if let Some(token) = seat
            && state.reserved.remove(token).is_some()
        {
            state.members += 1;
            return Ok(());
        }
        if state.taken() >= self.max as usize {
            return Err(Full);
        }
        state.members += 1;
        Ok(())
    }

    /// The room's member count, after an event changed it.
    pub(crate) fn set_members(&self, members: usize) {
        self.lock().members = members;
    }

    pub(crate) fn members(&self) -> usize {
        self.lock().members
    }

    /// Reservations not yet claimed or expired.
    pub(crate) fn reserved(&self, now: Instant) -> usize {
        let mut state = self.lock();
        state.prune(now);
        state.reserved.len()
    }

    /// Whether a reservation could be made now.
    pub(crate) fn has_free_seat(&self, now: Instant) -> bool {
        let mut state = self.lock();
        state.prune(now);
        !state.closed && state.taken() < self.max as usize
    }

    /// The room is stopping: it takes no more reservations and holds none.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.reserved.clear();
        state.members = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(15);

    #[test]
    fn reservations_count_as_taken_seats() {
        let seats = Seats::new(2);
        let now = Instant::now();
        assert!(seats.reserve(now, TTL).is_some());
        assert!(seats.reserve(now, TTL).is_some());
        assert_eq!(seats.reserve(now, TTL), None);
        assert!(!seats.has_free_seat(now));
        assert_eq!(seats.take(None, now), Err(Full));
        assert_eq!(seats.reserved(now), 2);
    }

    #[test]
    fn a_reservation_gets_its_member_in_when_the_room_is_otherwise_full() {
        let seats = Seats::new(2);
        let now = Instant::now();
        let (token, _) = seats.reserve(now, TTL).unwrap();
        assert_eq!(seats.take(None, now), Ok(()));
        assert_eq!(seats.take(None, now), Err(Full));
        assert_eq!(seats.take(Some(&token), now), Ok(()));
        assert_eq!((seats.members(), seats.reserved(now)), (2, 0));
        // A claimed token is spent.
        seats.set_members(1);
        assert_eq!(seats.take(Some(&token), now), Ok(()));
        assert_eq!(seats.take(Some(&token), now), Err(Full));
    }

    #[test]
    fn an_expired_reservation_frees_its_seat_and_its_token_is_ignored() {
        let seats = Seats::new(1);
        let now = Instant::now();
        let (token, expires) = seats.reserve(now, TTL).unwrap();
        assert_eq!(expires, now + TTL);
        assert_eq!(seats.take(None, now + TTL / 2), Err(Full));
        let later = now + TTL;
        assert_eq!(seats.reserved(later), 0);
        assert!(seats.has_free_seat(later));
        // The stale token is an ordinary join, into the now free seat.
        assert_eq!(seats.take(Some(&token), later), Ok(()));
        assert_eq!(seats.take(Some(&token), later), Err(Full));
    }

    #[test]
    fn unknown_tokens_are_ordinary_joins() {
        let seats = Seats::new(1);
        let now = Instant::now();
        assert_eq!(seats.take(Some("nonsense"), now), Ok(()));
        assert_eq!(seats.take(Some("nonsense"), now), Err(Full));
    }

    #[test]
    fn a_closed_room_takes_no_reservations() {
        let seats = Seats::new(4);
        let now = Instant::now();
        seats.reserve(now, TTL).unwrap();
        seats.close();
        assert_eq!(seats.reserved(now), 0);
        assert!(!seats.has_free_seat(now));
        assert_eq!(seats.reserve(now, TTL), None);
    }

    #[test]
    fn many_threads_never_overfill() {
        let seats = std::sync::Arc::new(Seats::new(4));
        let now = Instant::now();
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let seats = seats.clone();
                std::thread::spawn(move || {
                    if i % 2 == 0 {
                        seats.reserve(now, TTL).is_some()
                    } else {
                        seats.take(None, now).is_ok()
                    }
                })
            })
            .collect();
        let granted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|ok| *ok)
            .count();
        assert_eq!(granted, 4);
        assert_eq!(seats.members() + seats.reserved(now), 4);
    }
}
