/* Dev mode's Telegram client: it answers the Mini App over Telegram's iframe protocol (what
   web.telegram.org does) so the app runs under Telegram's real script in a plain browser:
   it draws the header with Back/Close, the MainButton and popups from the app's events, and
   answers the theme, viewport and safe-area requests. */
(() => {
  "use strict";
  const theme = window.DEV.theme;
  const says = {
    en: { back: "‹ Back", close: "✕ Close", closed: "The Mini App was closed.", again: "Open it again",
      leave: "Close the app? Changes you made may be lost." },
    ru: { back: "‹ Назад", close: "✕ Закрыть", closed: "Мини-приложение закрыто.",
      again: "Открыть снова", leave: "Закрыть приложение? Изменения могут потеряться." },
  }[window.DEV.lang] || {};
  const frame = document.getElementById("app");
  const root = document.documentElement.style;
  const $ = (id) => document.getElementById(id);
  const state = { back: false, main: {}, closing: false };

  const send = (eventType, eventData) => {
    frame.contentWindow.postMessage(JSON.stringify({ eventType, eventData }), location.origin);
  };
  const color = (value) => theme[value] || value;
  const header = (value) => {
    const hex = color(value);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    root.setProperty("--head", hex); // and a readable title on it, as Telegram picks one
    root.setProperty("--head-text", 0.299 * r + 0.587 * g + 0.114 * b < 128 ? "#fff" : "#000");
  };
  const paint = () => {
    root.setProperty("--bg", theme.bg_color);
    root.setProperty("--text", theme.text_color);
    root.setProperty("--link", theme.link_color);
    root.setProperty("--danger", theme.destructive_text_color);
  };
  const viewport = () => send("viewport_changed", {
    height: frame.clientHeight, is_state_stable: true, is_expanded: true,
  });

  function drawMain() {
    const m = state.main, button = $("main");
    $("bottom").hidden = !m.is_visible;
    button.textContent = m.text || "";
    button.disabled = m.is_active === false;
    button.classList.toggle("busy", !!m.is_progress_visible);
    button.style.background = m.color || theme.button_color;
    button.style.color = m.text_color || theme.button_text_color;
    viewport();
  }

  function showPopup(params) {
    const box = $("popup");
    box.querySelector("h3").textContent = params.title || "";
    box.querySelector("p").textContent = params.message;
    const nav = box.querySelector("nav");
    nav.innerHTML = "";
    const names = { ok: "OK", close: "Close", cancel: "Cancel" };
    for (const b of params.buttons) {
      const button = document.createElement("button");
      button.textContent = b.text || names[b.type] || "OK";
      button.className = b.type;
      button.onclick = () => {
        box.hidden = true;
        send("popup_closed", { button_id: b.id });
      };
      nav.append(button);
    }
    box.hidden = false;
  }

  const handlers = {
    web_app_request_theme: () => send("theme_changed", { theme_params: theme }),
    web_app_request_viewport: viewport,
    web_app_request_safe_area: () => send("safe_area_changed", { top: 0, bottom: 0, left: 0, right: 0 }),
    web_app_request_content_safe_area: () => {
      send("content_safe_area_changed", { top: 0, bottom: 0, left: 0, right: 0 });
    },
    web_app_setup_main_button: (data) => { state.main = data; drawMain(); },
    web_app_setup_back_button: (data) => {
      state.back = data.is_visible;
      $("back").textContent = state.back ? says.back : says.close;
    },
    web_app_set_header_color: (data) => header(data.color_key || data.color),
    web_app_set_background_color: (data) => root.setProperty("--bg", color(data.color)),
    web_app_set_bottom_bar_color: (data) => root.setProperty("--bar", color(data.color)),
    web_app_setup_closing_behavior: (data) => { state.closing = data.need_confirmation; },
    web_app_open_popup: showPopup,
    web_app_open_link: (data) => window.open(data.url, "_blank", "noopener"),
    web_app_open_tg_link: (data) => window.open(`https://t.me${data.path_full}`, "_blank", "noopener"),
    web_app_request_file_download: (data) => {
      const a = document.createElement("a");
      a.href = data.url;
      a.download = data.file_name;
      a.click();
      send("file_download_requested", { status: "downloading" });
    },
    web_app_close: () => {
      $("phone").hidden = true;
      $("closed").hidden = false;
    },
  };

  window.addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow) return;
    let message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    const handler = handlers[message.eventType];
    if (handler) handler(message.eventData || {});
  });
  $("main").onclick = () => { if (state.main.is_active !== false) send("main_button_pressed"); };
  $("back").onclick = () => {
    if (state.back) send("back_button_pressed");
    else if (!state.closing || confirm(says.leave)) {
      handlers.web_app_close();
    }
  };
  window.addEventListener("resize", viewport);
  $("dev").onclick = () => frame.contentWindow.location.reload(); // a reload, as Telegram's menu
  $("reopen").onclick = () => location.reload();
  $("reopen").textContent = says.again;
  $("closed").querySelector("p").textContent = says.closed;
  $("back").textContent = says.close;
  header("bg_color");
  root.setProperty("--bar", theme.bg_color);
  paint();
})();
