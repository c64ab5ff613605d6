// The pay page: confirm the PaymentIntent Cloudflare created, with Stripe.js.
// The browser's success is only a trigger: the server asks Cloudflare for the truth.

const root = document.getElementById("pay");
const config = JSON.parse(document.getElementById("payment-config").textContent);
const form = document.getElementById("payment-form");
const button = document.getElementById("pay-button");
const buttonLabel = button.querySelector(".button__label");
const message = document.getElementById("payment-message");
const elementBox = document.getElementById("payment-element");
const savedCard = document.getElementById("saved-card");
const useNewCard = document.getElementById("use-new-card");
const csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;
const reportFailed = document.getElementById("report-failed");
const say = root.dataset;

// Stripe.js may be blocked (offline, an extension, a proxy): say so instead of a dead button.
const stripe = typeof window.Stripe === "function" ? window.Stripe(config.publishableKey) : null;
let mode = root.dataset.mode; // "saved_card" | "new_card"
let elements = null;
let busy = false;
let idleLabel = buttonLabel.textContent;

function showMessage(text) {
  message.textContent = text;
  message.hidden = !text;
}

function setBusy(on) {
  busy = on;
  button.disabled = on;
  button.toggleAttribute("aria-busy", on);
  buttonLabel.textContent = on ? button.dataset.busyLabel : idleLabel;
  if (useNewCard) useNewCard.disabled = on;
}

// Stripe's guidance: card and validation errors are written for the customer; show those
// verbatim, and a plain line for anything else.
function describe(error) {
  if (error.type === "card_error" || error.type === "validation_error") return error.message;
  if (error.code === "payment_intent_authentication_failure") return say.authFailed;
  if (error.type === "api_connection_error") return say.unreachable;
  return say.unexpected;
}

function mountCardForm() {
  mode = "new_card";
  if (savedCard) savedCard.hidden = true;
  if (useNewCard) useNewCard.hidden = true;
  elementBox.hidden = false;
  idleLabel = say.payLabel;
  buttonLabel.textContent = idleLabel;
  if (!elements) {
    elements = stripe.elements({ clientSecret: config.clientSecret });
    const paymentElement = elements.create("payment");
    paymentElement.on("ready", () => { button.disabled = false; });
    paymentElement.mount(elementBox);
    button.disabled = true;
  }
}

async function confirmWithStripe() {
  if (mode === "saved_card") return stripe.confirmCardPayment(config.clientSecret);
  return stripe.confirmPayment({
    elements,
    redirect: "if_required",
    confirmParams: { return_url: root.dataset.returnUrl },
  });
}

// Telling the server is only a trigger for it to ask Cloudflare: the payment itself has gone
// through whatever happens here. Worth retrying only while offline or on a server error (5xx).
const REPORT_ATTEMPTS = 4; // waits of 1, 2 and 4 seconds between them

async function sendPaid(body) {
  try {
    const response = await fetch(root.dataset.paidUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken },
      body,
      redirect: "manual", // a redirect to the sign-in page is not a success
      signal: AbortSignal.timeout(15000),
    });
    return { ok: response.ok, retry: response.status >= 500 };
  } catch {
    return { ok: false, retry: true }; // offline or timed out
  }
}

async function reportPaid(paymentIntent) {
  const body = new URLSearchParams({ stripe_status: paymentIntent.status });
  for (let attempt = 1, delay = 1000; attempt <= REPORT_ATTEMPTS; attempt += 1, delay *= 2) {
    const outcome = await sendPaid(body);
    if (outcome.ok) {
      window.location.assign(root.dataset.detailUrl);
      return;
    }
    if (!outcome.retry || attempt === REPORT_ATTEMPTS) break;
    showMessage(say.recording);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  // Nothing is left to do on this page: no card form, no button, only what happened.
  form.hidden = true;
  reportFailed.hidden = false;
  reportFailed.querySelector("a").focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (busy) return;
  setBusy(true);
  showMessage("");
  let result;
  try {
    result = await confirmWithStripe();
  } catch {
    result = { error: { type: "integration_error" } };
  }
  const settled = result.error && result.error.payment_intent;
  if (settled && (settled.status === "succeeded" || settled.status === "processing")) {
    // Already paid, e.g. from another tab: nothing was charged again.
    result = { paymentIntent: settled };
  }
  if (result.error) {
    showMessage(describe(result.error));
    setBusy(false);
    const code = result.error.code;
    if (mode === "saved_card" && (code === "payment_intent_authentication_failure"
        || code === "payment_intent_unexpected_state")) {
      mountCardForm();
    }
    return;
  }
  buttonLabel.textContent = say.accepted;
  await reportPaid(result.paymentIntent);
});

if (!stripe) {
  showMessage(say.noStripe);
  if (useNewCard) useNewCard.hidden = true;
} else {
  if (useNewCard) useNewCard.addEventListener("click", mountCardForm);
  if (mode === "new_card") {
    mountCardForm();
  } else {
    button.disabled = false;
  }
}
