// Live status of one top-up (poll.js paces it): replaces the status panel when the state
// changes, moves on when a create finishes, stops at a final state.
import { fetchJson, pollWithBackoff } from "./poll.js";

const region = document.getElementById("topup-status");
const badge = document.getElementById("state-badge");
const note = document.getElementById("poll-note");
const startedCreating = region.dataset.state === "creating";
let state = region.dataset.state;

function showNote(text) {
  note.textContent = text;
  note.hidden = !text;
}

async function check() {
  try {
    const data = await fetchJson(region.dataset.statusUrl);
    if (navigator.onLine) showNote(""); // a late answer is not the network back
    const changed = data.state !== state;
    if (changed) {
      state = data.state;
      region.innerHTML = data.html;
      badge.textContent = data.label;
      badge.className = `badge badge--state-${data.state}`;
    }
    if (startedCreating && data.next_url) {
      window.location.assign(data.next_url);
      return "done";
    }
    if (data.final) return "done";
    return changed ? "changed" : "unchanged";
  } catch {
    showNote("Connection lost. Still checking…");
    return "unchanged";
  }
}

window.addEventListener("offline", () => showNote("Connection lost. Still checking…"));
pollWithBackoff(check, { first: 1000, max: 20000, factor: 1.6 });
