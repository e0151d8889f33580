/* The full-screen viewer: black edge to edge, swipe between images, Download on the MainButton,
   a heart (like the picture, or take it back), More like this (with its price) and Share in its
   bar, BackButton closes it. */

import { api } from "./api.js";
import {
  backButton, blackChrome, download, haptic, mainButton, share, verticalSwipes,
} from "./telegram.js";
import { $, esc, nCredits, T } from "./ui.js";

let open = false;

/** "More like this", with what it costs (the image's generation again, at today's price). */
const moreLabel = (item) => (item && item.price > 0
  ? `${T.moreLike} · ${nCredits(item.price)}` : T.moreLike);

/** Show `items` ({url, prompt, generation}) from `index` over the screen `view`; `onClose`
    gives the screen its own buttons back, with the generation to repeat for "More like this". */
export function openViewer(items, index, view, onClose) {
  const v = $("#viewer");
  open = true;
  const slides = items.map((it, i) => {
    const src = Math.abs(i - index) <= 1 ? "src" : "data-src"; // neighbours load at once
    return `<div class="vslide"><img ${src}="${esc(it.url)}" alt="${esc(it.prompt)}"></div>`;
  }).join("");
  v.innerHTML = `<div class="vtrack" id="vtrack">${slides}</div>
    <div class="vprompt" id="vprompt"></div>
    <div class="vbar"><span class="vcount" id="vcount"></span>
      <button id="vlike" aria-pressed="false" aria-label="${esc(T.like)}">♡</button>
      <button id="vagain">${esc(moreLabel(items[index]))}</button>
      <button id="vshare">${esc(T.share)}</button></div>`;
  v.hidden = false;
  const track = $("#vtrack");
  let current = index;
  const show = (i) => {
    current = i;
    $("#vcount").textContent = `${i + 1} ${T.of} ${items.length}`;
    $("#vprompt").textContent = items[i].prompt;
    $("#vagain").textContent = moreLabel(items[i]);
    $("#vagain").hidden = !!items[i].generation.photoshoot_order; // a photoshoot's: not repeated
    heart(items[i]);
    for (const j of [i - 1, i, i + 1]) {
      const img = track.children[j] && $("img", track.children[j]);
      if (img && img.dataset.src) {
        img.src = img.dataset.src;
        delete img.dataset.src;
      }
    }
  };
  requestAnimationFrame(() => {
    track.scrollLeft = index * track.clientWidth;
    show(index);
  });
  track.onscroll = () => {
    const i = Math.round(track.scrollLeft / track.clientWidth);
    if (i !== current && items[i]) show(i);
  };
  $("#vshare").onclick = () => share(items[current].url);
  $("#vlike").onclick = () => like(items[current]);
  $("#vagain").onclick = () => {
    closeViewer();
    onClose(items[current].generation);
  };
  blackChrome(true);
  verticalSwipes(false); // a swipe down would minimise the app instead of scrolling
  mainButton(T.download, () => download(items[current].url, `ai-photo-${current + 1}.jpg`));
  const close = () => {
    closeViewer();
    onClose();
  };
  backButton(close);
  view.onLeave(closeViewer);
}

function heart(item) {
  const liked = item.generation.liked.includes(item.n);
  $("#vlike").textContent = liked ? "❤️" : "♡";
  $("#vlike").setAttribute("aria-pressed", String(liked));
}

/** Like the picture, or take the like back: shown at once, put back if the server refuses. */
async function like(item) {
  const g = item.generation;
  const liked = !g.liked.includes(item.n);
  const set = (on) => {
    g.liked = on ? [...g.liked, item.n] : g.liked.filter((n) => n !== item.n);
    if (open) heart(item);
  };
  set(liked);
  haptic.pick();
  try {
    await api("/likes", { method: "POST", json: { generation_id: g.id, image: item.n, liked } });
  } catch (e) {
    set(!liked);
    haptic.err();
  }
}

/** Hide the viewer and give the page its colours back. */
export function closeViewer() {
  if (!open) return;
  open = false;
  $("#viewer").hidden = true;
  $("#viewer").innerHTML = "";
  blackChrome(false);
  verticalSwipes(true);
}
