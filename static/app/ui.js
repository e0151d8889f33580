/* Small pieces every screen uses: the user's texts, escaping, errors in words, avatars. */

import { session } from "./api.js";
import { launchUser, mainButton } from "./telegram.js";
import { say, textsFor } from "./texts.js";

export const { lang, T } = textsFor(launchUser.language_code);
/** A number of credits in the user's words: 1 credit, 3 кредита. */
export const nCredits = (n) => T.credits({ n });
export const $ = (sel, root = document) => root.querySelector(sel);
export const screen = document.getElementById("screen");

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);

/** An API error in the user's words: a known reason (filled in from what the refusal names and
    the server's limits), else the server's message. */
export function errorText(e) {
  const reason = e && e.reason && T.reasons[e.reason];
  if (reason) return say(reason, { ...(session.me ? session.me.limits : {}), ...e.params });
  if (e && e.code === "offline") return T.offline;
  return (e && e.message) || T.error;
}

/** A model's round avatar: its initial on one of Telegram's seven avatar colours (.c0–.c6). */
export function avatar(model) {
  const initial = esc((model.name || "?").trim().charAt(0).toUpperCase());
  return `<div class="ava c${model.id % 7}" aria-hidden="true">${initial}</div>`;
}

/** How long training has left, coarsely. */
export function eta(model) {
  if (model.minutes_left == null) return T.starting;
  return model.minutes_left > 0 ? T.minutes({ minutes: model.minutes_left }) : T.soon;
}

/** Who a model is of, and its kind where users pick one: "Woman · ⚡ Instant". */
export function whoAndKind(model) {
  const kinds = (session.me && session.me.model_types) || [];
  const kind = kinds.length > 1 && T.typeNames[model.model_type];
  return (T.classes[model.class_name] || model.class_name) + (kind ? ` · ${kind}` : "");
}

/** The status line of a model: who and kind · ready, training with ETA, or failed. */
export function statusLine(model) {
  const cls = whoAndKind(model);
  if (model.status === "ready") return `${cls} · ${T.ready}`;
  if (model.status === "training") return `${cls} · ${T.training}, ${eta(model)}`;
  return `${cls} · ${T.failed}`;
}

/** An empty state: an illustration, a title, one sentence and perhaps one action (`extra`). */
export function empty(art, title, text = "", extra = "") {
  return `<div class="empty"><div class="art" aria-hidden="true">${art}</div>`
    + `<h2>${esc(title)}</h2>${text ? `<p>${esc(text)}</p>` : ""}${extra}</div>`;
}

/** A screen that could not load, with one way to try again. */
export function failedScreen(message, retry) {
  const button = `<button class="btn" id="retry">${esc(T.tryAgain)}</button>`;
  screen.innerHTML = empty("⚠️", T.loadFailed, message, button);
  $("#retry").onclick = retry;
  mainButton(null);
}

/** Progress bars drawn as `<i data-share="40">`: their widths set here (the page's CSP allows
    no inline style attribute). */
export function fillBars(root = screen) {
  root.querySelectorAll("[data-share]").forEach((bar) => {
    bar.style.width = `${Math.min(100, Math.max(0, +bar.dataset.share))}%`;
  });
}
