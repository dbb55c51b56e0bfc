// The rules for room and display names (the server checks the same), and
// the display name this browser remembers.

const NAME_KEY = "lodge.name";

export function savedName() {
  return localStorage.getItem(NAME_KEY) ?? "";
}

export function saveName(name) {
  localStorage.setItem(NAME_KEY, name);
}

/** Room names: 1-64 letters, digits, '-', '_' or '.' (as the server checks). */
export function validRoom(room) {
  return /^[A-Za-z0-9._-]{1,64}$/.test(room);
}

export const ROOM_RULE = "Room names are 1-64 letters, digits, '-', '_' or '.'.";

/** Characters that change the direction of the text around them. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
/** Names made only of these show nothing: spaces, invisible and combining characters, blanks. */
const INVISIBLE = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Mn}\p{Me}\u115F\u2800]*$/u;

/**
 * What is wrong with a display name, or null; the server checks the same
 * rules (crates/server/src/names.rs).
 */
export function nameProblem(name) {
  const chars = [...name].length;
  if (chars < 1 || chars > 64) return "Names are 1-64 characters.";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return "Names can't have control characters.";
  if (name.trim() !== name) return "Names can't start or end with a space.";
  if (BIDI_CONTROLS.test(name)) return "Names can't have characters that change the direction of the text.";
  if (INVISIBLE.test(name)) return "Names need at least one visible character.";
  return null;
}

/** Display names: see nameProblem. */
export function validName(name) {
  return nameProblem(name) === null;
}
