// What a room connection's close code means, for when the server gave no
// reason. LODGE_CLOSE_CODES has one entry per constant of the server's
// `close` module (crates/runtime/src/rooms/mod.rs), names and numbers alike:
// a test in crates/server/src/ui.rs fails when the two lists differ.

/** The codes Lodge's server closes a member's connection with. */
export const LODGE_CLOSE_CODES = {
  NORMAL: [1000, "the room closed the connection"],
  GOING_AWAY: [1001, "the server is shutting down"],
  TOO_SLOW: [1008, "the connection broke a rule (too slow to read?)"],
  TOO_BIG: [1009, "a message was too large"],
  CRASHED: [1011, "the room stopped after a fault"],
  RESTART: [1012, "a new version of the app was published"],
  TRY_AGAIN: [1013, "the server is busy: try again later"],
  REFUSED: [4001, "the room refused you"],
  FULL: [4002, "the room is full"],
  KICKED: [4003, "you were removed from the room"],
  UNAVAILABLE: [4004, "the room could not start"],
  NAME_TAKEN: [4005, "someone in the room already has that name, or it is an account's: sign in, or choose another"],
  SIGN_IN_REQUIRED: [4006, "this app's rooms are for signed-in players: sign in to join"],
  REPLACED: [4007, "you joined this room again from another tab or device"],
  INVITE_INVALID: [4008, "this invite link is not valid any more: ask for a new one"],
  INVITE_REQUIRED: [4009, "this room is invite-only: ask someone in it for an invite link"],
  PASSWORD_REQUIRED: [4010, "this room has a password"],
  LATE_JOIN_DENIED: [4011, "the game has started and takes no one new"],
  NO_SPECTATORS: [4012, "this room takes no spectators, or has its most"],
  MOVED: [4013, "the room is moving to another server: reconnecting"],
};

/** Codes of the WebSocket protocol itself, which the browser reports too. */
const PROTOCOL_CLOSE_CODES = {
  1006: "the connection was lost",
};

const MEANINGS = new Map([
  ...Object.entries(PROTOCOL_CLOSE_CODES).map(([code, meaning]) => [Number(code), meaning]),
  ...Object.values(LODGE_CLOSE_CODES),
]);

/** Why a connection closed: the server's reason, else what its code means. */
export function closeReason(code, reason) {
  return reason || MEANINGS.get(code) || `the connection closed (${code})`;
}

/** The close code of a new version of the app: the page offers to reload. */
export const NEW_VERSION = LODGE_CLOSE_CODES.RESTART[0];

/** The close code of a room for signed-in players only: the page offers to sign in. */
export const SIGN_IN_REQUIRED = LODGE_CLOSE_CODES.SIGN_IN_REQUIRED[0];
