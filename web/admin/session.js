// The signed-in console user: token and user kept in sessionStorage (per tab), and the
// API calls made with it. A 401 from any call ends the session and returns to sign-in.

import { ApiError, apiGet, apiSend, login, logout } from "/shared/api.js";

const TOKEN_KEY = "switchboard.admin.session";

export function savedSession() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? "null");
  } catch {
    return null;
  }
}

export async function signIn(username, password) {
  const { token, user } = await login(username, password);
  const session = { token, user };
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(session));
  return session;
}

export async function signOut(session) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (session) await logout(session.token).catch(() => {});
}

/**
 * The API as a page sees it: `get(path)` and `send(method, path, body)` under /api/v1
 * with the session's token. `onExpired` runs once when the server answers 401.
 */
export function sessionApi(session, onExpired) {
  const guard = (promise) =>
    promise.catch((err) => {
      if (err instanceof ApiError && err.status === 401) onExpired();
      throw err;
    });
  return {
    get: (path) => guard(apiGet(path, session.token)),
    send: (method, path, body) => guard(apiSend(method, path, session.token, body)),
  };
}
