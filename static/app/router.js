/* Where the app is. A route lives in the URL's query (?screen=new, ?screen=model&id=42) and in
   history.state, never in the fragment: Telegram opens the app at
   /app#tgWebAppData=…&tgWebAppVersion=…, its script reads that fragment as it loads, and the app
   then drops it (so initData does not linger in the address either). Navigation replaces the
   entry instead of stacking history: "back" is Telegram's BackButton, which leads to the parent.

   First open: a reload keeps its route (history.state); else a route in the query (links the bot
   sends); else an old-style #/m/42 path, which a reload may carry as #/m/42?tgWebAppData=…;
   else the startapp parameter of a t.me/<bot>/<app>?startapp=m_42 link; else the models. */

import { tg } from "./telegram.js";

export const HOME = { screen: "home" };
const ID = /^\d{1,15}$/;

function fromQuery(search) {
  const q = new URLSearchParams(search);
  const screen = q.get("screen");
  if (screen === "new") return { screen: "new" };
  if (screen === "model" && ID.test(q.get("id") || "")) return { screen: "model", id: +q.get("id") };
  return null;
}

function fromHashPath(hash) {
  const path = hash.replace(/^#/, "").split("?")[0];
  if (path === "/new") return { screen: "new" };
  const m = path.match(/^\/m\/(\d{1,15})$/);
  return m ? { screen: "model", id: +m[1] } : null;
}

/** A startapp parameter: `m_42` opens model 42, `new` a new model. */
export function fromStartParam(param) {
  if (param === "new") return { screen: "new" };
  const m = /^m_(\d{1,15})$/.exec(param || "");
  return m ? { screen: "model", id: +m[1] } : null;
}

function startParam() {
  const unsafe = tg && tg.initDataUnsafe;
  if (unsafe && unsafe.start_param) return String(unsafe.start_param);
  const params = window.Telegram && Telegram.WebView && Telegram.WebView.initParams;
  return (params && params.tgWebAppStartParam) || "";
}

/** The route to open first (see the top of this file). */
export function launchRoute() {
  const kept = history.state && history.state.route;
  return (kept && kept.screen && kept)
    || fromQuery(location.search)
    || fromHashPath(location.hash)
    || fromStartParam(startParam())
    || HOME;
}

/** The address of a route (no fragment). */
export function href(route) {
  if (route.screen === "new") return `${location.pathname}?screen=new`;
  if (route.screen === "model") return `${location.pathname}?screen=model&id=${route.id}`;
  return location.pathname;
}

const screens = {};
let visit = 0;
let leaving = [];
let timer = null;

/** Register the function that draws a screen: fn(route, view). */
export function register(name, fn) {
  screens[name] = fn;
}

/** Open a route: the screen being left stops its timers and observers first. */
export function go(route) {
  visit += 1;
  clearTimeout(timer);
  leaving.splice(0).forEach((fn) => fn());
  history.replaceState({ route }, "", href(route));
  const mine = visit;
  const view = {
    route,
    live: () => mine === visit, // false once the user went elsewhere: drop late results
    onLeave: (fn) => leaving.push(fn),
    poll: (fn, ms = 4000) => {
      clearTimeout(timer);
      timer = setTimeout(() => { if (mine === visit) fn(); }, ms);
    },
  };
  (screens[route.screen] || screens.home)(route, view);
}
