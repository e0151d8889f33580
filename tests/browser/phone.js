/* Telegram's mobile client, as a Mini App sees it: the page calls
   window.TelegramWebviewProxy.postEvent(type, json) (Telegram's script does, for the app) and
   the client answers through Telegram.WebView.receiveEvent(type, data). This plays the client:
   it records every event in window.__phone, answers the theme, viewport and safe-area requests
   as Telegram does, and keeps the MainButton, BackButton and popup as the client would draw
   them. Tests press buttons and close popups with receiveEvent, like a thumb on the phone.
   window.__PHONE__ (set before this runs) carries the theme and insets. */
(() => {
  "use strict";
  const config = window.__PHONE__;
  const phone = (window.__phone = { events: [], main: { is_visible: false }, back: {}, popup: null });
  const answer = (type, data) => {
    setTimeout(() => window.Telegram.WebView.receiveEvent(type, data), 0);
  };
  window.TelegramWebviewProxy = {
    postEvent(type, json) {
      let data = null;
      try { data = JSON.parse(json); } catch (e) { /* no payload */ }
      phone.events.push([type, data]);
      switch (type) {
        case "web_app_request_theme":
          return answer("theme_changed", { theme_params: config.theme });
        case "web_app_request_viewport":
          return answer("viewport_changed", {
            height: window.innerHeight, is_state_stable: true, is_expanded: true,
          });
        case "web_app_request_safe_area":
          return answer("safe_area_changed", config.safeArea);
        case "web_app_request_content_safe_area":
          return answer("content_safe_area_changed", config.contentSafeArea);
        case "web_app_setup_main_button":
          phone.main = data;
          return undefined;
        case "web_app_setup_back_button":
          phone.back = data;
          return undefined;
        case "web_app_open_popup":
          phone.popup = data;
          return undefined;
        default:
          return undefined;
      }
    },
  };
})();
