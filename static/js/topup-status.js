// Live status of one top-up: polls the status endpoint, fast at first then backing off,
// pauses while the tab is hidden, gives up on a request after a timeout, stops at a final state.

const region = document.getElementById("topup-status");
const badge = document.getElementById("state-badge");
const note = document.getElementById("poll-note");
const statusUrl = region.dataset.statusUrl;
const startedCreating = region.dataset.state === "creating";
const FIRST_DELAY = 1000;
const MAX_DELAY = 20000;
const REQUEST_TIMEOUT = 10000;

let state = region.dataset.state;
let delay = FIRST_DELAY;
let timer = null;
let done = false;

function schedule() {
  if (!done && timer === null && !document.hidden) timer = setTimeout(poll, delay);
}

function showNote(text) {
  note.textContent = text;
  note.hidden = !text;
}

async function poll() {
  timer = null;
  try {
    const response = await fetch(statusUrl, {
      headers: { Accept: "application/json" },
      cache: "no-store",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    showNote("");
    if (data.state !== state) {
      state = data.state;
      region.innerHTML = data.html;
      badge.textContent = data.label;
      badge.className = `badge badge--state-${data.state}`;
      delay = FIRST_DELAY;
    }
    if (startedCreating && data.next_url) {
      window.location.assign(data.next_url);
      return;
    }
    if (data.final) {
      done = true;
      return;
    }
  } catch {
    showNote("Connection lost. Still checking…");
  }
  delay = Math.min(Math.round(delay * 1.6), MAX_DELAY);
  schedule();
}

function pollNow() {
  clearTimeout(timer);
  timer = null;
  delay = FIRST_DELAY;
  if (!done && !document.hidden) poll();
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) {
    clearTimeout(timer);
    timer = null;
  } else {
    pollNow();
  }
});
window.addEventListener("online", pollNow);
schedule();
