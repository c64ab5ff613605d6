// Polling that spares the API budget: fast at first, backing off while nothing changes, paused
// in hidden tabs, quick again when the tab comes back or the network returns.
// `check()` answers "changed", "unchanged", "slow" (Cloudflare is: wait 4 s or more) or "done".
export function pollWithBackoff(check, { first, max, factor }) {
  let delay = first;
  let timer = null;
  let done = false;

  function schedule() {
    if (!done && timer === null && !document.hidden) timer = setTimeout(run, delay);
  }

  async function run() {
    timer = null;
    const outcome = await check();
    done ||= outcome === "done";
    delay = outcome === "changed" ? first : Math.min(delay * factor, max);
    if (outcome === "slow") delay = Math.max(delay, Math.min(4000, max));
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

// Resolves to null once the session has ended (a redirect to sign-in, 401/403/404): asking
// again cannot help, the page says so and stops.
export async function fetchJson(url) {
  const response = await fetch(url, {
    headers: { Accept: "application/json" },
    cache: "no-store",
    redirect: "manual",
    signal: AbortSignal.timeout(10000),
  });
  if (!response.status || [401, 403, 404].includes(response.status)) return null;
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}
