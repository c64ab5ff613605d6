// The history's unfinished rows refresh themselves: one request for all of them (paced by
// poll.js), changes announced through the aria-live region.
import { SESSION_ENDED, SessionEnded, fetchJson, pollWithBackoff } from "./poll.js";

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
    const changes = Object.entries(data.rows).map(([id, html]) => replaceRow(id, html));
    const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const live = liveRows().length;
    note.textContent = live ? data.delayed || `Updated ${time}` : "";
    if (changes.length) {
      announcer.textContent = changes.join(". ");
      return "changed";
    }
    return data.delayed ? "slow" : "unchanged";
  } catch (error) {
    if (error instanceof SessionEnded) {
      note.textContent = SESSION_ENDED;
      return "done";
    }
    note.textContent = "Status will refresh shortly.";
    return "unchanged";
  }
}

pollWithBackoff(check, { first: 2000, max: 30000, factor: 1.5 });
