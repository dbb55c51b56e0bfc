// Keyboard input shared by the renderers: which keys the browser keeps,
// and key-down / key-up events with the keys held released when focus
// leaves (a key let go elsewhere would otherwise stay held for ever).

/**
 * Keys the browser keeps: Tab (focus moves), F5, F11, F12, Alt+arrows
 * (history), anything with ⌘, and Ctrl with find, print, save, reload,
 * address bar, tabs, windows and zoom.
 */
export function browserKey(e) {
  if (["Tab", "F5", "F11", "F12"].includes(e.key)) return true;
  if (e.metaKey) return true;
  if (e.altKey && e.key.startsWith("Arrow")) return true;
  return e.ctrlKey && ["f", "g", "p", "s", "r", "l", "t", "w", "n", "+", "-", "=", "0"].includes(e.key.toLowerCase());
}

export function modifiers(e) {
  return { shift: e.shiftKey, ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey };
}

/** Sends `el`'s key presses and releases to onEvent, as the page's key-down and key-up events. */
export function listenKeys(el, onEvent) {
  const held = new Map();
  el.addEventListener("keydown", (e) => {
    if (e.isComposing || browserKey(e)) return;
    e.preventDefault();
    const val = { key: e.key, code: e.code, repeat: e.repeat, modifiers: modifiers(e) };
    held.set(e.code, val);
    onEvent({ tag: "key-down", val });
  });
  el.addEventListener("keyup", (e) => {
    if (!held.has(e.code)) return;
    held.delete(e.code);
    onEvent({ tag: "key-up", val: { key: e.key, code: e.code, repeat: false, modifiers: modifiers(e) } });
  });
  el.addEventListener("blur", () => {
    for (const val of held.values()) onEvent({ tag: "key-up", val: { ...val, repeat: false } });
    held.clear();
  });
}
