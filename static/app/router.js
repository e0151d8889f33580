/* Where the app is. A route lives in the URL's query (?screen=new, ?screen=model&id=42) and in
   history.state, never in the fragment: Telegram opens the app at
   /app#tgWebAppData=…&tgWebAppVersion=…, its script reads that fragment as it loads, and the app
   then drops it (so initData does not linger in the address either). Navigation replaces the
   entry instead of stacking history: "back" is Telegram's BackButton, which leads to the parent.

   First open: a reload keeps its route (history.state); else a route in the query (the bot's
   "open in the app" buttons link to ?screen=model&id=42); else an old-style #/m/42 path, which
   a reload may carry as #/m/42?tgWebAppData=…; else the startapp parameter of a
   t.me/<bot>/<app>?startapp=m_42 link (in initData, or Telegram's tgWebAppStartParam); else the
   models.

   Adding a screen: a line in SCREENS, and `register(name, draw)` in main.js. Every screen
   starts with no MainButton and no BackButton: it shows the ones it needs. */

import { backButton, mainButton, tg } from "./telegram.js";

/* name → its startapp parameter (`m_` + id when it takes one) and its old #/ path. */
const SCREENS = {
  home: { start: null, path: null },
  new: { start: "new", path: "/new" },
  model: { start: "m_", path: "/m/", id: true },
  buy: { start: "buy", path: "/buy" },
  photoshoots: { start: "shoots", path: "/shoots" },
  photoshoot: { start: "s_", path: "/s/", id: true },
};
export const HOME = { screen: "home" };
const ID = /^\d{1,15}$/;

function route(screen, id) {
  const spec = SCREENS[screen];
  if (!spec || (spec.id && !ID.test(id || ""))) return null;
  return spec.id ? { screen, id: +id } : { screen };
}

function fromQuery(search) {
  const q = new URLSearchParams(search);
  return route(q.get("screen"), q.get("id"));
}

function fromHashPath(hash) {
  const path = hash.replace(/^#/, "").split("?")[0];
  for (const [screen, spec] of Object.entries(SCREENS)) {
    if (!spec.path) continue;
    if (!spec.id && path === spec.path) return route(screen);
    if (spec.id && path.startsWith(spec.path)) return route(screen, path.slice(spec.path.length));
  }
  return null;
}

/** A startapp parameter: `m_42` opens model 42, `new` a new model, `buy` the packs, `shoots`
    the photoshoots, `s_260` one of them. */
export function fromStartParam(param) {
  for (const [screen, spec] of Object.entries(SCREENS)) {
    if (!spec.start) continue;
    if (!spec.id && param === spec.start) return route(screen);
    if (spec.id && param.startsWith(spec.start)) return route(screen, param.slice(spec.start.length));
  }
  return null;
}

function startParam() {
  const unsafe = tg && tg.initDataUnsafe;
  if (unsafe && unsafe.start_param) return String(unsafe.start_param);
  const launch = window.Telegram && Telegram.WebView && Telegram.WebView.initParams;
  if (launch && launch.tgWebAppStartParam) return String(launch.tgWebAppStartParam);
  return new URLSearchParams(location.search).get("tgWebAppStartParam") || "";
}

/** The route to open first (see the top of this file). */
export function launchRoute() {
  const kept = history.state && history.state.route;
  return (kept && route(kept.screen, String(kept.id ?? "")))
    || fromQuery(location.search)
    || fromHashPath(location.hash)
    || fromStartParam(startParam())
    || HOME;
}

/** The address of a route (no fragment). */
export function href(to) {
  const q = new URLSearchParams();
  if (to.screen !== "home") q.set("screen", to.screen);
  if (SCREENS[to.screen].id) q.set("id", to.id);
  const search = q.toString();
  return search ? `${location.pathname}?${search}` : location.pathname;
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
export function go(to) {
  visit += 1;
  clearTimeout(timer);
  leaving.splice(0).forEach((fn) => fn());
  mainButton(null);
  backButton(null);
  history.replaceState({ route: to }, "", href(to));
  const mine = visit;
  let polls = 0;
  const view = {
    route: to,
    live: () => mine === visit, // false once the user went elsewhere: drop late results
    onLeave: (fn) => leaving.push(fn),
    // Refresh while work is in progress: after 1 s, 2 s, then every 4 s (quick results show
    // quickly, long trainings cost few requests).
    poll: (fn) => {
      clearTimeout(timer);
      const ms = Math.min(4000, 1000 * 2 ** polls++);
      timer = setTimeout(() => { if (mine === visit) fn(); }, ms);
    },
  };
  screens[to.screen](to, view);
}
