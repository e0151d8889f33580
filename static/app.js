/* The Mini App: models, a new model from 4 photos, a model's gallery and the viewer.
   Native Telegram chrome (MainButton, BackButton, popups, haptics); every colour from the theme. */
(() => {
  "use strict";
  const tg = window.Telegram && window.Telegram.WebApp;
  const $ = (sel, root = document) => root.querySelector(sel);
  const screen = $("#screen");
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const at = (v) => !!tg && typeof tg.isVersionAtLeast === "function" && tg.isVersionAtLeast(v);

  /* ---------- texts ---------- */
  const TEXTS = {
    en: {
      myModels: "My models", credits: (n) => `${n} ${n === 1 ? "credit" : "credits"}`, newModel: "New model",
      createModel: "Create model", noModels: "No models yet",
      noModelsText: "Upload 4 photos of yourself and we'll train your personal AI model.",
      ready: "Ready", training: "Training", failed: "Failed", minutes: (m) => `about ${m} min left`, soon: "finishing up…",
      starting: "starting…", closeHint: "You can close the app, we'll message you in the chat when it's ready.",
      photos: "Photos", photoN: (n) => `Photo ${n}`, photoTips: "Face clearly visible, different angles and light, only you in the frame, no sunglasses.",
      name: "Name", namePh: "e.g. Me, summer 2026", who: "Who is in the photos",
      classes: { man: "Man", woman: "Woman", person: "Person", boy: "Boy", girl: "Girl", dog: "Dog", cat: "Cat" },
      startTraining: (c) => `Start training · ${c}`, needPhotos: (n) => `Add ${n} more ${n === 1 ? "photo" : "photos"}`,
      needName: "Give your model a name", needClass: "Choose who is in the photos", notEnough: "Not enough credits",
      notEnoughText: (need, have) => `This costs ${need}; you have ${have}.`, costLine: (c, have) => `Training costs ${c}; you have ${have}.`,
      notImage: "Not a photo. Pick a JPEG, PNG or WebP image.", tooSmall: (w, h) => `Too small (${w}×${h}). At least 512 px on each side.`,
      tooBig: "This photo is too large. Pick another one.", tapRetry: "Tap to pick another", duplicate: "You already picked this photo.",
      uploading: (p) => `Uploading… ${p}%`, started: "Training started", genFor: "Generate", promptPh: "Describe a scene…",
      generate: (c) => `Generate · ${c}`, genCost: (c, have) => `Each generation costs ${c}; you have ${have}.`,
      generating: "Generating…", firstImages: "Your first images will appear here", firstImagesText: "Describe a scene above, or start with one of the ideas.",
      trainingTitle: "Training your model", failedTitle: "Training failed", refunded: "Your credit was returned.",
      genFailed: "Failed · refunded", loadFailed: "Couldn't load", tryAgain: "Try again", offline: "No connection. Try again.",
      openInTelegram: "Open this app from the bot in Telegram.", download: "Download", share: "Share", of: "of",
      dev: "Dev mode: a dev user, the Astria sandbox, no Telegram", error: "Something went wrong",
      astriaRefused: (d) => `The AI service refused it: ${d}.`,
      deleteData: "Delete my data", deleteTitle: "Delete everything?", deleteText: "Your models (also on Astria), images, credits and history will be gone for good.", deleteYes: "Delete", deleted: "All your data is deleted.",
      ideas: ["Portrait in a sunlit studio, film photo", "Astronaut on the moon", "Watercolor painting in Paris", "Cyberpunk city at night, neon"],
      reasons: { name_empty: "The name can't be empty.", name_too_long: "The name is too long (40 characters at most).", prompt_empty: "Describe the picture first.", prompt_too_long: "The description is too long (600 characters at most).", photos_lost: "The photos were lost in a server restart. Please upload them again.", photos_unavailable: "The photos are no longer available. Please upload them again.", duplicate_photos: "Two of the photos are the same picture. Pick 4 different ones.", astria_unavailable: "The AI service is unavailable right now. Please try later." },
    },
    ru: {
      myModels: "Мои модели", credits: (n) => `${n} ${plural(n, "кредит", "кредита", "кредитов")}`, newModel: "Новая модель",
      createModel: "Создать модель", noModels: "Пока нет моделей",
      noModelsText: "Загрузите 4 своих фото, и мы обучим вашу персональную ИИ-модель.",
      ready: "Готова", training: "Обучается", failed: "Ошибка", minutes: (m) => `осталось около ${m} мин`, soon: "почти готово…",
      starting: "начинается…", closeHint: "Приложение можно закрыть: мы напишем в чат, когда модель будет готова.",
      photos: "Фото", photoN: (n) => `Фото ${n}`, photoTips: "Лицо хорошо видно, разные ракурсы и свет, в кадре только вы, без тёмных очков.",
      name: "Название", namePh: "например, Я, лето 2026", who: "Кто на фото",
      classes: { man: "Мужчина", woman: "Женщина", person: "Человек", boy: "Мальчик", girl: "Девочка", dog: "Собака", cat: "Кошка" },
      startTraining: (c) => `Начать обучение · ${c}`, needPhotos: (n) => `Добавьте ещё ${n} фото`,
      needName: "Назовите модель", needClass: "Выберите, кто на фото", notEnough: "Недостаточно кредитов",
      notEnoughText: (need, have) => `Стоимость: ${need}; у вас: ${have}.`, costLine: (c, have) => `Обучение стоит ${c}; у вас ${have}.`,
      notImage: "Это не фото. Выберите JPEG, PNG или WebP.", tooSmall: (w, h) => `Слишком маленькое (${w}×${h}). Нужно от 512 px по каждой стороне.`,
      tooBig: "Фото слишком большое. Выберите другое.", tapRetry: "Нажмите, чтобы выбрать другое", duplicate: "Это фото уже выбрано.",
      uploading: (p) => `Загрузка… ${p}%`, started: "Обучение началось", genFor: "Создать", promptPh: "Опишите сцену…",
      generate: (c) => `Создать · ${c}`, genCost: (c, have) => `Генерация стоит ${c}; у вас ${have}.`,
      generating: "Создаётся…", firstImages: "Здесь появятся ваши изображения", firstImagesText: "Опишите сцену выше или начните с одной из идей.",
      trainingTitle: "Модель обучается", failedTitle: "Не удалось обучить", refunded: "Кредит возвращён.",
      genFailed: "Ошибка · возвращено", loadFailed: "Не удалось загрузить", tryAgain: "Повторить", offline: "Нет связи. Попробуйте ещё раз.",
      openInTelegram: "Откройте приложение из бота в Telegram.", download: "Скачать", share: "Поделиться", of: "из",
      dev: "Режим разработки: тестовый пользователь, песочница Astria, без Telegram", error: "Что-то пошло не так",
      astriaRefused: (d) => `Сервис ИИ отклонил запрос: ${d}.`,
      deleteData: "Удалить мои данные", deleteTitle: "Удалить всё?", deleteText: "Ваши модели (и на Astria), изображения, кредиты и история исчезнут навсегда.", deleteYes: "Удалить", deleted: "Все ваши данные удалены.",
      ideas: ["Портрет в солнечной студии, плёнка", "Космонавт на Луне", "Акварель, Париж", "Киберпанк-город ночью, неон"],
      reasons: { name_empty: "Название не может быть пустым.", name_too_long: "Слишком длинное название (до 40 символов).", prompt_empty: "Сначала опишите картинку.", prompt_too_long: "Слишком длинное описание (до 600 символов).", photos_lost: "Фото потерялись при перезапуске сервера. Загрузите их заново.", photos_unavailable: "Фото больше недоступны. Загрузите их заново.", duplicate_photos: "Два фото — один и тот же снимок. Выберите 4 разных.", astria_unavailable: "Сервис ИИ сейчас недоступен. Попробуйте позже." },
    },
  };
  function plural(n, one, few, many) {
    const a = n % 10, b = n % 100;
    return a === 1 && b !== 11 ? one : a >= 2 && a <= 4 && (b < 12 || b > 14) ? few : many;
  }
  const initData = (tg && tg.initData) || "";
  const webUser = (tg && tg.initDataUnsafe && tg.initDataUnsafe.user) || {};
  const lang = ((webUser.language_code || (APP.dev ? navigator.language : "") || "en").slice(0, 2).toLowerCase() === "ru") ? "ru" : "en";
  const T = TEXTS[lang];
  document.documentElement.lang = lang;

  /* ---------- Telegram chrome ---------- */
  function applyTheme() {
    const html = document.documentElement;
    html.dataset.scheme = (tg && tg.colorScheme) || "light";
    html.dataset.platform = tg && ["ios", "macos"].includes(tg.platform) ? "ios" : "base";
    if (/Telegram-Android\/.*LOW\)/.test(navigator.userAgent)) html.classList.add("low");
    if (at("6.1")) { tg.setHeaderColor("secondary_bg_color"); tg.setBackgroundColor("secondary_bg_color"); }
    if (at("7.10")) tg.setBottomBarColor("secondary_bg_color");
  }
  const haptic = {
    ok: () => at("6.1") && tg.HapticFeedback.notificationOccurred("success"),
    err: () => at("6.1") && tg.HapticFeedback.notificationOccurred("error"),
    warn: () => at("6.1") && tg.HapticFeedback.notificationOccurred("warning"),
    light: () => at("6.1") && tg.HapticFeedback.impactOccurred("light"),
    pick: () => at("6.1") && tg.HapticFeedback.selectionChanged(),
  };
  let mainHandler = null, backHandler = null;
  function mainButton(text, onClick, { active = true, progress = false } = {}) {
    const mb = tg && tg.MainButton;
    if (!mb) return;
    if (mainHandler) mb.offClick(mainHandler);
    mainHandler = null;
    if (!text) { mb.hideProgress(); mb.hide(); return; }
    mainHandler = () => { if (mb.isActive) onClick(); };
    mb.setParams({ text, is_active: active, is_visible: true });
    progress ? mb.showProgress(false) : mb.hideProgress();
    mb.onClick(mainHandler);
  }
  function backButton(onClick) {
    const bb = tg && tg.BackButton;
    if (!bb) return;
    if (backHandler) bb.offClick(backHandler);
    backHandler = onClick;
    if (onClick) { bb.onClick(onClick); bb.show(); } else bb.hide();
  }
  function popup(title, message) {
    try { if (at("6.2")) return tg.showPopup({ title: title.slice(0, 64), message: message.slice(0, 256), buttons: [{ type: "ok" }] }); } catch (e) { /* one already open */ }
    snack(message);
  }
  let snackTimer;
  function snack(text) {
    const el = $("#snack");
    el.textContent = text; el.hidden = false;
    clearTimeout(snackTimer); snackTimer = setTimeout(() => { el.hidden = true; }, 2500);
  }
  function closingConfirmation(on) {
    if (!at("6.2")) return;
    on ? tg.enableClosingConfirmation() : tg.disableClosingConfirmation();
  }

  /* ---------- API ---------- */
  const auth = initData ? `tma ${initData}` : "tma dev";
  async function api(path, options = {}) {
    let response;
    try {
      response = await fetch(`/api/bot${path}`, { ...options, headers: { Authorization: auth, ...(options.headers || {}) } });
    } catch (e) { throw { code: "offline", message: T.offline }; }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw { status: response.status, ...(body.error || { message: T.error }) };
    return body;
  }
  function errorText(e) { return (e.reason && T.reasons[e.reason]) || e.message || T.error; }
  /* A stored failure (a reason code, or "astria: <what Astria said>") in the user's words. */
  function failureText(error) {
    if (error && T.reasons[error]) return T.reasons[error];
    if (error && error.startsWith("astria: ")) return T.astriaRefused(error.slice(8));
    return T.error;
  }
  let me = null;
  async function loadMe() { me = await api("/me"); return me; }

  /* ---------- routing ---------- */
  let timer = null, leave = null;
  function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }
  function route() {
    clearTimeout(timer); timer = null;
    if (leave) { leave(); leave = null; }
    closeViewer(false);
    const m = location.hash.match(/^#\/m\/(\d+)/);
    if (location.hash === "#/new") return newModel();
    if (m) return modelScreen(+m[1]);
    return home();
  }
  function poll(fn, ms = 4000) { clearTimeout(timer); timer = setTimeout(fn, ms); }
  const COLORS = ["#e17076", "#faa774", "#a695e7", "#7bc862", "#6ec9cb", "#65aadd", "#ee7aae"];
  const avatar = (m) => `<div class="ava" style="background:${COLORS[m.id % COLORS.length]}" aria-hidden="true">${esc((m.name || "?").trim().charAt(0).toUpperCase())}</div>`;
  function eta(m) { return m.minutes_left == null ? T.starting : m.minutes_left > 0 ? T.minutes(m.minutes_left) : T.soon; }
  function failedScreen(message, retry) {
    screen.innerHTML = `<div class="empty"><div class="art" aria-hidden="true">⚠️</div><h2>${esc(T.loadFailed)}</h2><p>${esc(message)}</p><button class="btn" id="retry">${esc(T.tryAgain)}</button></div>`;
    $("#retry").onclick = retry;
    mainButton(null);
  }

  /* ---------- Models (home) ---------- */
  async function home() {
    backButton(null);
    let models;
    try { [, { models }] = await Promise.all([loadMe(), api("/models")]); } catch (e) { return failedScreen(errorText(e), home); }
    if (location.hash && location.hash !== "#/") return;
    const low = me.credits < me.prices.train;
    const cells = models.map((m) => {
      const right = m.status === "ready" ? `<span class="chev" aria-hidden="true">›</span>`
        : m.status === "training" ? `<span class="badge">⏳ ${esc(T.training)}</span>` : `<span class="badge bad">⚠️ ${esc(T.failed)}</span>`;
      const sub = m.status === "training" ? eta(m) : m.status === "failed" ? esc(failureText(m.error)) : `${esc(T.classes[m.class_name] || m.class_name)} · ${esc(T.ready)}`;
      return `<button class="cell" data-id="${m.id}" aria-label="${esc(m.name)}">${avatar(m)}<div class="grow"><div class="t1">${esc(m.name)}</div><div class="t2">${sub}</div></div>${right}${m.status === "training" ? '<div class="bar"><i></i></div>' : ""}</button>`;
    }).join("");
    screen.innerHTML = `<div class="top"><h1>${esc(T.myModels)}</h1><button class="pill${low ? " low" : ""}" id="credits">⭐ ${esc(T.credits(me.credits))}</button></div>` +
      (APP.dev && !initData ? `<p class="foot" style="padding-top:0">${esc(T.dev)}</p>` : "") +
      (models.length ? `<section class="list" style="margin-top:8px">${cells}</section>${models.some((m) => m.status === "training") ? `<p class="foot">${esc(T.closeHint)}</p>` : ""}`
        : `<div class="empty"><div class="art" aria-hidden="true">📸</div><h2>${esc(T.noModels)}</h2><p>${esc(T.noModelsText)}</p></div>`);
    screen.insertAdjacentHTML("beforeend", `<div class="list" style="margin-top:24px"><button class="cell danger" id="delete">${esc(T.deleteData)}</button></div>`);
    $("#delete").onclick = confirmDelete;
    screen.querySelectorAll(".cell[data-id]").forEach((el) => { el.onclick = () => go(`#/m/${el.dataset.id}`); });
    $("#credits").onclick = () => popup(T.credits(me.credits), T.costLine(T.credits(me.prices.train), T.credits(me.credits)));
    mainButton(models.length ? T.newModel : T.createModel, () => go("#/new"));
    if (models.some((m) => m.status === "training")) poll(home);
  }

  function confirmDelete() {
    const run = async () => {
      try { await api("/me", { method: "DELETE" }); haptic.ok(); snack(T.deleted); home(); } catch (e) { haptic.err(); popup(T.error, errorText(e)); }
    };
    if (!at("6.2")) return run();
    haptic.warn();
    try {
      tg.showPopup({ title: T.deleteTitle, message: T.deleteText, buttons: [{ id: "delete", type: "destructive", text: T.deleteYes }, { type: "cancel" }] },
        (id) => { if (id === "delete") run(); });
    } catch (e) { /* a popup is already open */ }
  }

  /* ---------- New model ---------- */
  const MIN_SIDE = 512, MAX_SIDE = 2048, CLASSES = ["man", "woman", "person", "boy", "girl", "dog", "cat"];
  async function prepare(file) {
    if (file.type && !/^image\//.test(file.type)) throw { text: T.notImage };
    if (file.size > 40 * 1024 * 1024) throw { text: T.tooBig };
    let src;
    try { src = await createImageBitmap(file, { imageOrientation: "from-image" }); } catch (e) {
      const url = URL.createObjectURL(file); src = new Image(); src.src = url;
      try { await src.decode(); } catch (e2) { throw { text: T.notImage }; } finally { URL.revokeObjectURL(url); }
    }
    const w0 = src.width || src.naturalWidth, h0 = src.height || src.naturalHeight;
    if (Math.min(w0, h0) < MIN_SIDE) { if (src.close) src.close(); throw { text: T.tooSmall(w0, h0) }; }
    const s = Math.min(1, MAX_SIDE / Math.max(w0, h0)), w = Math.round(w0 * s), h = Math.round(h0 * s);
    const c = document.createElement("canvas"); c.width = w; c.height = h;
    const g = c.getContext("2d"); g.imageSmoothingQuality = "high"; g.drawImage(src, 0, 0, w, h);
    if (src.close) src.close();
    const blob = await new Promise((ok) => c.toBlob(ok, "image/jpeg", 0.88));
    c.width = c.height = 0;
    return blob;
  }
  function newModel() {
    backButton(() => go("#/"));
    const draft = { slots: [null, null, null, null], name: "", cls: null, busy: false, keys: [null, null, null, null] };
    const credits = me ? me.credits : 0, price = me ? me.prices.train : 1;
    screen.innerHTML = `<div class="top"><h1>${esc(T.newModel)}</h1></div>
      <div class="sh" id="ph"></div><div class="slots">${[1, 2, 3, 4].map((n) => `<label class="slot" data-n="${n - 1}"><input class="vh" type="file" accept="image/*" aria-label="${esc(T.photoN(n))}"><span class="plus" aria-hidden="true">+</span><span>${esc(T.photoN(n))}</span></label>`).join("")}</div>
      <p class="foot">${esc(T.photoTips)}</p>
      <div class="sh">${esc(T.name)}</div><div class="card field"><input id="name" maxlength="40" enterkeyhint="done" autocomplete="off" placeholder="${esc(T.namePh)}" aria-label="${esc(T.name)}"><span class="count" id="count">0/40</span></div>
      <div class="sh">${esc(T.who)}</div><div class="chips" role="radiogroup">${CLASSES.map((c) => `<button class="chip" role="radio" aria-pressed="false" data-c="${c}">${esc(T.classes[c])}</button>`).join("")}</div>
      <p class="foot" id="hint"></p>`;
    const slots = [...screen.querySelectorAll(".slot")];
    function paint(i) {
      const el = slots[i], st = draft.slots[i], n = i + 1;
      el.className = "slot" + (st && st.blob ? " done" : st && st.error ? " err" : "");
      const input = `<input class="vh" type="file" accept="image/*" aria-label="${esc(T.photoN(n))}">`;
      if (!st) el.innerHTML = `${input}<span class="plus" aria-hidden="true">+</span><span>${esc(T.photoN(n))}</span>`;
      else if (st.busy) el.innerHTML = `${input}<div class="spin" role="progressbar" aria-label="${esc(T.photoN(n))}"></div>`;
      else if (st.error) el.innerHTML = `${input}<span>${esc(st.error)}</span><span>${esc(T.tapRetry)}</span>`;
      else el.innerHTML = `${input}<img src="${st.url}" alt="${esc(T.photoN(n))}"><span class="ok" aria-hidden="true">✓</span><button class="x" type="button" aria-label="✕ ${esc(T.photoN(n))}"><span>✕</span></button>`;
      bindSlot(i);
    }
    function bindSlot(i) {
      const el = slots[i];
      $("input", el).onchange = async (ev) => {
        const file = ev.target.files && ev.target.files[0];
        ev.target.value = "";
        if (!file) return;
        const key = `${file.name}:${file.size}:${file.lastModified}`;
        if (draft.keys.some((k, j) => k === key && j !== i)) { haptic.warn(); draft.slots[i] = { error: T.duplicate }; paint(i); return update(); }
        if (draft.slots[i] && draft.slots[i].url) URL.revokeObjectURL(draft.slots[i].url);
        draft.slots[i] = { busy: true }; paint(i);
        try {
          const blob = await prepare(file);
          draft.slots[i] = { blob, url: URL.createObjectURL(blob) }; draft.keys[i] = key;
          haptic.light();
        } catch (e) { draft.slots[i] = { error: e.text || T.notImage }; draft.keys[i] = null; haptic.warn(); }
        paint(i); update();
      };
      const x = $(".x", el);
      if (x) x.onclick = (ev) => { ev.preventDefault(); URL.revokeObjectURL(draft.slots[i].url); draft.slots[i] = null; draft.keys[i] = null; paint(i); update(); };
    }
    slots.forEach((_, i) => bindSlot(i));
    const name = $("#name");
    name.oninput = () => { draft.name = name.value; $("#count").textContent = `${name.value.length}/40`; update(); };
    name.onkeydown = (e) => { if (e.key === "Enter") name.blur(); };
    screen.querySelectorAll(".chip").forEach((chip) => {
      chip.onclick = () => {
        if (draft.cls !== chip.dataset.c) haptic.pick();
        draft.cls = chip.dataset.c;
        screen.querySelectorAll(".chip").forEach((c) => c.setAttribute("aria-pressed", String(c === chip)));
        update();
      };
    });
    function update(progress) {
      const have = draft.slots.filter((s) => s && s.blob).length;
      $("#ph").textContent = `${T.photos} · ${have}/4`;
      const missing = have < 4 ? T.needPhotos(4 - have) : !draft.name.trim() ? T.needName : !draft.cls ? T.needClass : null;
      const poor = credits < price;
      const hint = $("#hint");
      hint.textContent = poor ? T.notEnoughText(T.credits(price), T.credits(credits)) : missing || T.costLine(T.credits(price), T.credits(credits));
      hint.className = "foot" + (poor ? " warn" : "");
      closingConfirmation(draft.slots.some((s) => s && s.blob));
      if (poor) return mainButton(T.notEnough, () => haptic.err(), { active: false });
      mainButton(progress != null ? T.uploading(progress) : T.startTraining(T.credits(price)), submit, { active: !missing && !draft.busy, progress: progress != null });
    }
    function submit() {
      if (draft.busy) return;
      draft.busy = true; update(0);
      const form = new FormData();
      form.append("name", draft.name.trim()); form.append("class_name", draft.cls);
      draft.slots.forEach((s, i) => form.append("images", s.blob, `photo${i + 1}.jpg`));
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/bot/train-model"); xhr.timeout = 120000;
      xhr.setRequestHeader("Authorization", auth);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable && draft.busy) update(Math.round((e.loaded / e.total) * 100)); };
      xhr.onload = () => {
        draft.busy = false;
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 201) {
          haptic.ok(); closingConfirmation(false); snack(T.started);
          draft.slots.forEach((s) => s && s.url && URL.revokeObjectURL(s.url));
          return go("#/");
        }
        haptic.err(); update(); popup(T.error, errorText(body.error || {}));
      };
      xhr.onerror = xhr.ontimeout = () => { draft.busy = false; haptic.err(); update(); popup(T.error, T.offline); };
      xhr.send(form);
    }
    leave = () => { closingConfirmation(false); };
    update();
  }

  /* ---------- Model (gallery + prompt) ---------- */
  async function modelScreen(id) {
    backButton(() => go("#/"));
    let model, page;
    try { [, { model }, page] = await Promise.all([loadMe(), api(`/models/${id}`), api(`/models/${id}/prompts`)]); } catch (e) {
      if (e.status === 404) return go("#/");
      return failedScreen(errorText(e), () => modelScreen(id));
    }
    if (location.hash !== `#/m/${id}`) return;
    const gens = page.generations;
    let next = page.next_before;
    const head = `<div class="mhead">${avatar(model)}<div class="grow"><h2 class="t1">${esc(model.name)}</h2><div class="status${model.status === "failed" ? " bad" : ""}">${esc(T.classes[model.class_name] || model.class_name)} · ${esc(model.status === "ready" ? T.ready : model.status === "training" ? `${T.training}, ${eta(model)}` : T.failed)}</div></div></div>`;
    if (model.status !== "ready") {
      const failed = model.status === "failed";
      screen.innerHTML = head + `<div class="empty"><div class="art" aria-hidden="true">${failed ? "⚠️" : "⏳"}</div><h2>${esc(failed ? T.failedTitle : T.trainingTitle)}</h2><p>${esc(failed ? `${failureText(model.error)} ${T.refunded}` : T.closeHint)}</p></div>`;
      mainButton(failed ? T.newModel : null, () => go("#/new"));
      if (!failed) poll(() => modelScreen(id));
      return;
    }
    const price = me.prices.generate;
    screen.innerHTML = head + `<div class="sh">${esc(T.genFor)}</div><div class="card"><textarea id="prompt" rows="2" maxlength="600" placeholder="${esc(T.promptPh)}" aria-label="${esc(T.promptPh)}"></textarea></div>
      <div class="chips">${T.ideas.map((i) => `<button class="chip" data-idea="${esc(i)}">${esc(i)}</button>`).join("")}</div>
      <p class="foot${me.credits < price ? " warn" : ""}" id="cost">${esc(T.genCost(T.credits(price), T.credits(me.credits)))}</p>
      <div id="gallery"></div><div class="sentinel" id="more"></div>`;
    const prompt = $("#prompt");
    const grow = () => { prompt.style.height = "auto"; prompt.style.height = `${Math.min(prompt.scrollHeight, 110)}px`; };
    prompt.oninput = () => { grow(); update(); };
    prompt.onfocus = () => setTimeout(() => prompt.scrollIntoView({ block: "center", behavior: "smooth" }), 300);
    screen.querySelectorAll("[data-idea]").forEach((b) => { b.onclick = () => { prompt.value = b.dataset.idea; haptic.pick(); grow(); update(); }; });
    let busy = false;
    function update() {
      if (me.credits < price) return mainButton(T.notEnough, () => haptic.err(), { active: false });
      mainButton(T.generate(T.credits(price)), send, { active: !!prompt.value.trim() && !busy, progress: busy });
    }
    async function send() {
      busy = true; update();
      try {
        const result = await api("/generate", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ model_id: id, prompt: prompt.value }) });
        me.credits = result.credits; gens.unshift(result.generation);
        prompt.value = ""; grow(); prompt.blur(); haptic.ok();
        $("#cost").textContent = T.genCost(T.credits(price), T.credits(me.credits));
        render(); refresh();
      } catch (e) { haptic.err(); popup(T.error, errorText(e)); }
      busy = false; update();
    }
    const images = () => gens.filter((g) => g.status === "done").flatMap((g) => g.images.map((url) => ({ url, prompt: g.prompt })));
    function render() {
      const gallery = $("#gallery");
      if (!gens.length) {
        gallery.innerHTML = `<div class="empty"><div class="art" aria-hidden="true">🖼️</div><h2>${esc(T.firstImages)}</h2><p>${esc(T.firstImagesText)}</p></div>`;
        return;
      }
      let n = 0;
      gallery.innerHTML = `<div class="grid">${gens.map((g) => {
        if (g.status === "processing") return Array.from({ length: g.num_images }, () => `<div class="tile pend" role="img" aria-label="${esc(T.generating)}"><span class="cap">${esc(T.generating)}</span></div>`).join("");
        if (g.status === "failed") return `<div class="tile fail" role="img" aria-label="${esc(T.genFailed)}">⚠️<br>${esc(T.genFailed)}</div>`;
        return g.images.map((url) => `<button class="tile" data-i="${n++}"><img src="${esc(url)}" loading="lazy" decoding="async" width="256" height="256" alt="${esc(g.prompt)}"></button>`).join("");
      }).join("")}</div>`;
      gallery.querySelectorAll("img").forEach((img) => { img.complete ? img.classList.add("in") : (img.onload = () => img.classList.add("in")); });
      gallery.querySelectorAll("[data-i]").forEach((b) => { b.onclick = () => openViewer(images(), +b.dataset.i); });
    }
    async function refresh() {
      if (!gens.some((g) => g.status === "processing")) return;
      poll(async () => {
        try {
          const fresh = await api(`/models/${id}/prompts?limit=${Math.max(gens.length, 1)}`);
          if (location.hash !== `#/m/${id}`) return;
          const wasPending = gens.filter((g) => g.status === "processing").length;
          fresh.generations.forEach((f) => { const i = gens.findIndex((g) => g.id === f.id); if (i >= 0) gens[i] = f; });
          if (gens.filter((g) => g.status === "processing").length < wasPending) haptic.ok();
          render();
        } catch (e) { /* try again on the next tick */ }
        refresh();
      });
    }
    const observer = new IntersectionObserver(async (entries) => {
      if (!entries[0].isIntersecting || !next) return;
      const before = next; next = null;
      try { const more = await api(`/models/${id}/prompts?before=${before}`); gens.push(...more.generations); next = more.next_before; render(); } catch (e) { next = before; }
    }, { rootMargin: "100% 0px" });
    observer.observe($("#more"));
    leave = () => observer.disconnect();
    render(); update(); refresh();
  }

  /* ---------- Viewer ---------- */
  let viewerOpen = false;
  function openViewer(items, index) {
    const v = $("#viewer");
    viewerOpen = true;
    v.innerHTML = `<div class="vtrack" id="vtrack">${items.map((it, i) => `<div class="vslide"><img ${Math.abs(i - index) <= 1 ? "src" : "data-src"}="${esc(it.url)}" alt="${esc(it.prompt)}"></div>`).join("")}</div>
      <div class="vprompt" id="vprompt"></div>
      <div class="vbar"><span class="vcount" id="vcount"></span><button id="vshare">${esc(T.share)}</button></div>`;
    v.hidden = false;
    const track = $("#vtrack");
    let current = index;
    const show = (i) => {
      current = i;
      $("#vcount").textContent = `${i + 1} ${T.of} ${items.length}`;
      $("#vprompt").textContent = items[i].prompt;
      [i - 1, i, i + 1].forEach((j) => { const img = track.children[j] && $("img", track.children[j]); if (img && img.dataset.src) { img.src = img.dataset.src; delete img.dataset.src; } });
    };
    requestAnimationFrame(() => { track.scrollLeft = index * track.clientWidth; show(index); });
    track.onscroll = () => { const i = Math.round(track.scrollLeft / track.clientWidth); if (i !== current && items[i]) show(i); };
    $("#vshare").onclick = () => {
      const url = items[current].url;
      if (tg && typeof tg.openTelegramLink === "function" && at("6.1")) tg.openTelegramLink(`https://t.me/share/url?url=${encodeURIComponent(url)}`);
      else window.open(url, "_blank", "noopener");
    };
    if (at("6.1")) { tg.setHeaderColor("#000000"); tg.setBackgroundColor("#000000"); }
    if (at("7.10")) tg.setBottomBarColor("#000000");
    if (at("7.7")) tg.disableVerticalSwipes();
    mainButton(T.download, () => {
      const url = items[current].url;
      if (at("8.0")) tg.downloadFile({ url, file_name: `ai-photo-${current + 1}.jpg` });
      else if (tg && tg.openLink) tg.openLink(url); else window.open(url, "_blank", "noopener");
    });
    backButton(() => closeViewer(true));
  }
  function closeViewer(rerender) {
    if (!viewerOpen) return;
    viewerOpen = false;
    $("#viewer").hidden = true; $("#viewer").innerHTML = "";
    applyTheme();
    if (at("7.7")) tg.enableVerticalSwipes();
    if (rerender) { backButton(() => go("#/")); const text = $("#prompt"); if (text) text.dispatchEvent(new Event("input")); }
  }

  /* ---------- start ---------- */
  applyTheme();
  if (tg && typeof tg.onEvent === "function") tg.onEvent("themeChanged", applyTheme);
  if (!initData && !APP.dev) {
    screen.innerHTML = `<div class="empty"><div class="art" aria-hidden="true">✈️</div><h2>${esc(T.openInTelegram)}</h2></div>`;
  } else {
    window.addEventListener("hashchange", route);
    route();
  }
  if (tg) { tg.ready(); tg.expand(); }
})();
