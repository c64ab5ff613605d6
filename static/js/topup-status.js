// Live status of one top-up (poll.js paces it): replaces the status panel when the state
// changes or the reason it is not moving does, moves on when a create finishes, stops at a
// final state or when the session has ended.
import { SESSION_ENDED, SessionEnded, fetchJson, pollWithBackoff } from "./poll.js";

const region = document.getElementById("topup-status");
const badge = document.getElementById("state-badge");
const note = document.getElementById("poll-note");
const startedCreating = region.dataset.state === "creating";
let state = region.dataset.state;
let delayed = region.querySelector(".status-delay")?.textContent ?? "";

function showNote(text) {
  note.textContent = text;
  note.hidden = !text;
}

async function check() {
  try {
    const data = await fetchJson(region.dataset.statusUrl);
    if (navigator.onLine) showNote(""); // a late answer is not the network back
    const changed = data.state !== state;
    if (changed || data.delayed !== delayed) {
      state = data.state;
      delayed = data.delayed;
      region.innerHTML = data.html;
      badge.textContent = data.label;
      badge.className = `badge badge--state-${data.state}`;
    }
    if (startedCreating && data.next_url) {
      window.location.assign(data.next_url);
      return "done";
    }
    if (data.final) return "done";
    if (changed) return "changed";
    return data.delayed ? "slow" : "unchanged";
  } catch (error) {
    if (error instanceof SessionEnded) {
      showNote(SESSION_ENDED);
      return "done";
    }
    showNote("Connection lost. Still checking…");
    return "unchanged";
  }
}

window.addEventListener("offline", () => showNote("Connection lost. Still checking…"));
pollWithBackoff(check, { first: 1000, max: 20000, factor: 1.6 });
