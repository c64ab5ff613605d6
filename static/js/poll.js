// Polling that spares the API budget: fast at first, backing off while nothing changes, paused
// in hidden tabs, quick again when the tab comes back or the network returns.
// `check()` answers "changed", "unchanged", "slow" (the server says Cloudflare is slow or
// unreachable: wait at least `slow` ms) or "done" (stop for good).
export function pollWithBackoff(check, { first, max, factor, slow = 10000 }) {
  let delay = first;
  let timer = null;
  let done = false;

  function schedule() {
    if (!done && timer === null && !document.hidden) timer = setTimeout(run, delay);
  }

  async function run() {
    timer = null;
    const outcome = await check();
    done = outcome === "done";
    if (outcome === "changed") delay = first;
    else if (outcome === "slow") delay = Math.min(Math.max(delay * factor, slow), max);
    else delay = Math.min(delay * factor, max);
    schedule();
  }

  function restart() {
    clearTimeout(timer);
    timer = null;
    delay = first;
    schedule();
  }

  document.addEventListener("visibilitychange", restart);
  window.addEventListener("online", restart);
  schedule();
}

// The session ended (signed out elsewhere, expired) or access was withdrawn: asking again
// cannot help, the page says so and stops.
export class SessionEnded extends Error {}
export const SESSION_ENDED =
  "Your session has ended or you no longer have access. Reload the page to sign in again.";

export async function fetchJson(url) {
  const response = await fetch(url, {
    headers: { Accept: "application/json" },
    cache: "no-store",
    redirect: "manual", // a redirect here is to the sign-in page
    signal: AbortSignal.timeout(10000),
  });
  if (response.type === "opaqueredirect" || [401, 403, 404].includes(response.status)) {
    throw new SessionEnded(`HTTP ${response.status || "redirect"}`);
  }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}
