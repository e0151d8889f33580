/* The app's JSON API under /api/bot, authorised with Telegram's signed initData. */

import { initData } from "./telegram.js";

const AUTH = `tma ${initData}`;

/** An API error as the screens show it: the server's code, reason (with what it names, e.g.
    which photo) and message. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || "");
    this.status = status;
    this.code = body.code || "error";
    this.reason = body.reason || null;
    this.params = body.params || {};
  }
}

/** Call the API; resolves with the JSON body, rejects with an ApiError (status 0: offline). */
export async function api(path, options = {}) {
  let response;
  try {
    const headers = { Authorization: AUTH, ...(options.headers || {}) };
    if (options.json !== undefined) headers["Content-Type"] = "application/json";
    response = await fetch(`/api/bot${path}`, {
      method: options.method || "GET",
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, { code: "offline" });
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error || {});
  return body;
}

/** POST a form with upload progress (fetch cannot report it); same results as `api`. */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/bot${path}`);
    xhr.timeout = 120000;
    xhr.setRequestHeader("Authorization", AUTH);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100));
    };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body.error || {}));
    };
    xhr.onerror = xhr.ontimeout = () => reject(new ApiError(0, { code: "offline" }));
    xhr.send(form);
  });
}

/** The caller: credits, prices and the limits the server enforces (GET /api/bot/me). */
export const session = { me: null };
export async function loadMe() {
  session.me = await api("/me");
  return session.me;
}
