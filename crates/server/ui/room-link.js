// What this tab keeps to get back into a room: a resume token per room
// (sessionStorage, so a reload is the same member and another tab is a new
// one), the invite it came with, and when a closed connection may be tried
// again.

/** Closes that let the page come back by itself: the server going away, a
 * lost connection, a crashed room, a busy server, a room moving to another
 * server. (1012, a new version, asks for a reload instead.) */
const RECONNECT_CODES = new Set([1001, 1006, 1011, 1013, 4013]);

/** Attempts before the page stops and offers a Rejoin button. */
export const RECONNECT_ATTEMPTS = 10;

/** Whether a close with `code` is worth reconnecting after. */
export function mayReconnect(code) {
  return RECONNECT_CODES.has(code);
}

/** How long to wait before reconnect attempt `attempt` (1, 2, …): 0.25 s doubling to 8 s, with jitter. */
export function backoffMs(attempt) {
  const base = 250 * 2 ** Math.min(attempt - 1, 5);
  return Math.round(base * (1 + Math.random() / 4));
}

const key = (app, room) => `lodge.resume:${app}/${room}`;

/** This tab's resume token for `app/room`: 128 random bits, kept across reloads. */
export function resumeToken(app, room) {
  let token = sessionStorage.getItem(key(app, room));
  if (!token) {
    const bytes = crypto.getRandomValues(new Uint8Array(18));
    token = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
    sessionStorage.setItem(key(app, room), token);
  }
  return token;
}

const inviteKey = (app, room) => `lodge.invite:${app}/${room}`;

/**
 * The invite this tab has for `app/room`: the one in the page's address
 * (`#invite=…`, then taken out of it so it isn't shared by accident), else
 * the one it came with before a reload.
 */
export function roomInvite(app, room) {
  const hash = new URLSearchParams(location.hash.slice(1));
  const invite = hash.get("invite");
  if (invite) {
    history.replaceState(history.state, "", location.pathname + location.search);
    sessionStorage.setItem(inviteKey(app, room), invite);
    return invite;
  }
  return sessionStorage.getItem(inviteKey(app, room));
}

/** Keeps (or, with null, forgets) the invite this tab joins `app/room` with. */
export function keepInvite(app, room, invite) {
  if (invite) sessionStorage.setItem(inviteKey(app, room), invite);
  else sessionStorage.removeItem(inviteKey(app, room));
}

const nameKey = (app, room) => `lodge.joined-as:${app}/${room}`;

/** The name this tab joined `app/room` under, so a reload comes back without asking again. */
export function joinedName(app, room) {
  return sessionStorage.getItem(nameKey(app, room));
}

export function keepJoinedName(app, room, name) {
  sessionStorage.setItem(nameKey(app, room), name);
}
