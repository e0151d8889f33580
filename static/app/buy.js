/* Buy credits: the packs on sale, each with what it buys at today's prices. A tap asks the
   server for a Stars invoice link and opens it with Telegram's openInvoice; once Telegram says
   "paid", the balance is read again until the server has recorded the payment. Credits come
   only from the payment Telegram reports to the server, never from this page. */

import { api, loadMe, session } from "./api.js";
import { go, HOME } from "./router.js";
import { at, backButton, haptic, popup, snack, tg } from "./telegram.js";
import { empty, errorText, esc, failedScreen, nCredits, screen, T } from "./ui.js";

const WAIT_MS = 15000; // how long to wait for Telegram's payment to reach the server

function packCell(pack) {
  const worth = T.packWorth({
    trainings: T.trainings({ n: pack.trainings }),
    generations: T.generations({ n: pack.generations }),
  });
  return `<button class="cell" data-pack="${pack.credits}">`
    + `<div class="grow"><div class="t1">${esc(nCredits(pack.credits))}</div>`
    + `<div class="t2">${esc(worth)}</div></div>`
    + `<span class="badge">⭐ ${pack.stars}</span></button>`;
}

export async function buyScreen(route, view) {
  backButton(() => go(HOME));
  let me;
  try {
    me = await loadMe();
  } catch (e) {
    return failedScreen(errorText(e), () => go(route));
  }
  if (!view.live()) return;
  let html = `<div class="top"><h1>${esc(T.buyTitle)}</h1></div>`
    + `<p class="foot tight">${esc(T.buyLead({
      balance: nCredits(me.credits),
      train: nCredits(me.prices.train),
      generate: nCredits(me.prices.generate),
    }))}</p>`;
  if (!me.packs.length) {
    screen.innerHTML = html + empty("⭐", T.notSelling);
    return;
  }
  html += `<section class="list gap-s">${me.packs.map(packCell).join("")}</section>`
    + `<p class="foot">${esc(T.buyFoot)}</p>`;
  screen.innerHTML = html;
  screen.querySelectorAll(".cell[data-pack]").forEach((el) => {
    el.onclick = () => pay(+el.dataset.pack, el, view);
  });
}

async function pay(credits, cell, view) {
  if (cell.disabled) return;
  if (!at("6.1")) return popup(T.error, T.updateTelegram); // before any order is made
  haptic.light();
  cell.disabled = true;
  let link;
  try {
    ({ link } = await api("/invoice", { method: "POST", json: { pack: credits } }));
  } catch (e) {
    cell.disabled = false;
    haptic.err();
    return popup(T.error, errorText(e));
  }
  const before = session.me.credits;
  try {
    tg.openInvoice(link, (status) => {
      cell.disabled = false;
      closed(status, credits, before, view);
    });
  } catch (e) { // an invoice is open already
    cell.disabled = false;
  }
}

async function closed(status, credits, before, view) {
  if (status === "cancelled") return snack(T.payCancelled);
  if (status === "failed") {
    haptic.err();
    return popup(T.error, T.payFailed);
  }
  // paid (or pending): the server grants the credits when Telegram tells it; wait for that
  snack(status === "paid" ? T.paidWaiting : T.payPending);
  const until = Date.now() + WAIT_MS;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let me;
    try {
      me = await loadMe();
    } catch (e) {
      continue; // offline for a moment: try again
    }
    if (me.credits > before) {
      haptic.ok();
      snack(T.paid({ credits: nCredits(credits) }));
      if (view.live()) go(view.route);
      return;
    }
  }
  popup(T.buyTitle, T.paidSlow);
}
