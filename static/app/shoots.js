/* Photoshoots: a grid of covers (the running orders on top, with their progress), and one
   photoshoot's screen: its sample pictures for the chosen model's class, the model picker, and
   the price on the MainButton. The server prices and checks everything; an order is one tap
   (its key makes a retried request the same order). */

import { api, loadMe, session } from "./api.js";
import { go, HOME } from "./router.js";
import { backButton, haptic, mainButton, popup, snack } from "./telegram.js";
import { empty, errorText, esc, failedScreen, fillBars, nCredits, screen, T } from "./ui.js";

const pictures = (n) => T.pictures({ n });

/** The pictures a photoshoot makes for the user's models' class (else its first class). */
function made(shoot, classes) {
  const mine = Object.keys(shoot.images).find((c) => classes.includes(c));
  return shoot.images[mine || Object.keys(shoot.images)[0]];
}

function coverCard(shoot, classes) {
  const cover = shoot.cover
    ? `<img src="${esc(shoot.cover)}" loading="lazy" decoding="async" width="320" height="400" alt="">`
    : "";
  const meta = T.shootMeta({ pictures: pictures(made(shoot, classes)), price: nCredits(shoot.price) });
  return `<button class="cover" data-shoot="${shoot.id}" aria-label="${esc(shoot.title)}">`
    + `<span class="pic">${cover}</span><span class="t1">${esc(shoot.title)}</span>`
    + `<span class="t2">${esc(meta)}</span></button>`;
}

function orderCell(order) {
  const done = order.status !== "processing";
  const share = Math.round((100 * order.ready) / Math.max(order.images, 1));
  const state = done
    ? `${T.shootDone}${order.refunded ? ` · ${T.shootRefunded({ credits: nCredits(order.refunded) })}` : ""}`
    : T.shootProgress({ ready: order.ready, total: order.images });
  const bar = done ? "" : `<div class="bar fill"><i data-share="${share}"></i></div>`;
  return `<button class="cell" data-model="${order.model_id}">`
    + `<div class="ava shoot" aria-hidden="true">📸</div><div class="grow">`
    + `<div class="t1">${esc(order.title)}</div><div class="t2">${esc(state)}</div></div>`
    + `<span class="chev" aria-hidden="true">›</span>${bar}</button>`;
}

export async function shootsScreen(route, view) {
  backButton(() => go(HOME));
  let list, models, orders;
  try {
    [, { photoshoots: list }, { models }, { orders }] = await Promise.all([
      loadMe(), api("/photoshoots"), api("/models"), api("/photoshoots/orders"),
    ]);
  } catch (e) {
    return failedScreen(errorText(e), () => go(route));
  }
  if (!view.live()) return;
  session.photoshoots = list;
  const classes = models.filter((m) => m.status === "ready").map((m) => m.class_name);
  let html = `<div class="top"><h1>${esc(T.photoshoots)}</h1></div>`
    + `<p class="foot tight">${esc(T.photoshootsLead)}</p>`;
  const running = orders.filter((o) => o.status === "processing");
  if (orders.length) {
    html += `<section class="list gap-s">${orders.slice(0, 3).map(orderCell).join("")}</section>`;
  }
  html += list.length
    ? `<div class="covers">${list.map((s) => coverCard(s, classes)).join("")}</div>`
    : empty("📸", T.noPhotoshoots, T.noPhotoshootsText);
  screen.innerHTML = html;
  fillBars();
  screen.querySelectorAll("img").forEach((img) => {
    if (img.complete) img.classList.add("in");
    else img.onload = () => img.classList.add("in");
  });
  screen.querySelectorAll("[data-shoot]").forEach((el) => {
    el.onclick = () => go({ screen: "photoshoot", id: +el.dataset.shoot });
  });
  screen.querySelectorAll("[data-model]").forEach((el) => {
    el.onclick = () => go({ screen: "model", id: +el.dataset.model });
  });
  if (running.length) view.poll(() => shootsScreen(route, view));
}

export async function shootScreen(route, view) {
  backButton(() => go({ screen: "photoshoots" }));
  let list, models;
  try {
    [, { photoshoots: list }, { models }] = await Promise.all([
      loadMe(), session.photoshoots ? { photoshoots: session.photoshoots } : api("/photoshoots"),
      api("/models"),
    ]);
  } catch (e) {
    return failedScreen(errorText(e), () => go(route));
  }
  if (!view.live()) return;
  const shoot = list.find((s) => s.id === route.id);
  if (!shoot) return go({ screen: "photoshoots" }); // no longer offered: a stale deep link
  const me = session.me;
  // a model still training may take it too: the run starts once the model is ready
  const fit = models.filter((m) => (m.status === "ready" || m.status === "training")
    && m.class_name in shoot.images);
  let model = fit.find((m) => m.status === "ready") || fit[0] || null;
  const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  let busy = false;

  function draw() {
    const cls = model ? model.class_name : Object.keys(shoot.samples)[0];
    const samples = (shoot.samples[cls] || []).map((url) => `<div class="tile"><img src="${esc(url)}" `
      + `loading="lazy" decoding="async" width="256" height="256" alt=""></div>`).join("");
    const meta = T.shootMeta({ pictures: pictures(shoot.images[cls]), price: nCredits(shoot.price) });
    let html = `<div class="top"><h1>${esc(shoot.title)}</h1></div>`
      + `<p class="foot tight">${esc(shoot.description)}</p><p class="foot tight">${esc(meta)}</p>`;
    if (fit.length) {
      html += `<div class="sh">${esc(T.shootWith)}</div><div class="chips" role="radiogroup">`
        + fit.map((m) => `<button class="chip" role="radio" data-m="${m.id}" `
          + `aria-checked="${m === model}">${m.status === "training" ? "⏳ " : ""}`
          + `${esc(m.name)}</button>`).join("") + "</div>";
      if (model && model.status === "training") html += `<p class="foot">${esc(T.shootAfterTraining)}</p>`;
    } else if (models.length) {
      html += `<p class="foot warn">${esc(T.shootNoClass)}</p>`;
    } else {
      html += empty("🧑‍🎨", T.shootNoModel, T.shootNoModelText({ photos: me.limits.photos }));
    }
    html += `<div class="sh">${esc(T.shootSamples)}</div><div class="grid">${samples}</div>`;
    screen.innerHTML = html;
    screen.querySelectorAll(".tile img").forEach((img) => {
      if (img.complete) img.classList.add("in");
      else img.onload = () => img.classList.add("in");
    });
    screen.querySelectorAll("[data-m]").forEach((el) => {
      el.onclick = () => {
        model = fit.find((m) => m.id === +el.dataset.m);
        haptic.pick();
        draw();
      };
    });
    update();
  }

  function update() {
    if (!model) { // a new model for it: the photoshoot is ordered once its training starts
      return mainButton(T.createModel, () => {
        session.shootAfterTraining = { id: shoot.id, classes: Object.keys(shoot.images) };
        go({ screen: "new" });
      });
    }
    if (me.credits < shoot.price) {
      if (me.packs.length) return mainButton(T.buyCredits, () => go({ screen: "buy" }));
      return mainButton(T.notEnough, () => haptic.err(), { active: false });
    }
    const label = T.shootStart({ pictures: pictures(shoot.images[model.class_name]),
      price: nCredits(shoot.price) });
    mainButton(label, order, { active: !busy, progress: busy });
  }

  async function order() {
    if (busy || !model) return;
    busy = true;
    update();
    try {
      const result = await api("/photoshoots", {
        method: "POST", json: { photoshoot: shoot.id, model_id: model.id, key },
      });
      me.credits = result.credits;
      haptic.ok();
      snack(T.shootStarted);
      if (view.live()) go({ screen: "model", id: model.id });
      return;
    } catch (e) {
      haptic.err();
      busy = false;
      if (e.code === "not_enough_credits" && me.packs.length) return go({ screen: "buy" });
      popup(T.error, errorText(e));
    }
    if (view.live()) update();
  }

  draw();
}
