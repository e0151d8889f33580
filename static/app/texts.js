/* What the Mini App says. The words live on the server, one file per language
   (webapp/texts/<lang>.py, APP), and come with the page in window.APP.texts; here they become
   what the screens call: a plain string stays a string, "…{field}…" becomes a function of an
   object of fields, and a dict of plural categories picks its form by `n`. */

/** Fill "{field}" from `params`; an unknown field stays as written. */
function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (all, key) => (key in params ? String(params[key]) : all));
}

function compile(value, rules) {
  if (typeof value === "string") {
    return value.includes("{") ? (params = {}) => fill(value, params) : value;
  }
  if (Array.isArray(value)) return value;
  if ("other" in value && Object.values(value).every((v) => typeof v === "string")) {
    return (params) => fill(value[rules.select(params.n)] ?? value.other, params);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compile(v, rules)]));
}

/** Say `entry` (a compiled text) with `params`, whether it takes fields or not. */
export const say = (entry, params) => (typeof entry === "function" ? entry(params) : entry);

/** The texts for a Telegram language code ("ru", "ru-RU", …); English otherwise, as the
    server decides (webapp.texts.language_of). */
export function textsFor(code) {
  const all = (window.APP && window.APP.texts) || {};
  const base = String(code || "").split("-")[0].toLowerCase();
  const lang = all[base] ? base : "en";
  return { lang, T: compile(all[lang] || {}, new Intl.PluralRules(lang)) };
}
