// The HTTP API client: the bearer token and JSON requests to `diplograph serve`.
// The token arrives once in the URL fragment (`#token=…`, as `serve` prints it), is removed
// from the address bar so it is not bookmarked or shared by accident, and is kept in
// sessionStorage for reloads of this tab only. The only module that calls the server;
// it must never log or display the token.

const TOKEN_KEY = "diplograph.token";

/** Take the token out of the fragment, if there, and remember it for this tab. */
export function adoptTokenFromFragment() {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const token = fragment.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    fragment.delete("token");
    const rest = fragment.toString();
    history.replaceState(null, "", window.location.pathname + window.location.search + (rest ? `#${rest}` : ""));
  }
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An error answered by the server: its JSON `error` body (code, message, line, column,
 * caret) and the HTTP status. */
export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && body.error) || {};
    super(detail.message || `HTTP ${status}`);
    this.status = status;
    this.code = detail.code || `HTTP${status}`;
    this.line = detail.line;
    this.column = detail.column;
    this.caret = detail.caret;
  }
}

let onUnauthorized = () => {};
/** Called when the server answers 401, so the page can ask for a token. */
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

async function request(method, path, body, signal) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw new ApiError(0, { error: { code: "Cancelled", message: "cancelled; the server stops the query when its client goes away" } });
    throw new ApiError(0, { error: { code: "NetworkError", message: `the server did not answer (${err.message}); is diplograph serve still running?` } });
  }
  let payload = null;
  const text = await response.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = { error: { message: text.slice(0, 500) } };
    }
  }
  if (!response.ok) {
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, payload);
  }
  return payload;
}

const segment = (value) => encodeURIComponent(value);
const queryString = (params) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
};

export const api = {
  info: () => request("GET", "/api/info"),
  schema: () => request("GET", "/api/schema"),
  /** `signal`: an AbortSignal; aborting closes the request, which stops the query. */
  query: (body, signal) => request("POST", "/api/query", body, signal),
  entities: (name, kind) => request("GET", `/api/entities${queryString({ name, kind })}`),
  entity: (id) => request("GET", `/api/entity/${segment(id)}`),
  neighbours: (id, limit) => request("GET", `/api/neighbours/${segment(id)}${queryString({ limit })}`),
  timeline: (params) => request("GET", `/api/timeline${queryString(params)}`),
};
