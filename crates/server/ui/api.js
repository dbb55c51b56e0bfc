// Talking to Lodge's JSON API: as the signed-in account (the session
// cookie, with its CSRF token on every write), or with an API token pasted
// into this browser (the operator's, say); a write with neither asks the
// person to sign in. Failures are ApiError with the server's code and message.

const TOKEN_KEY = "lodge.token";

/** An API failure, carrying the server's code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The ApiError in a failed answer's `{"error": {code, message}}` body. */
function failure(status, text, fallback) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = {};
  }
  return new ApiError(status, body.error?.code ?? "error", body.error?.message ?? fallback);
}

/**
 * The signed-in account, as `GET /api/me` answers it.
 * @typedef {{username: string, role: "admin"|"user", disabled: boolean, created: string,
 *   via: "session"|"token"|"operator", scopes: string[], csrf?: string,
 *   quotas: {apps: number, versions_per_app: number, stored_bytes: number, kv_bytes: number}|null,
 *   usage: {apps: number, stored_bytes: number, kv_bytes: number},
 *   apps: {name: string, role: "owner"|"maintainer"}[]}} Me
 */

export class Api {
  /**
   * @param {{askToken: (again: boolean) => Promise<string|null>,
   *   askSignIn: (api: Api, again: boolean) => Promise<"signed-in"|"token"|null>}} options
   *   how a person is asked to sign in (or for a token) when a change needs it
   */
  constructor({ askToken, askSignIn }) {
    this.askToken = askToken;
    this.askSignIn = askSignIn;
    /** @type {Me|null} the account this browser's session is signed in as */
    this.account = null;
    /** @type {Set<(account: Me|null) => void>} */
    this.listeners = new Set();
  }

  get token() {
    return localStorage.getItem(TOKEN_KEY);
  }

  /** Whether this browser keeps an API token (and is not signed in, which comes first). */
  hasToken() {
    return this.account === null && this.token !== null;
  }

  forgetToken() {
    localStorage.removeItem(TOKEN_KEY);
    this.changed();
  }

  /** Calls `listener(account)` whenever this browser signs in or out. */
  onChange(listener) {
    this.listeners.add(listener);
  }

  changed() {
    for (const listener of this.listeners) listener(this.account);
  }

  /**
   * Asks the server who this browser's session is (the cookie only, never
   * the saved token): the account, or null when signed out.
   */
  async refresh() {
    const response = await fetch("/api/me", { headers: { accept: "application/json" } });
    if (response.status === 401) {
      this.setAccount(null);
      return null;
    }
    if (!response.ok) throw failure(response.status, await response.text(), `${response.status} ${response.statusText}`);
    const me = await response.json();
    this.setAccount(me.via === "session" ? me : null);
    return this.account;
  }

  /** @param {Me|null} account */
  setAccount(account) {
    const before = this.account?.username ?? null;
    this.account = account;
    if ((account?.username ?? null) !== before) this.changed();
  }

  /**
   * Signs in with `POST path` (`/session`, `/signup` or `/setup`) and the
   * credentials in `body`; the cookie comes with the answer.
   */
  async signIn(path, body) {
    const response = await fetch(`/api${path}`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw failure(response.status, text, `HTTP ${response.status}`);
    // The whole account (apps, usage) comes from /api/me.
    await this.refresh();
    return JSON.parse(text).account;
  }

  /** Signs this browser out (and forgets nothing else). */
  async signOut() {
    if (this.account) {
      await send("DELETE", "/api/session", { "x-csrf-token": this.account.csrf }).catch(() => {});
    }
    // Signed out means this browser acts as nobody: a pasted API token goes too.
    localStorage.removeItem(TOKEN_KEY);
    this.setAccount(null);
  }

  /** Forgets the session on this page, after the server ended it (sign out everywhere, a deleted account). */
  signedOut() {
    this.setAccount(null);
  }

  /**
   * GETs a JSON document from the API: as the session's account when
   * signed in, else with the saved token when there is one (it shows
   * unlisted rooms too). A refused token is forgotten and the request made
   * again without it.
   */
  async get(path) {
    const token = this.account ? null : this.token;
    const headers = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`/api${path}`, { headers });
    if (response.status === 401 && token) {
      this.forgetToken();
      return this.get(path);
    }
    if (!response.ok) throw failure(response.status, await response.text(), `${response.status} ${response.statusText}`);
    return response.json();
  }

  /**
   * POSTs JSON to a route open to everyone (rooms, invites, a room's
   * password): as the signed-in account when there is one, else as nobody.
   */
  async post(path, body) {
    const headers = { "content-type": "application/json", accept: "application/json" };
    if (this.account) headers["x-csrf-token"] = this.account.csrf;
    const response = await fetch(`/api${path}`, { method: "POST", headers, body: JSON.stringify(body ?? {}) });
    const text = await response.text();
    if (!response.ok) throw failure(response.status, text, `${response.status} ${response.statusText}`);
    return text ? JSON.parse(text) : null;
  }

  /**
   * Sends a change: as the signed-in account (with its CSRF token), or
   * with the saved token; with neither, asks the person to sign in (or for
   * a token) first. `body` is a Blob sent as it is, or a value sent as JSON.
   */
  async authorized(method, path, body, onProgress) {
    let again = false;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!this.account && !this.token) {
        const choice = await this.askSignIn(this, again);
        if (choice === "token") {
          const token = await this.askToken(again);
          if (token) {
            localStorage.setItem(TOKEN_KEY, token);
            this.changed();
          }
        }
        if (!this.account && !this.token) throw new ApiError(401, "signed_out", "sign in to do this");
      }
      const headers = this.account
        ? { "x-csrf-token": this.account.csrf }
        : { authorization: `Bearer ${this.token}` };
      let payload = body ?? null;
      if (payload !== null && !(payload instanceof Blob)) {
        headers["content-type"] = "application/json";
        payload = JSON.stringify(payload);
      }
      const response = await send(method, `/api${path}`, headers, payload, onProgress);
      if (response.status === 401) {
        // The session ended, or the token was revoked: ask again.
        if (this.account) this.signedOut();
        else this.forgetToken();
        again = true;
        continue;
      }
      if (response.status === 403 && this.account && failure(403, response.text, "").code === "csrf_failed") {
        // Signed in again in another tab: the session (and its CSRF token) changed.
        await this.refresh();
        continue;
      }
      if (response.status < 200 || response.status >= 300) throw failure(response.status, response.text, `HTTP ${response.status}`);
      return response.text ? JSON.parse(response.text) : null;
    }
    throw new ApiError(401, "unauthorized", "the sign-in was refused");
  }
}

/** XMLHttpRequest, for upload progress (fetch has none). Cookies go with it (same origin). */
function send(method, url, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onProgress) xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new ApiError(0, "network", "the server could not be reached"));
    xhr.send(body ?? null);
  });
}
