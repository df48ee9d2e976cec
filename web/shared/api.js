// The REST calls the pages make: login, logout and authenticated GETs, with the
// server's `{code, message}` errors turned into ApiError.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
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
