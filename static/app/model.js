/* A model: its status while training; once ready, the styles (a row of cards), a prompt,
   an HD switch and its gallery, newest first, paged as the user scrolls and refreshed
   while generations are in progress. A style alone, a prompt alone, or both can be generated. */

import { api, loadMe, session } from "./api.js";
import { go, HOME } from "./router.js";
import { backButton, haptic, mainButton, popup } from "./telegram.js";
import { openViewer } from "./viewer.js";
import {
  $, avatar, empty, errorText, esc, failedScreen, screen, statusLine, nCredits, T,
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

function tiles(generations) {
  let n = 0;
  return generations.map((g) => {
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
    return g.images.map((url) => `<button class="tile" data-i="${n++}"><img src="${esc(url)}" `
      + `loading="lazy" decoding="async" width="256" height="256" alt="${esc(what(g))}">`
      + "</button>").join("");
  }).join("");
}

export async function modelScreen(route, view) {
  backButton(() => go(HOME));
  let model, page;
  try {
    [, { model }, page] = await Promise.all([
      loadMe(), api(`/models/${route.id}`), api(`/models/${route.id}/prompts`),
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
    <div id="gallery"></div><div class="sentinel" id="more"></div>`;
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
    (url) => ({ url, prompt: what(g), generation: g, price: againPrice(g) })));
  function render() {
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
    if (!gens.some((g) => g.status === "processing")) return;
    view.poll(async () => {
      try {
        const limit = Math.max(gens.length, 1);
        const fresh = await api(`/models/${model.id}/prompts?limit=${limit}`);
        if (!view.live()) return;
        const pending = gens.filter((g) => g.status === "processing").length;
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
