/* A model: its status while training; once ready, a prompt with ideas and its gallery, newest
   first, paged as the user scrolls and refreshed while generations are in progress. */

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

function tiles(generations) {
  let n = 0;
  return generations.map((g) => {
    if (g.status === "processing") {
      const tile = `<div class="tile pend" role="img" aria-label="${esc(T.generating)}">`
        + `<span class="cap">${esc(T.generating)}</span></div>`;
      return tile.repeat(g.num_images);
    }
    if (g.status === "failed") {
      return `<button class="tile fail" data-why="${esc(g.error_text || T.error)}">⚠️<br>`
        + `${esc(T.genFailed)}</button>`;
    }
    return g.images.map((url) => `<button class="tile" data-i="${n++}"><img src="${esc(url)}" `
      + `loading="lazy" decoding="async" width="256" height="256" alt="${esc(g.prompt)}">`
      + "</button>").join("");
  }).join("");
}

export async function modelScreen(route, view) {
  backButton(() => go(HOME));
  let model, page;
  try {
    [, { model }, page] = await Promise.all([
      loadMe(), api(`/models/${route.id}`), api(`/models/${route.id}/prompts`),
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
  const price = me.prices.generate;
  const ideas = T.ideas.map((i) => `<button class="chip" data-idea="${esc(i)}">${esc(i)}</button>`);
  screen.innerHTML = header(model) + `<div class="sh">${esc(T.genFor)}</div>
    <div class="card"><textarea id="prompt" rows="2" maxlength="${me.limits.prompt_max}"
      placeholder="${esc(T.promptPh)}" aria-label="${esc(T.promptPh)}"></textarea></div>
    <div class="chips">${ideas.join("")}</div>
    <p class="foot" id="cost"></p>
    <div id="gallery"></div><div class="sentinel" id="more"></div>`;
  const prompt = $("#prompt");
  const cost = () => {
    $("#cost").textContent = T.genCost({ price: nCredits(price), balance: nCredits(me.credits) });
    $("#cost").className = "foot" + (me.credits < price ? " warn" : "");
  };
  const grow = () => {
    prompt.style.height = "auto";
    prompt.style.height = `${Math.min(prompt.scrollHeight, 110)}px`;
  };
  prompt.oninput = () => { grow(); update(); };
  prompt.onfocus = () => setTimeout(() => prompt.scrollIntoView({ block: "center" }), 300);
  screen.querySelectorAll("[data-idea]").forEach((b) => {
    b.onclick = () => { prompt.value = b.dataset.idea; haptic.pick(); grow(); update(); };
  });

  let busy = false;
  function update() {
    if (me.credits < price) return mainButton(T.notEnough, () => haptic.err(), { active: false });
    const active = !!prompt.value.trim() && !busy;
    mainButton(T.generate({ price: nCredits(price) }), send, { active, progress: busy });
  }
  async function send() {
    busy = true;
    update();
    try {
      const json = { model_id: model.id, prompt: prompt.value };
      const result = await api("/generate", { method: "POST", json });
      me.credits = result.credits;
      gens.unshift(result.generation);
      prompt.value = "";
      grow();
      prompt.blur();
      haptic.ok();
      cost();
      render();
      refresh();
    } catch (e) {
      haptic.err();
      popup(T.error, errorText(e));
    }
    busy = false;
    if (view.live()) update();
  }

  const images = () => gens.filter((g) => g.status === "done")
    .flatMap((g) => g.images.map((url) => ({ url, prompt: g.prompt })));
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
      b.onclick = () => popup(T.genFailed, `${b.dataset.why} ${T.refunded}`);
    });
    gallery.querySelectorAll("[data-i]").forEach((b) => {
      b.onclick = () => openViewer(images(), +b.dataset.i, view, () => {
        backButton(() => go(HOME));
        update();
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
    ? empty("⚠️", T.failedTitle, `${model.error_text || T.error} ${T.refunded}`)
    : empty("⏳", T.trainingTitle, T.closeHint));
  mainButton(failed ? T.newModel : null, () => go({ screen: "new" }));
  if (!failed) view.poll(() => modelScreen(route, view));
}
