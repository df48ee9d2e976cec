// The REST calls the pages make: login, logout, authenticated reads and writes, with
// the server's `{code, message, field}` errors turned into ApiError.

export class ApiError extends Error {
  /**
   * `field`: the request field a validation error names ("steps[0].expression"), or null;
   * `blockers`: what stops a delete (409), [{type, id, name}].
   */
  constructor(status, code, message, field = null, blockers = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.blockers = blockers;
  }
}

async function call(method, path, { token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", `cannot reach the server (${err.message})`);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      data?.code ?? `http_${response.status}`,
      data?.message ?? `${method} ${path} answered ${response.status}`,
      data?.field ?? null,
      Array.isArray(data?.blockers) ? data.blockers : [],
    );
  }
  return data;
}

/** `POST /api/v1/auth/login` → `{token, expiresIn, user}`. */
export function login(username, password) {
  return call("POST", "/api/v1/auth/login", { body: { username, password } });
}

/** Revokes the token; a token that is already gone is not an error. */
export async function logout(token) {
  try {
    await call("POST", "/api/v1/auth/logout", { token });
  } catch (err) {
    if (err.status !== 401) throw err;
  }
}

/** An authenticated `GET /api/v1{path}`. */
export function apiGet(path, token) {
  return call("GET", `/api/v1${path}`, { token });
}

/** An authenticated `POST|PUT|PATCH|DELETE /api/v1{path}` with a JSON body (or none). */
export function apiSend(method, path, token, body) {
  return call(method, `/api/v1${path}`, { token, body });
}

/** `path` with `params` as its query string; empty and null values are left out. */
export function withQuery(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
