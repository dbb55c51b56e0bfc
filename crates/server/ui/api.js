// Talking to Lodge's JSON API, and the bits of page-building every view uses.

const TOKEN_KEY = "lodge.token";
const NAME_KEY = "lodge.name";

/** An API failure, carrying the server's code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function failure(response) {
  try {
    const body = await response.json();
    return new ApiError(response.status, body.error?.code ?? "error", body.error?.message ?? response.statusText);
  } catch {
    return new ApiError(response.status, "error", `${response.status} ${response.statusText}`);
  }
}

/**
 * GETs a JSON document from the API, with the saved token when there is one
 * (it shows unlisted rooms too). A refused token is forgotten and the
 * request made again without it.
 */
export async function get(path) {
  const token = localStorage.getItem(TOKEN_KEY);
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`/api${path}`, { headers });
  if (response.status === 401 && token) {
    localStorage.removeItem(TOKEN_KEY);
    return get(path);
  }
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** Whether this browser keeps the API token. */
export function hasToken() {
  return localStorage.getItem(TOKEN_KEY) !== null;
}

/** Sends a request that needs the token, asking for it (once) when missing or refused. */
export async function authorized(method, path, body, onProgress) {
  for (let attempt = 0; attempt < 2; attempt++) {
    let token = localStorage.getItem(TOKEN_KEY);
    if (!token) token = await askToken(attempt > 0);
    if (!token) throw new ApiError(401, "no_token", "a token is needed for this");
    const response = await send(method, `/api${path}`, token, body, onProgress);
    if (response.status === 401) {
      localStorage.removeItem(TOKEN_KEY);
      continue;
    }
    if (response.status < 200 || response.status >= 300) {
      let parsed;
      try {
        parsed = JSON.parse(response.text);
      } catch {
        parsed = {};
      }
      throw new ApiError(response.status, parsed.error?.code ?? "error", parsed.error?.message ?? `HTTP ${response.status}`);
    }
    return response.text ? JSON.parse(response.text) : null;
  }
  throw new ApiError(401, "unauthorized", "the token was refused");
}

/** XMLHttpRequest, for upload progress (fetch has none). */
function send(method, url, token, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("authorization", `Bearer ${token}`);
    if (onProgress) xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new ApiError(0, "network", "the server could not be reached"));
    xhr.send(body ?? null);
  });
}

/** Asks for the API token in a dialog; keeps it in local storage. */
function askToken(again) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { "aria-labelledby": "token-title" });
    const input = h("input", { type: "password", name: "token", autocomplete: "off", required: true });
    const form = h("form", {},
      h("h2", { id: "token-title" }, "API token"),
      h("p", { class: again ? "error" : "muted" },
        again ? "That token was refused. " : "",
        "Changes need the server's token: LODGE_TOKEN, or the token file in the data directory (",
        h("span", { class: "mono" }, "lodge serve"), " prints where). It is kept in this browser."),
      h("label", {}, "Token", input),
      h("div", { class: "buttons" },
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { class: "primary" }, "Save")));
    let token = null;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      token = input.value.trim() || null;
      if (token) localStorage.setItem(TOKEN_KEY, token);
      dialog.close();
    });
    dialog.append(form);
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(token);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

export function forgetToken() {
  localStorage.removeItem(TOKEN_KEY);
}

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

/** Builds an element: h("a", {href: "/"}, "text", child, ...). Text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Replaces the page's content and title. */
export function show(title, ...children) {
  document.title = title ? `${title} · Lodge` : "Lodge";
  const main = document.getElementById("main");
  main.className = "";
  main.replaceChildren(...children.filter((child) => child != null && child !== false));
  // Tell keyboard and screen-reader users the page changed (views that
  // want an input focused move focus on from here).
  main.focus({ preventScroll: true });
  return main;
}
