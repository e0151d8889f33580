/* A model: its status while training; once ready, the styles (a row of cards), a prompt,
   an HD switch and its gallery, newest first, paged as the user scrolls and refreshed
   while generations are in progress. A style alone, a prompt alone, or both can be generated. */

import { api, loadMe, session } from "./api.js";
import { go, HOME } from "./router.js";
import { backButton, haptic, mainButton, popup } from "./telegram.js";
import { openViewer } from "./viewer.js";
import {
  $, avatar, empty, errorText, esc, failedScreen, fillBars, screen, statusLine, nCredits, T,
} from "./ui.js";

function header(model) {
  const bad = model.status === "failed" ? " bad" : "";
  return `<div class="mhead">${avatar(model)}<div class="grow">`
    + `<h2 class="t1">${esc(model.name)}</h2>`
    + `<div class="status${bad}">${esc(statusLine(model))}</div></div></div>`;
}

/** What a generation was asked for: its style's name and/or the prompt. */
const what = (g) => [g.style_name, g.prompt].filter(Boolean).join(" · ");

function styleCard(s, base) {
  const price = s.price === base ? "" : ` · ${esc(nCredits(s.price))}`;
  return `<button class="style" data-style="${esc(s.id)}" aria-pressed="false">`
    + `<span class="t1">${esc(s.name)}${price}</span><span class="t2">${esc(s.description)}</span>`
    + "</button>";
}

/** What a refund gave back, or nothing when the work was free. */
const refunded = (cost) => (cost > 0 ? T.refunded({ credits: nCredits(cost) }) : "");

/** A running photoshoot of this model: its title and a bar of how far it has come. */
function orderCard(order) {
  const share = Math.round((100 * order.ready) / Math.max(order.images, 1));
  return `<div class="cell"><div class="ava shoot" aria-hidden="true">📸</div><div class="grow">`
    + `<div class="t1">${esc(order.title)}</div>`
    + `<div class="t2">${esc(T.shootProgress({ ready: order.ready, total: order.images }))}</div>`
    + `</div><div class="bar fill"><i data-share="${share}"></i></div></div>`;
}

function tiles(generations) {
  let n = 0;
  let group = null; // a photoshoot's pictures go under its title, in a grid of their own
  return generations.map((g) => {
    const order = g.photoshoot_order || null;
    let head = "";
    if (order !== group) {
      const title = order ? g.prompt : T.yourImages;
      head = `</div><div class="sh ghead">${esc(title)}</div><div class="grid">`;
      group = order;
    }
    return head + tile(g, () => n++);
  }).join("");
}

function tile(g, next) {
  {
    if (g.status === "processing") {
      const tile = `<div class="tile pend" role="img" aria-label="${esc(T.generating)}">`
        + `<span class="cap">${esc(T.generating)}</span></div>`;
      return tile.repeat(g.num_images);
    }
    if (g.status === "failed") {
      return `<button class="tile fail" data-why="${esc(g.error_text || T.error)}" `
        + `data-cost="${g.cost}">⚠️<br>`
        + `${esc(T.genFailed)}</button>`;
    }
    return g.images.map((url) => `<button class="tile" data-i="${next()}"><img src="${esc(url)}" `
      + `loading="lazy" decoding="async" width="256" height="256" alt="${esc(what(g))}">`
      + "</button>").join("");
  }
}

export async function modelScreen(route, view) {
  backButton(() => go(HOME));
  let model, page, orders;
  try {
    [, { model }, page, { orders }] = await Promise.all([
      loadMe(), api(`/models/${route.id}`), api(`/models/${route.id}/prompts`),
      api("/photoshoots/orders"),
      session.styles || api("/styles").then((r) => { session.styles = r.styles; }),
    ]);
  } catch (e) {
    if (e.status === 404) return go(HOME); // not theirs, or deleted: a deep link gone stale
    return failedScreen(errorText(e), () => go(route));
  }
  if (!view.live()) return;
  if (model.status !== "ready") return notReady(model, route, view);
  const me = session.me;
  const gens = page.generations;
  let next = page.next_before;
  const base = me.prices.generate;
  let style = null;
  let price = base;
  screen.innerHTML = header(model) + `<div class="sh">${esc(T.styles)}</div>
    <div class="styles">${session.styles.map((s) => styleCard(s, base)).join("")}</div>
    <div class="sh">${esc(T.genFor)}</div>
    <div class="card"><textarea id="prompt" rows="2" maxlength="${me.limits.prompt_max}"
      placeholder="${esc(T.promptPh)}" aria-label="${esc(T.promptPh)}"></textarea></div>
    <label class="card switch"><span class="grow">${esc(T.hd)}<span class="t2">`
    + `${esc(T.hdHint({ price: nCredits(me.prices.hd) }))}</span></span>`
    + `<input type="checkbox" role="switch" id="hd"></label>
    <p class="foot" id="cost"></p>
    <div id="orders"></div><div id="gallery"></div><div class="sentinel" id="more"></div>`;
  const prompt = $("#prompt");
  const hd = $("#hd");
  const reprice = () => {
    price = (style ? style.price : base) + (hd.checked ? me.prices.hd : 0);
    cost();
    update();
  };
  hd.onchange = () => { haptic.pick(); reprice(); };
  screen.querySelectorAll("[data-style]").forEach((card) => {
    card.onclick = () => {
      const again = style && style.id === card.dataset.style;
      style = again ? null : session.styles.find((s) => s.id === card.dataset.style);
      screen.querySelectorAll("[data-style]").forEach((c) => {
        c.setAttribute("aria-pressed", String(!!style && c === card));
      });
      haptic.pick();
      reprice();
    };
  });
  const cost = () => { // what is missing first, then what it costs
    const chosen = !!style || !!prompt.value.trim();
    $("#cost").textContent = chosen || me.credits < price
      ? T.genCost({ price: nCredits(price), balance: nCredits(me.credits) }) : T.pickHint;
    $("#cost").className = "foot" + (me.credits < price ? " warn" : "");
  };
  const grow = () => {
    prompt.style.height = "auto";
    prompt.style.height = `${Math.min(prompt.scrollHeight, 110)}px`;
  };
  prompt.oninput = () => { grow(); cost(); update(); };
  prompt.onfocus = () => setTimeout(() => prompt.scrollIntoView({ block: "center" }), 300);

  let busy = false;
  function update() {
    if (me.credits < price) {
      if (me.packs.length) return mainButton(T.buyCredits, () => go({ screen: "buy" }));
      return mainButton(T.notEnough, () => haptic.err(), { active: false });
    }
    const active = (!!style || !!prompt.value.trim()) && !busy;
    mainButton(T.generate({ price: nCredits(price) }), () => send(), { active, progress: busy });
  }
  /** Generate what is chosen on the screen, or `again` (a generation's prompt, style, HD). */
  async function send(again) {
    if (busy) return;
    if (again && me.credits < againPrice(again)) { // More like this, too little left: the shop
      haptic.err();
      if (me.packs.length) go({ screen: "buy" });
      else popup(T.error, T.notEnough);
      return;
    }
    busy = true;
    update();
    try {
      const json = again
        ? { model_id: model.id, prompt: again.prompt, style: again.style, hd: again.hd }
        : { model_id: model.id, prompt: prompt.value.trim(), style: style && style.id, hd: hd.checked };
      if (!json.style) delete json.style;
      if (!json.prompt && json.style) delete json.prompt;
      const result = await api("/generate", { method: "POST", json });
      me.credits = result.credits;
      gens.unshift(result.generation);
      if (!view.live()) return; // the user went elsewhere meanwhile: nothing here to draw
      if (!again) prompt.value = "";
      grow();
      prompt.blur();
      haptic.ok();
      cost();
      render();
      refresh();
    } catch (e) {
      haptic.err();
      if (e.code === "not_enough_credits" && me.packs.length) {
        busy = false;
        return go({ screen: "buy" });
      }
      popup(T.error, errorText(e));
    }
    busy = false;
    if (view.live()) update();
  }

  /** Today's price of a generation again: its style's (or the usual) price, HD if it had. */
  const againPrice = (g) => {
    const s = g.style && session.styles.find((x) => x.id === g.style);
    return (s ? s.price : base) + (g.hd ? me.prices.hd : 0);
  };
  const images = () => gens.filter((g) => g.status === "done").flatMap((g) => g.images.map(
    (url, n) => ({ url, n, prompt: what(g), generation: g, price: againPrice(g) })));
  let running = orders.filter((o) => o.model_id === model.id && o.status === "processing");
  function render() {
    $("#orders").innerHTML = running.length
      ? `<div class="list gap-l">${running.map(orderCard).join("")}</div>` : "";
    fillBars($("#orders"));
    const gallery = $("#gallery");
    if (!gens.length) {
      gallery.innerHTML = empty("🖼️", T.firstImages, T.firstImagesText);
      return;
    }
    gallery.innerHTML = `<div class="grid">${tiles(gens)}</div>`;
    gallery.querySelectorAll("img").forEach((img) => {
      if (img.complete) img.classList.add("in");
      else img.onload = () => img.classList.add("in");
    });
    gallery.querySelectorAll("[data-why]").forEach((b) => {
      b.onclick = () => popup(T.genFailed, `${b.dataset.why} ${refunded(+b.dataset.cost)}`);
    });
    gallery.querySelectorAll("[data-i]").forEach((b) => {
      b.onclick = () => openViewer(images(), +b.dataset.i, view, (more) => {
        backButton(() => go(HOME));
        update();
        if (more) send(more); // "More like this": the same prompt, style and HD again
      });
    });
  }
  function refresh() {
    if (!gens.some((g) => g.status === "processing") && !running.length) return;
    view.poll(async () => {
      try {
        const limit = Math.min(Math.max(gens.length, 30), 100);
        const [fresh, now] = await Promise.all([
          api(`/models/${model.id}/prompts?limit=${limit}`),
          running.length ? api("/photoshoots/orders") : { orders: [] },
        ]);
        if (!view.live()) return;
        const pending = gens.filter((g) => g.status === "processing").length;
        running = now.orders.filter((o) => o.model_id === model.id && o.status === "processing");
        const known = new Set(gens.map((g) => g.id));
        gens.unshift(...fresh.generations.filter((f) => !known.has(f.id) && f.id > (gens[0] || { id: 0 }).id));
        fresh.generations.forEach((f) => {
          const i = gens.findIndex((g) => g.id === f.id);
          if (i >= 0) gens[i] = f;
        });
        if (gens.filter((g) => g.status === "processing").length < pending) haptic.ok();
        render();
      } catch (e) { /* try again on the next tick */ }
      refresh();
    });
  }
  const observer = new IntersectionObserver(async (entries) => {
    if (!entries[0].isIntersecting || !next) return;
    const before = next;
    next = null;
    try {
      const more = await api(`/models/${model.id}/prompts?before=${before}`);
      if (!view.live()) return;
      gens.push(...more.generations);
      next = more.next_before;
      render();
    } catch (e) {
      next = before;
    }
  }, { rootMargin: "100% 0px" });
  observer.observe($("#more"));
  view.onLeave(() => observer.disconnect());
  cost();
  render();
  update();
  refresh();
}

function notReady(model, route, view) {
  const failed = model.status === "failed";
  screen.innerHTML = header(model) + (failed
    ? empty("⚠️", T.failedTitle, `${model.error_text || T.error} ${refunded(model.cost)}`)
    : empty("⏳", T.trainingTitle, T.closeHint));
  mainButton(failed ? T.newModel : null, () => go({ screen: "new" }));
  if (!failed) view.poll(() => modelScreen(route, view));
}
