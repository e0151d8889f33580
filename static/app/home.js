/* My models: the credits, each model with its status, and deleting one's data. */

import { api, loadMe, session } from "./api.js";
import { go } from "./router.js";
import { confirmDestructive, haptic, mainButton, popup, snack } from "./telegram.js";
import {
  $, avatar, empty, errorText, esc, eta, failedScreen, screen, nCredits, T, whoAndKind,
} from "./ui.js";

function cell(m) {
  let right, sub;
  if (m.status === "ready") {
    right = `<span class="chev" aria-hidden="true">›</span>`;
    sub = esc(`${whoAndKind(m)} · ${T.ready}`);
  } else if (m.status === "training") {
    right = `<span class="badge">⏳ ${esc(T.training)}</span>`;
    sub = esc(eta(m));
  } else {
    right = `<span class="badge bad">⚠️ ${esc(T.failed)}</span>`;
    sub = esc(m.error_text || T.error);
  }
  const bar = m.status === "training" ? '<div class="bar"><i></i></div>' : "";
  return `<button class="cell" data-id="${m.id}" aria-label="${esc(m.name)}">${avatar(m)}`
    + `<div class="grow"><div class="t1">${esc(m.name)}</div><div class="t2">${sub}</div></div>`
    + `${right}${bar}</button>`;
}

export async function home(route, view) {
  let models;
  try {
    [, { models }] = await Promise.all([loadMe(), api("/models")]);
  } catch (e) {
    return failedScreen(errorText(e), () => go(route));
  }
  if (!view.live()) return;
  const me = session.me;
  const low = me.credits < me.prices.train;
  const training = models.some((m) => m.status === "training");
  let html = `<div class="top"><h1>${esc(T.myModels)}</h1>`
    + `<button class="pill${low ? " low" : ""}" id="credits">⭐ ${esc(nCredits(me.credits))}</button>`
    + "</div>";
  if (me.dev_mode) html += `<p class="foot tight">${esc(T.dev)}</p>`;
  if (models.length) {
    html += `<section class="list gap-s">${models.map(cell).join("")}</section>`;
    if (training) html += `<p class="foot">${esc(T.closeHint)}</p>`;
  } else {
    html += empty("📸", T.noModels, T.noModelsText({ photos: me.limits.photos }));
  }
  html += `<div class="list gap-s"><button class="cell" id="shoots">`
    + `<div class="ava shoot" aria-hidden="true">📸</div><div class="grow">`
    + `<div class="t1">${esc(T.photoshoots)}</div><div class="t2">${esc(T.photoshootsLead)}</div>`
    + `</div><span class="chev" aria-hidden="true">›</span></button></div>`;
  html += `<div class="list gap-l">`
    + `<button class="cell danger" id="delete">${esc(T.deleteData)}</button></div>`;
  screen.innerHTML = html;
  $("#delete").onclick = () => deleteEverything(route);
  screen.querySelectorAll(".cell[data-id]").forEach((el) => {
    el.onclick = () => go({ screen: "model", id: +el.dataset.id });
  });
  $("#credits").onclick = () => go({ screen: "buy" });
  $("#shoots").onclick = () => go({ screen: "photoshoots" });
  mainButton(models.length ? T.newModel : T.createModel, () => go({ screen: "new" }));
  if (training) view.poll(() => home(route, view));
}

async function deleteEverything(route) {
  haptic.warn();
  if (!(await confirmDestructive(T.deleteTitle, T.deleteText, T.deleteYes))) return;
  try {
    await api("/me", { method: "DELETE" });
    haptic.ok();
    snack(T.deleted);
    go(route);
  } catch (e) {
    haptic.err();
    popup(T.error, errorText(e));
  }
}
