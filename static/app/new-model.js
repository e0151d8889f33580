/* New model: one single-file slot per photo (Android WebViews break `multiple`), a name, who
   is in the photos, the kind of model (a trained LoRA or an instant FaceID, each with its
   price), and the price on the MainButton. */

import { api, loadMe, session, upload } from "./api.js";
import { prepare } from "./photos.js";
import { go, HOME } from "./router.js";
import { backButton, closingConfirmation, haptic, mainButton, popup, snack } from "./telegram.js";
import { $, errorText, esc, failedScreen, screen, nCredits, T } from "./ui.js";

function slotHtml(n, state) {
  const label = esc(T.photoN({ n }));
  const input = `<input class="vh" type="file" accept="image/*" aria-label="${label}">`;
  if (!state) return `${input}<span class="plus" aria-hidden="true">+</span><span>${label}</span>`;
  if (state.busy) return `${input}<div class="spin" role="progressbar" aria-label="${label}"></div>`;
  if (state.error) { // a photo the check refused keeps its picture, dimmed, to show which
    const seen = state.url ? `<img class="dim" src="${state.url}" alt="${label}">` : "";
    return `${input}${seen}<span class="why">${esc(state.error)}</span>`
      + `<span class="why">${esc(T.tapRetry)}</span>`;
  }
  return `${input}<img src="${state.url}" alt="${label}"><span class="ok" aria-hidden="true">✓</span>`
    + `<button class="x" type="button" aria-label="✕ ${label}"><span>✕</span></button>`;
}

export async function newModel(route, view) {
  // a photoshoot's screen sent the user here to make a model for it ({id, classes}: only its
  // classes are offered): taken once, so a later visit of this screen orders nothing
  const shootFor = session.shootAfterTraining;
  session.shootAfterTraining = null;
  backButton(() => go(HOME));
  try {
    if (!session.me) await loadMe();
  } catch (e) {
    return failedScreen(errorText(e), () => go(route));
  }
  if (!view.live()) return;
  const { credits, limits } = session.me;
  const kinds = session.me.model_types;
  const count = limits.photos;
  const draft = { slots: Array(count).fill(null), keys: Array(count).fill(null) };
  Object.assign(draft, { name: "", cls: null, busy: false, kind: kinds[0] });
  const slotsHtml = draft.slots
    .map((_, i) => `<label class="slot">${slotHtml(i + 1, null)}</label>`).join("");
  const offered = limits.classes.filter((c) => !shootFor || shootFor.classes.includes(c));
  const chips = offered.map((c) => `<button class="chip" role="radio" aria-checked="false" `
    + `data-c="${esc(c)}">${esc(T.classes[c] || c)}</button>`).join("");
  screen.innerHTML = `<div class="top"><h1>${esc(T.newModel)}</h1></div>
    <div class="sh" id="ph"></div><div class="slots">${slotsHtml}</div>
    <p class="foot">${esc(T.photoTips)}</p>
    <div class="sh">${esc(T.name)}</div>
    <div class="card field"><input id="name" maxlength="${limits.name_max}" enterkeyhint="done"
      autocomplete="off" placeholder="${esc(T.namePh)}" aria-label="${esc(T.name)}">
      <span class="count" id="count">0/${limits.name_max}</span></div>
    <div class="sh">${esc(T.who)}</div><div class="chips" role="radiogroup">${chips}</div>
    ${kinds.length < 2 ? "" : `<div class="sh">${esc(T.kind)}</div>
    <div class="list plain" role="radiogroup">${kinds.map((k) =>
      `<button class="cell" role="radio" data-kind="${esc(k.type)}"><div class="grow">`
      + `<div class="t1">${esc(T.typeNames[k.type])}</div><div class="t2 wrap">`
      + `${esc(T.typeAbout[k.type])}</div></div><span class="val">${esc(nCredits(k.price))}</span>`
      + `<span class="tick" aria-hidden="true">✓</span></button>`).join("")}</div>`}
    <p class="foot" id="hint"></p>`;
  const slots = [...screen.querySelectorAll(".slot")];

  function paint(i) {
    const state = draft.slots[i];
    slots[i].className = "slot" + (state && state.blob ? " done" : state && state.error ? " err" : "");
    slots[i].innerHTML = slotHtml(i + 1, state);
    bind(i);
  }

  function forget(i) {
    if (draft.slots[i] && draft.slots[i].url) URL.revokeObjectURL(draft.slots[i].url);
    draft.slots[i] = null;
    draft.keys[i] = null;
  }

  async function pick(i, file) {
    const key = `${file.name}:${file.size}:${file.lastModified}`;
    forget(i);
    if (draft.keys.includes(key)) {
      haptic.warn();
      draft.slots[i] = { error: T.duplicate };
      return;
    }
    draft.slots[i] = { busy: true };
    paint(i);
    try {
      const blob = await prepare(file, limits);
      draft.slots[i] = { blob, url: URL.createObjectURL(blob) };
      draft.keys[i] = key;
      haptic.light();
    } catch (e) {
      draft.slots[i] = { error: e.message || T.notImage };
      haptic.warn();
    }
  }

  function bind(i) {
    $("input", slots[i]).onchange = async (ev) => {
      const file = ev.target.files && ev.target.files[0];
      ev.target.value = "";
      if (!file) return;
      await pick(i, file);
      if (!view.live()) return;
      paint(i);
      update();
    };
    const x = $(".x", slots[i]);
    if (x) {
      x.onclick = (ev) => {
        ev.preventDefault();
        forget(i);
        paint(i);
        update();
      };
    }
  }
  slots.forEach((_, i) => bind(i));

  const name = $("#name");
  name.oninput = () => {
    draft.name = name.value;
    $("#count").textContent = `${name.value.length}/${limits.name_max}`;
    update();
  };
  name.onkeydown = (e) => { if (e.key === "Enter") name.blur(); };
  screen.querySelectorAll(".chip").forEach((chip) => {
    chip.onclick = () => {
      if (draft.cls !== chip.dataset.c) haptic.pick();
      draft.cls = chip.dataset.c;
      screen.querySelectorAll(".chip").forEach((c) => {
        c.setAttribute("aria-checked", String(c === chip));
      });
      update();
    };
  });

  const kindCells = [...screen.querySelectorAll("[data-kind]")];
  const pickKind = (kind) => {
    draft.kind = kind;
    kindCells.forEach((c) => c.setAttribute("aria-checked", String(c.dataset.kind === kind.type)));
  };
  kindCells.forEach((cell) => {
    cell.onclick = () => {
      haptic.pick();
      pickKind(kinds.find((k) => k.type === cell.dataset.kind));
      update();
    };
  });
  pickKind(draft.kind);

  function update(progress) {
    const price = draft.kind.price;
    const have = draft.slots.filter((s) => s && s.blob).length;
    $("#ph").textContent = `${T.photos} · ${have}/${count}`;
    let missing = null;
    if (have < count) missing = T.needPhotos({ n: count - have });
    else if (!draft.name.trim()) missing = T.needName;
    else if (!draft.cls) missing = T.needClass;
    const poor = credits < price;
    const hint = $("#hint");
    hint.textContent = poor
      ? T.notEnoughText({ price: nCredits(price), balance: nCredits(credits) })
      : missing || T.costLine({ price: nCredits(price), balance: nCredits(credits) });
    hint.className = "foot" + (poor ? " warn" : "");
    closingConfirmation(draft.slots.some((s) => s && s.blob));
    if (poor && session.me.packs.length) return mainButton(T.buyCredits, () => go({ screen: "buy" }));
    if (poor) return mainButton(T.notEnough, () => haptic.err(), { active: false });
    const text = progress != null
      ? T.uploading({ percent: progress }) : T.startTraining({ price: nCredits(price) });
    mainButton(text, submit, { active: !missing && !draft.busy, progress: progress != null });
  }

  async function submit() {
    if (draft.busy) return;
    draft.busy = true;
    update(0);
    const form = new FormData();
    form.append("name", draft.name.trim());
    form.append("class_name", draft.cls);
    form.append("model_type", draft.kind.type);
    draft.slots.forEach((s, i) => form.append("images", s.blob, `photo${i + 1}.jpg`));
    let made;
    try {
      made = await upload("/train-model", form, (p) => { if (draft.busy && view.live()) update(p); });
    } catch (e) {
      draft.busy = false;
      haptic.err();
      if (e.reason === "photo_problems" && view.live()) {
        // nothing was charged: the photos that would train badly are marked to be replaced
        (e.params.photos || []).forEach(({ photo, problems }) => {
          const { url } = draft.slots[photo - 1] || {}; // kept to show; freed when replaced
          draft.slots[photo - 1] = { error: problems.map((p) => T.problems[p] || p).join(", "), url };
          draft.keys[photo - 1] = null;
          paint(photo - 1);
        });
      }
      if (view.live()) update();
      const title = e.reason === "photo_problems" ? T.checkTitle : T.error;
      return popup(title, errorText(e));
    }
    draft.busy = false;
    haptic.ok();
    closingConfirmation(false);
    snack(T.started);
    draft.slots.forEach((_, i) => forget(i));
    if (shootFor) await orderShoot(shootFor.id, made.model); // the model was made for it
    if (view.live()) go(HOME);
  }

  /** The photoshoot the model was made for, ordered on it: it runs once the model is ready. */
  async function orderShoot(shoot, model) {
    try {
      const result = await api("/photoshoots", {
        method: "POST", json: { photoshoot: shoot, model_id: model.id, key: `m${model.id}` },
      });
      session.me.credits = result.credits;
      snack(T.shootAfterTraining);
    } catch (e) {
      popup(T.error, errorText(e));
    }
  }

  view.onLeave(() => closingConfirmation(false));
  update();
}
