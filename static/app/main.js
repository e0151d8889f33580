/* The Mini App starts here, after Telegram's telegram-web-app.js has read its launch
   parameters: pick the first screen, draw it, and tell Telegram we are ready. */

import { buyScreen } from "./buy.js";
import { home } from "./home.js";
import { modelScreen } from "./model.js";
import { newModel } from "./new-model.js";
import { go, launchRoute, register } from "./router.js";
import { applyTheme, initData, tg } from "./telegram.js";
import { empty, lang, screen, T } from "./ui.js";

document.documentElement.lang = lang;
applyTheme();
if (tg) tg.onEvent("themeChanged", applyTheme);

if (window.APP.devHost && window.top === window) {
  // Dev mode in a plain browser tab: the app runs inside the page that plays Telegram.
  location.replace(window.APP.devHost + location.search);
} else if (initData) {
  register("home", home);
  register("new", newModel);
  register("model", modelScreen);
  register("buy", buyScreen);
  // the photoshoot screens load when first opened: the first screen does not wait for them
  const shoots = () => import("./shoots.js");
  register("photoshoots", (to, view) => shoots().then((m) => m.shootsScreen(to, view)));
  register("photoshoot", (to, view) => shoots().then((m) => m.shootScreen(to, view)));
  go(launchRoute());
} else {
  screen.innerHTML = empty("✈️", T.openInTelegram); // no signed user to speak for
}
if (tg) {
  tg.ready();
  tg.expand();
}
