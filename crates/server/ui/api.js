// Talking to Lodge's JSON API: reads with the saved token when there is
// one, changes with the token (asked for through `askToken` when missing or
// refused), and failures as ApiError with the server's code and message.

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

export class Api {
  /** @param {{askToken: (again: boolean) => Promise<string|null>}} options  asks a person for the token */
  constructor({ askToken }) {
    this.askToken = askToken;
  }

  get token() {
    return localStorage.getItem(TOKEN_KEY);
  }

  /** Whether this browser keeps the API token. */
  hasToken() {
    return this.token !== null;
  }

  forgetToken() {
    localStorage.removeItem(TOKEN_KEY);
  }

  /**
   * GETs a JSON document from the API, with the saved token when there is
   * one (it shows unlisted rooms too). A refused token is forgotten and the
   * request made again without it.
   */
  async get(path) {
    const token = this.token;
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

  /** Sends a request that needs the token, asking for it (once) when missing or refused. */
  async authorized(method, path, body, onProgress) {
    for (let attempt = 0; attempt < 2; attempt++) {
      let token = this.token;
      if (!token) {
        token = await this.askToken(attempt > 0);
        if (token) localStorage.setItem(TOKEN_KEY, token);
      }
      if (!token) throw new ApiError(401, "no_token", "a token is needed for this");
      const response = await send(method, `/api${path}`, token, body, onProgress);
      if (response.status === 401) {
        this.forgetToken();
        continue;
      }
      if (response.status < 200 || response.status >= 300) throw failure(response.status, response.text, `HTTP ${response.status}`);
      return response.text ? JSON.parse(response.text) : null;
    }
    throw new ApiError(401, "unauthorized", "the token was refused");
  }
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
