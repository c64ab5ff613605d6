// The pay page: confirm the PaymentIntent Cloudflare created, with Stripe.js.
// Inputs come from the page: data-* on #pay, the client secret from an inert JSON script.
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
  if (error.code === "payment_intent_authentication_failure") {
    return "Your bank could not authenticate this payment. Try again with a card below.";
  }
  if (error.type === "api_connection_error") {
    return "We could not reach the payment service. Check your connection and try again.";
  }
  return "An unexpected error occurred. Please try again.";
}

function mountCardForm() {
  mode = "new_card";
  if (savedCard) savedCard.hidden = true;
  if (useNewCard) useNewCard.hidden = true;
  elementBox.hidden = false;
  idleLabel = `Pay ${root.dataset.amount}`;
  buttonLabel.textContent = idleLabel;
  if (!elements) {
    elements = stripe.elements({ clientSecret: config.clientSecret });
    const paymentElement = elements.create("payment");
    paymentElement.on("ready", () => { button.disabled = false; });
    paymentElement.mount(elementBox);
    button.disabled = true;
  }
}

async function confirm() {
  if (mode === "saved_card") return stripe.confirmCardPayment(config.clientSecret);
  return stripe.confirmPayment({
    elements,
    redirect: "if_required",
    confirmParams: { return_url: root.dataset.returnUrl },
  });
}

// Tell the server; retry while offline, since the payment itself has gone through.
async function reportPaid(paymentIntent) {
  const body = new URLSearchParams({ stripe_status: paymentIntent.status });
  for (let attempt = 0, delay = 1000; ; attempt += 1, delay = Math.min(delay * 2, 15000)) {
    try {
      const response = await fetch(root.dataset.paidUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken },
        body,
        signal: AbortSignal.timeout(15000),
      });
      if (response.ok) break;
    } catch {
      // offline or timed out: keep trying below
    }
    if (attempt === 1) {
      showMessage("Your payment was accepted. We are waiting for the connection to record it…");
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  window.location.assign(root.dataset.detailUrl);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (busy) return;
  setBusy(true);
  showMessage("");
  let result;
  try {
    result = await confirm();
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
  buttonLabel.textContent = "Payment accepted…";
  await reportPaid(result.paymentIntent);
});

if (!stripe) {
  showMessage("The payment form could not load. Check your connection, then reload this page.");
  if (useNewCard) useNewCard.hidden = true;
} else {
  if (useNewCard) useNewCard.addEventListener("click", mountCardForm);
  if (mode === "new_card") {
    mountCardForm();
  } else {
    button.disabled = false;
  }
}
