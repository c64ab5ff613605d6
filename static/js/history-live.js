// The history's unfinished rows refresh themselves: one request for all of them (paced by
// poll.js), changes announced through the aria-live region.
import { fetchJson, pollWithBackoff } from "./poll.js";

const history = document.getElementById("history");
const note = document.getElementById("history-note");
const announcer = document.getElementById("history-announcer");

const liveRows = () => [...history.querySelectorAll("tr[data-live]")];

function replaceRow(id, html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  const row = template.content.firstElementChild;
  document.getElementById(`topup-row-${id}`).replaceWith(row);
  return row.dataset.announce;
}

async function check() {
  const rows = liveRows();
  if (!rows.length) return "done";
  const shown = rows.map((row) => `${row.dataset.topup}:${row.dataset.state}`).join(",");
  try {
    const data = await fetchJson(`${history.dataset.liveUrl}?rows=${encodeURIComponent(shown)}`);
    if (!data) {
      announcer.textContent = note.textContent = note.dataset.ended;
      return "done";
    }
    const changes = Object.entries(data.rows).map(([id, html]) => replaceRow(id, html));
    const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    note.textContent = liveRows().length ? data.delayed || `Updated ${time}` : "";
    if (!changes.length) return data.delayed ? "slow" : "unchanged";
    announcer.textContent = changes.join(". ");
    return "changed";
  } catch {
    note.textContent = note.dataset.failed;
    return "unchanged";
  }
}

pollWithBackoff(check, { first: 2000, max: 30000, factor: 1.5 });
