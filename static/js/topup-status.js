// Live status of one top-up (poll.js paces it): replaces the status panel when the state
// changes, or why it is not moving does; moves on when a create finishes, stops at a final
// state or when the session has ended.
import { fetchJson, pollWithBackoff } from "./poll.js";

const region = document.getElementById("topup-status");
const badge = document.getElementById("state-badge");
const note = document.getElementById("poll-note");
const startedCreating = region.dataset.state === "creating";
let shown = region.dataset.state;

function showNote(text) {
  note.textContent = text;
  note.hidden = !text;
}

async function check() {
  try {
    const data = await fetchJson(region.dataset.statusUrl);
    if (!data) {
      showNote(note.dataset.ended);
      region.dataset.ended = ""; // nothing here updates any more: the panel stops saying so
      return "done";
    }
    if (navigator.onLine) showNote(""); // a late answer is not the network back
    const changed = data.state !== shown.split(":")[0];
    if (`${data.state}:${data.delayed}` !== shown) {
      shown = `${data.state}:${data.delayed}`;
      region.innerHTML = data.html;
      badge.textContent = data.label;
      badge.className = `badge badge--state-${data.state}`;
    }
    if (startedCreating && data.next_url) {
      window.location.assign(data.next_url);
      return "done";
    }
    if (data.final) return "done";
    return changed ? "changed" : data.delayed ? "slow" : "unchanged";
  } catch {
    showNote(note.dataset.offline);
    return "unchanged";
  }
}

window.addEventListener("offline", () => showNote(note.dataset.offline));
pollWithBackoff(check, { first: 1000, max: 4000, factor: 1.6 });
