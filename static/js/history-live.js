// The history's unfinished rows refresh themselves: one request for all of them, fast at first
// then backing off (about 2 s → 30 s) while nothing changes, paused in hidden tabs, stopped when
// nothing is unfinished. Changes are announced through the aria-live region; a failed request
// only says the status will refresh shortly.

const history = document.getElementById("history");
const note = document.getElementById("history-note");
const announcer = document.getElementById("history-announcer");
const FIRST_DELAY = 2000;
const MAX_DELAY = 30000;
const BACKOFF = 1.5;
const REQUEST_TIMEOUT = 10000;

let delay = FIRST_DELAY;
let timer = null;

function liveRows() {
  return [...history.querySelectorAll("tr[data-live]")];
}

function schedule() {
  if (timer === null && !document.hidden && liveRows().length) timer = setTimeout(poll, delay);
}

function clock() {
  return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function replaceRow(id, html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  const row = template.content.firstElementChild;
  document.getElementById(`topup-row-${id}`).replaceWith(row);
  return row.dataset.announce;
}

async function poll() {
  timer = null;
  const rows = liveRows();
  if (!rows.length) return;
  const shown = rows.map((row) => `${row.dataset.topup}:${row.dataset.state}`).join(",");
  try {
    const response = await fetch(`${history.dataset.liveUrl}?rows=${encodeURIComponent(shown)}`, {
      headers: { Accept: "application/json" },
      cache: "no-store",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    const changes = Object.entries(data.rows).map(([id, html]) => replaceRow(id, html));
    if (changes.length) {
      announcer.textContent = changes.join(". ");
      delay = FIRST_DELAY;
    } else {
      delay = Math.min(delay * BACKOFF, MAX_DELAY);
    }
    note.textContent = liveRows().length ? `Updated ${clock()}` : "";
  } catch {
    note.textContent = "Status will refresh shortly.";
    delay = Math.min(delay * BACKOFF, MAX_DELAY);
  }
  schedule();
}

document.addEventListener("visibilitychange", () => {
  clearTimeout(timer);
  timer = null;
  if (!document.hidden) {
    delay = FIRST_DELAY;
    schedule();
  }
});
window.addEventListener("online", () => {
  clearTimeout(timer);
  timer = null;
  delay = FIRST_DELAY;
  schedule();
});
schedule();
