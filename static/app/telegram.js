/* Telegram's chrome, through its own script (telegram-web-app.js): theme, MainButton,
   BackButton, popups, haptics. Every call newer than the oldest client is guarded by version. */

export const tg = (window.Telegram && window.Telegram.WebApp) || null;
export const at = (version) => !!tg && tg.isVersionAtLeast(version);
/** The raw, signed initData Telegram launched us with ("" outside Telegram). */
export const initData = (tg && tg.initData) || "";
export const launchUser = (tg && tg.initDataUnsafe && tg.initDataUnsafe.user) || {};

/** The page follows Telegram's colours; header, background and bottom bar are one surface. */
export function applyTheme() {
  const html = document.documentElement;
  html.dataset.scheme = (tg && tg.colorScheme) || "light";
  html.dataset.platform = tg && ["ios", "macos"].includes(tg.platform) ? "ios" : "base";
  if (/Telegram-Android\/.*LOW\)/.test(navigator.userAgent)) html.classList.add("low");
  if (at("6.1")) {
    tg.setHeaderColor("secondary_bg_color");
    tg.setBackgroundColor("secondary_bg_color");
  }
  if (at("7.10")) tg.setBottomBarColor("secondary_bg_color");
}

/** The viewer is black edge to edge, Telegram's header and bottom bar included. */
export function blackChrome(on) {
  if (!on) return applyTheme();
  if (at("6.1")) {
    tg.setHeaderColor("#000000");
    tg.setBackgroundColor("#000000");
  }
  if (at("7.10")) tg.setBottomBarColor("#000000");
}

export function verticalSwipes(on) {
  if (at("7.7")) on ? tg.enableVerticalSwipes() : tg.disableVerticalSwipes();
}

const feel = (kind, style) => {
  if (!at("6.1")) return;
  const h = tg.HapticFeedback;
  if (kind === "impact") h.impactOccurred(style);
  else if (kind === "note") h.notificationOccurred(style);
  else h.selectionChanged();
};
export const haptic = {
  ok: () => feel("note", "success"),
  err: () => feel("note", "error"),
  warn: () => feel("note", "warning"),
  light: () => feel("impact", "light"),
  pick: () => feel("selection"),
};

let mainHandler = null;
/** One primary action per screen, on the native MainButton; no text hides it. */
export function mainButton(text, onClick, { active = true, progress = false } = {}) {
  const mb = tg && tg.MainButton;
  if (!mb) return;
  if (mainHandler) mb.offClick(mainHandler);
  mainHandler = null;
  if (!text) {
    mb.hideProgress();
    mb.hide();
    return;
  }
  mainHandler = () => { if (mb.isActive) onClick(); };
  // Telegram's hideProgress() makes the button active again: it goes first, then the params.
  if (progress) mb.showProgress(false);
  else if (mb.isProgressVisible) mb.hideProgress();
  mb.setParams({ text, is_active: active && !progress, is_visible: true });
  mb.onClick(mainHandler);
}

let backHandler = null;
/** The native BackButton, shown with a handler and hidden without one. */
export function backButton(onClick) {
  const bb = at("6.1") && tg.BackButton;
  if (!bb) return;
  if (backHandler) bb.offClick(backHandler);
  backHandler = onClick;
  if (onClick) {
    bb.onClick(onClick);
    bb.show();
  } else bb.hide();
}

let snackTimer;
/** A short message at the bottom of the page that goes away by itself. */
export function snack(text) {
  const el = document.getElementById("snack");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(snackTimer);
  snackTimer = setTimeout(() => { el.hidden = true; }, 2500);
}

/** A native popup with an OK button (a snack when popups are not available or one is open). */
export function popup(title, message) {
  try {
    if (at("6.2")) {
      tg.showPopup({
        title: title.slice(0, 64), message: message.slice(0, 256), buttons: [{ type: "ok" }],
      });
      return;
    }
  } catch (e) { /* another popup is open */ }
  snack(message);
}

/** Ask before something that cannot be undone; resolves true when the user confirmed. */
export function confirmDestructive(title, message, yes) {
  if (!at("6.2")) return Promise.resolve(window.confirm(`${title}\n\n${message}`));
  return new Promise((resolve) => {
    try {
      const buttons = [{ id: "yes", type: "destructive", text: yes }, { type: "cancel" }];
      tg.showPopup({ title, message, buttons }, (id) => resolve(id === "yes"));
    } catch (e) {
      resolve(false); // another popup is open
    }
  });
}

/** Ask before closing while something unsaved is on screen. */
export function closingConfirmation(on) {
  if (at("6.2")) on ? tg.enableClosingConfirmation() : tg.disableClosingConfirmation();
}

/** Save an image: Telegram's download prompt (8.0, https only), else open it. */
export function download(url, fileName) {
  try {
    if (at("8.0") && url.startsWith("https://")) {
      return tg.downloadFile({ url, file_name: fileName });
    }
    if (at("6.1")) return tg.openLink(url);
  } catch (e) {
    return undefined; // a download prompt is already open
  }
  return window.open(url, "_blank", "noopener");
}

/** Share an image link through Telegram's share sheet. */
export function share(url) {
  const link = `https://t.me/share/url?url=${encodeURIComponent(url)}`;
  if (at("6.1")) tg.openTelegramLink(link);
  else window.open(link, "_blank", "noopener");
}
