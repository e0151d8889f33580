/* A stand-in for telegram-web-app.js outside Telegram: dev mode in a plain browser, and the
   browser tests (which set window.TG_FAKE first with signed initData and a theme). It draws
   Telegram's chrome — header with Back, MainButton, popups — and records calls in TG_CALLS.
   As in Telegram, the page's fixed layers end where that chrome begins. */
(() => {
  "use strict";
  if (window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData) return;
  const cfg = window.TG_FAKE || {};
  const calls = (window.TG_CALLS = []);
  const log = (name, arg) => calls.push(arg === undefined ? [name] : [name, arg]);
  const theme = cfg.themeParams || { bg_color: "#ffffff", secondary_bg_color: "#efeff4", text_color: "#000000", hint_color: "#8e8e93", link_color: "#007aff", button_color: "#007aff", button_text_color: "#ffffff", section_bg_color: "#ffffff", section_header_text_color: "#6d6d72", subtitle_text_color: "#8e8e93", destructive_text_color: "#ff3b30", accent_text_color: "#007aff", section_separator_color: "#c8c7cc" };
  const root = document.documentElement;
  Object.entries(theme).forEach(([k, v]) => root.style.setProperty(`--tg-theme-${k.replace(/_/g, "-")}`, v));
  const hex = (theme.bg_color || "#ffffff").replace("#", "");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const scheme = cfg.colorScheme || (0.299 * r + 0.587 * g + 0.114 * b < 128 ? "dark" : "light");
  const params = new URLSearchParams(cfg.initData || "");
  let user = {};
  try { user = JSON.parse(params.get("user") || "{}"); } catch (e) { /* none */ }
  const handlers = {};
  const css = `#tgh,#tgm{position:fixed;left:0;right:0;z-index:50;font:600 17px system-ui,-apple-system,sans-serif;display:flex;align-items:center}
    #tgh{top:0;height:48px;padding:0 12px;background:var(--tg-theme-secondary-bg-color);color:var(--tg-theme-text-color);border-bottom:.5px solid var(--tg-theme-section-separator-color,#0002)}
    #tgh b{flex:1;text-align:center;margin-right:64px}#tgh button{width:64px;border:0;background:none;color:var(--tg-theme-link-color);font:inherit;text-align:left;padding:0}
    #tgm{bottom:0;padding:8px 16px 12px;background:var(--tg-theme-secondary-bg-color)}
    #tgm button{flex:1;height:50px;border:0;border-radius:12px;background:var(--tg-theme-button-color);color:var(--tg-theme-button-text-color);font:inherit}
    #tgm button[disabled]{opacity:.45}html{padding-top:48px}html.tgm{padding-bottom:70px}
    #tgp{position:fixed;inset:0;z-index:60;background:#0006;display:grid;place-items:center}
    #tgp div{width:270px;border-radius:14px;background:var(--tg-theme-bg-color);color:var(--tg-theme-text-color);text-align:center;font:15px system-ui,sans-serif;overflow:hidden}
    #tgp h3{margin:18px 16px 4px;font-size:17px}#tgp p{margin:0 16px 16px}#tgp button{width:100%;height:44px;border:0;border-top:.5px solid #8884;background:none;color:var(--tg-theme-link-color);font:600 17px system-ui,sans-serif}
    .viewer{top:48px!important}html.tgm .viewer{bottom:70px!important}
    .tgdev{position:fixed;top:0;left:0;z-index:51;background:#ff9500;color:#fff;font:600 10px system-ui;padding:2px 6px;border-bottom-right-radius:6px}`;
  function chrome() {
    const style = document.createElement("style"); style.textContent = css; document.head.appendChild(style);
    const head = document.createElement("div"); head.id = "tgh";
    head.innerHTML = `<button id="tgback" hidden>‹ Back</button><b>${cfg.title || "AI Photos"}</b>`;
    const main = document.createElement("div"); main.id = "tgm"; main.hidden = true;
    main.innerHTML = `<button id="tgmain" type="button"></button>`;
    document.body.append(head, main);
    if (!cfg.initData) { const tag = document.createElement("div"); tag.className = "tgdev"; tag.textContent = "DEV"; document.body.append(tag); }
    document.getElementById("tgback").onclick = () => (handlers.back || []).slice().forEach((f) => f());
    document.getElementById("tgmain").onclick = () => { if (MainButton.isActive) (handlers.main || []).slice().forEach((f) => f()); };
    paintMain(); paintBack();
  }
  const on = (k, f) => { (handlers[k] = handlers[k] || []).push(f); };
  const off = (k, f) => { handlers[k] = (handlers[k] || []).filter((x) => x !== f); };
  const MainButton = {
    text: "Continue", isVisible: false, isActive: true, isProgressVisible: false,
    setText(t) { this.text = t; paintMain(); return this; },
    setParams(p) { if ("text" in p) this.text = p.text; if ("is_active" in p) this.isActive = p.is_active; if ("is_visible" in p) this.isVisible = p.is_visible; paintMain(); return this; },
    show() { this.isVisible = true; paintMain(); return this; }, hide() { this.isVisible = false; paintMain(); return this; },
    enable() { this.isActive = true; paintMain(); return this; }, disable() { this.isActive = false; paintMain(); return this; },
    showProgress() { this.isProgressVisible = true; paintMain(); return this; }, hideProgress() { this.isProgressVisible = false; paintMain(); return this; },
    onClick(f) { on("main", f); return this; }, offClick(f) { off("main", f); return this; },
  };
  const BackButton = {
    isVisible: false, show() { this.isVisible = true; paintBack(); return this; }, hide() { this.isVisible = false; paintBack(); return this; },
    onClick(f) { on("back", f); return this; }, offClick(f) { off("back", f); return this; },
  };
  function paintMain() {
    const box = document.getElementById("tgm"), btn = document.getElementById("tgmain");
    if (!box) return;
    box.hidden = !MainButton.isVisible; root.classList.toggle("tgm", MainButton.isVisible);
    btn.textContent = MainButton.isProgressVisible ? `⏳ ${MainButton.text}` : MainButton.text;
    btn.disabled = !MainButton.isActive;
  }
  function paintBar(id, color) {
    const el = document.getElementById(id);
    if (!el) return;
    const dark = color === "#000000";
    el.style.background = color.startsWith("#") ? color : `var(--tg-theme-${color.replace(/_/g, "-")})`;
    if (id === "tgh") el.style.color = dark ? "#fff" : "";
  }
  function paintBack() { const b = document.getElementById("tgback"); if (b) b.hidden = !BackButton.isVisible; }
  const version = cfg.version || "8.0";
  const newer = (v) => { const a = version.split(".").map(Number), c = String(v).split(".").map(Number); return a[0] !== c[0] ? a[0] > c[0] : (a[1] || 0) >= (c[1] || 0); };
  window.Telegram = {
    WebApp: {
      initData: cfg.initData || "", initDataUnsafe: { user, auth_date: params.get("auth_date") }, version, platform: cfg.platform || "unknown",
      colorScheme: scheme, themeParams: theme, isExpanded: true, MainButton, BackButton,
      isVersionAtLeast: newer, ready() { log("ready"); }, expand() { log("expand"); }, close() { log("close"); },
      setHeaderColor(c) { log("setHeaderColor", c); paintBar("tgh", c); }, setBackgroundColor(c) { log("setBackgroundColor", c); },
      setBottomBarColor(c) { log("setBottomBarColor", c); paintBar("tgm", c); },
      enableClosingConfirmation() { log("enableClosingConfirmation"); }, disableClosingConfirmation() { log("disableClosingConfirmation"); },
      enableVerticalSwipes() { log("enableVerticalSwipes"); }, disableVerticalSwipes() { log("disableVerticalSwipes"); },
      onEvent(e, f) { on(e, f); }, offEvent(e, f) { off(e, f); },
      openLink(u) { log("openLink", u); }, openTelegramLink(u) { log("openTelegramLink", u); }, downloadFile(p) { log("downloadFile", p); },
      HapticFeedback: {
        impactOccurred(s) { log("haptic", `impact:${s}`); return this; }, notificationOccurred(s) { log("haptic", s); return this; }, selectionChanged() { log("haptic", "selection"); return this; },
      },
      showPopup(p, cb) {
        log("showPopup", p);
        const box = document.createElement("div"); box.id = "tgp";
        box.innerHTML = `<div role="dialog"><h3></h3><p></p></div>`;
        box.querySelector("h3").textContent = p.title || ""; box.querySelector("p").textContent = p.message;
        (p.buttons || [{ type: "ok" }]).forEach((b) => {
          const btn = document.createElement("button");
          btn.textContent = b.text || { ok: "OK", close: "Close", cancel: "Cancel" }[b.type] || "OK";
          if (b.type === "destructive") btn.style.color = "var(--tg-theme-destructive-text-color, #e53935)";
          btn.onclick = () => { box.remove(); if (cb) cb(b.id || b.type); };
          box.firstChild.append(btn);
        });
        document.body.append(box);
      },
      showAlert(m, cb) { this.showPopup({ message: m }, cb); },
    },
  };
  if (document.body) chrome(); else document.addEventListener("DOMContentLoaded", chrome);
})();
