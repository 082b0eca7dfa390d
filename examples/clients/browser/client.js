// A hyperjwt client for the browser, with fetch: log in, call protected routes, refresh the access
// token when it expires, log out. An ES module with no dependencies:
//
//   import { HyperjwtClient } from "./client.js";
//   const api = new HyperjwtClient("https://auth.example.com");
//   await api.login("alice", password);
//   const me = await api.get("/protected");   // refreshes once if the access token has expired
//   await api.logout();
//
// The page's origin must be in the server's CORS_ORIGINS (docs/http.md §7). Tokens are kept in
// this object's memory only, never in localStorage, where any script injected into the page could
// read them; a reload means logging in again.

export class ApiError extends Error {
  constructor(response, body) {
    super(`${response.status}: ${body?.msg ?? response.statusText}`);
    this.status = response.status;
    this.msg = body?.msg;
    // Readable cross-origin because the server lists them in Access-Control-Expose-Headers.
    this.wwwAuthenticate = response.headers.get("WWW-Authenticate");
    this.retryAfter = response.headers.get("Retry-After");
  }
}

export class HyperjwtClient {
  constructor(baseUrl) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.accessToken = null;
    this.refreshToken = null;
    this.refreshes = 0;
  }

  async #call(method, path, { token, body } = {}) {
    const headers = {};
    // RFC 6750 §2.1: the token goes in the Authorization header, never in the URL.
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // Bearer tokens, not cookies: send no credentials (the server never allows them).
      credentials: "omit",
      cache: "no-store",
    });
    const data = await response.json().catch(() => null);
    return { response, data };
  }

  async login(username, password) {
    const { response, data } = await this.#call("POST", "/login", { body: { username, password } });
    // 401 wrong credentials; 429 and 503 say how long to wait in Retry-After.
    if (!response.ok) throw new ApiError(response, data);
    this.accessToken = data.access_token;
    this.refreshToken = data.refresh_token;
  }

  async refresh() {
    const { response, data } = await this.#call("POST", "/refresh", { token: this.refreshToken });
    if (!response.ok) throw new ApiError(response, data);
    this.accessToken = data.access_token;
    // With JWT_REFRESH_ROTATION=true a new refresh token comes too, and the old one is spent.
    this.refreshToken = data.refresh_token ?? this.refreshToken;
    this.refreshes += 1;
  }

  /** GET with the access token; on "Token has expired", refreshes once and tries again. */
  async get(path) {
    let { response, data } = await this.#call("GET", path, { token: this.accessToken });
    if (response.status === 401 && data?.msg === "Token has expired" && this.refreshToken) {
      await this.refresh();
      ({ response, data } = await this.#call("GET", path, { token: this.accessToken }));
    }
    if (!response.ok) throw new ApiError(response, data);
    return data;
  }

  /** Ends this session: the access token's and, named in the body, the refresh token's. */
  async logout() {
    const body = this.refreshToken ? { refresh_token: this.refreshToken } : undefined;
    let { response, data } = await this.#call("POST", "/logout", { token: this.accessToken, body });
    if (response.status === 401 && data?.msg === "Token has expired" && this.refreshToken) {
      // An expired access token can't authenticate the logout; the refresh token can.
      ({ response, data } = await this.#call("POST", "/logout", { token: this.refreshToken, body }));
    }
    if (!response.ok) throw new ApiError(response, data);
    this.accessToken = this.refreshToken = null;
  }

  /** Ends every session of this user, on every device. */
  async logoutAll() {
    const { response, data } = await this.#call("POST", "/logout/all", {
      token: this.accessToken ?? this.refreshToken,
    });
    if (!response.ok) throw new ApiError(response, data);
    this.accessToken = this.refreshToken = null;
  }
}
