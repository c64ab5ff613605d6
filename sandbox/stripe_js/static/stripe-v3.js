/*
 * Sandbox stand-in for Stripe.js v3 (https://js.stripe.com/v3/), served by `python -m sandbox`.
 *
 * It implements only the calls this product uses, with Stripe's documented signatures and result
 * shapes, so page code written against it runs unchanged on the real Stripe.js:
 *   Stripe(publishableKey)
 *   stripe.elements({clientSecret})        -> elements
 *   elements.create('payment')             -> element with mount/unmount/destroy/on/focus/clear
 *   elements.submit()                      -> {error?}
 *   stripe.confirmPayment({elements, confirmParams: {return_url}, redirect})
 *   stripe.confirmCardPayment(clientSecret[, data])
 *   stripe.retrievePaymentIntent(clientSecret)
 * Results are {paymentIntent} or {error: {type, code, message}}, never a rejected promise for
 * payment failures. Card data goes to the sandbox (which holds the secret key), 3-D Secure is a
 * visible dialog whose buttons call localstripe's authentication route.
 */
(function () {
  "use strict";

  var LOCALSTRIPE_URL = "__LOCALSTRIPE_URL__";
  var script = document.currentScript;
  var SANDBOX_URL = new URL(script ? script.src : window.location.href).origin;
  var AUTH_FAILURE_MESSAGE =
    "We are unable to authenticate your payment method. Please choose a different payment method and try again.";
  var uid = 0;

  function IntegrationError(message) {
    var error = new Error(message);
    error.name = "IntegrationError";
    return error;
  }

  function apiError(message) {
    return { type: "api_connection_error", message: message || "A network error has occurred, and you have not been charged. Please try again." };
  }

  function request(key, method, path, params) {
    var url = SANDBOX_URL + path;
    var init = { method: method, headers: {} };
    var payload = Object.assign({ key: key }, params);
    if (method === "GET") {
      url += "?" + new URLSearchParams(payload).toString();
    } else {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    return fetch(url, init).then(
      function (response) {
        return response.json().then(
          function (body) {
            if (!response.ok) return { error: body.error || apiError() };
            return { paymentIntent: body };
          },
          function () { return { error: apiError("Unexpected answer from the payment server.") }; }
        );
      },
      function () { return { error: apiError() }; }
    );
  }

  // --- card validation, with Stripe's own codes and messages ---------------------------------

  function digits(value) { return (value || "").replace(/\D/g, ""); }

  function luhnValid(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var d = Number(number[number.length - 1 - i]);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function validationError(code, message) {
    return { type: "validation_error", code: code, message: message };
  }

  function validateCard(fields) {
    var number = digits(fields.number);
    var exp = digits(fields.expiry);
    var cvc = digits(fields.cvc);
    if (number.length < 16) return { field: "number", error: validationError("incomplete_number", "Your card number is incomplete.") };
    if (!luhnValid(number)) return { field: "number", error: validationError("invalid_number", "Your card number is invalid.") };
    if (exp.length < 4) return { field: "expiry", error: validationError("incomplete_expiry", "Your card's expiration date is incomplete.") };
    var month = Number(exp.slice(0, 2));
    var year = 2000 + Number(exp.slice(2, 4));
    var now = new Date();
    if (month < 1 || month > 12) return { field: "expiry", error: validationError("invalid_expiry_month", "Your card's expiration date is invalid.") };
    if (year < now.getFullYear()) return { field: "expiry", error: validationError("invalid_expiry_year_past", "Your card's expiration year is in the past.") };
    if (year === now.getFullYear() && month < now.getMonth() + 1) return { field: "expiry", error: validationError("invalid_expiry_month_past", "Your card's expiration date is in the past.") };
    if (cvc.length < 3) return { field: "cvc", error: validationError("incomplete_cvc", "Your card's security code is incomplete.") };
    return { card: { number: number, exp_month: month, exp_year: year, cvc: cvc } };
  }

  // --- the Payment Element ------------------------------------------------------------------

  function ensureStylesheet() {
    if (document.querySelector("link[data-sandbox-stripe]")) return;
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = SANDBOX_URL + "/stripe-js/v3/sandbox-elements.css";
    link.setAttribute("data-sandbox-stripe", "");
    document.head.appendChild(link);
  }

  function field(container, id, labelText, attrs) {
    var wrapper = document.createElement("div");
    wrapper.className = "sbx-field";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = labelText;
    var input = document.createElement("input");
    input.id = id;
    input.type = "text";
    Object.keys(attrs).forEach(function (name) { input.setAttribute(name, attrs[name]); });
    wrapper.appendChild(label);
    wrapper.appendChild(input);
    container.appendChild(wrapper);
    return input;
  }

  function PaymentElement(options) {
    this.options = options || {};
    this._listeners = {};
    this._root = null;
    this._inputs = null;
  }

  PaymentElement.prototype.on = function (event, handler) {
    (this._listeners[event] = this._listeners[event] || []).push(handler);
    return this;
  };
  PaymentElement.prototype.off = function (event, handler) {
    this._listeners[event] = (this._listeners[event] || []).filter(function (h) { return h !== handler; });
    return this;
  };
  PaymentElement.prototype._emit = function (event, payload) {
    (this._listeners[event] || []).forEach(function (handler) { handler(payload); });
  };

  PaymentElement.prototype.mount = function (target) {
    var host = typeof target === "string" ? document.querySelector(target) : target;
    if (!host) throw IntegrationError("The selector you specified (" + target + ") applies to no DOM elements that are currently on the page.");
    ensureStylesheet();
    var n = ++uid;
    var root = document.createElement("div");
    root.className = "sbx-payment-element";
    var grid = document.createElement("div");
    grid.className = "sbx-grid";
    root.appendChild(grid);
    this._inputs = {
      number: field(grid, "sbx-number-" + n, "Card number", { inputmode: "numeric", autocomplete: "cc-number", placeholder: "1234 1234 1234 1234", maxlength: "23" }),
      expiry: field(grid, "sbx-expiry-" + n, "Expiration date", { inputmode: "numeric", autocomplete: "cc-exp", placeholder: "MM / YY", maxlength: "7" }),
      cvc: field(grid, "sbx-cvc-" + n, "Security code", { inputmode: "numeric", autocomplete: "cc-csc", placeholder: "CVC", maxlength: "4" }),
    };
    this._message = document.createElement("p");
    this._message.className = "sbx-error";
    this._message.setAttribute("role", "alert");
    root.appendChild(this._message);
    var hint = document.createElement("p");
    hint.className = "sbx-hint";
    hint.textContent = "Sandbox card form — no real card is charged. Try 4242 4242 4242 4242 (succeeds), 4000 0027 6000 3184 (3-D Secure), 4000 0000 0000 0002 (declined) or 4000 0000 0000 0341 (declined at charge).";
    root.appendChild(hint);

    var self = this;
    var inputs = this._inputs;
    inputs.number.addEventListener("input", function () {
      inputs.number.value = digits(inputs.number.value).slice(0, 19).replace(/(\d{4})(?=\d)/g, "$1 ");
    });
    inputs.expiry.addEventListener("input", function () {
      var d = digits(inputs.expiry.value).slice(0, 4);
      inputs.expiry.value = d.length > 2 ? d.slice(0, 2) + " / " + d.slice(2) : d;
    });
    Object.keys(inputs).forEach(function (name) {
      inputs[name].addEventListener("input", function () {
        self._showError(null);
        var values = self._values();
        var empty = !values.number && !values.expiry && !values.cvc;
        self._emit("change", { elementType: "payment", empty: empty, complete: !validateCard(values).error, collapsed: false, value: { type: "card" } });
      });
      inputs[name].addEventListener("focus", function () { self._emit("focus", { elementType: "payment" }); });
      inputs[name].addEventListener("blur", function () { self._emit("blur", { elementType: "payment" }); });
    });
    host.appendChild(root);
    this._root = root;
    setTimeout(function () { self._emit("ready", { elementType: "payment" }); }, 0);
  };

  PaymentElement.prototype._values = function () {
    var inputs = this._inputs || {};
    return {
      number: inputs.number ? inputs.number.value : "",
      expiry: inputs.expiry ? inputs.expiry.value : "",
      cvc: inputs.cvc ? inputs.cvc.value : "",
    };
  };
  PaymentElement.prototype._showError = function (failure) {
    if (!this._inputs) return;
    var inputs = this._inputs;
    Object.keys(inputs).forEach(function (name) {
      inputs[name].removeAttribute("aria-invalid");
    });
    this._message.textContent = failure ? failure.error.message : "";
    if (failure && failure.field) {
      inputs[failure.field].setAttribute("aria-invalid", "true");
    }
  };
  PaymentElement.prototype._collect = function () {
    if (!this._root) return { error: validationError("incomplete", "The payment form is not on the page.") };
    var result = validateCard(this._values());
    this._showError(result.error ? result : null);
    return result;
  };
  PaymentElement.prototype._setDisabled = function (disabled) {
    var inputs = this._inputs || {};
    Object.keys(inputs).forEach(function (name) { inputs[name].disabled = disabled; });
  };
  PaymentElement.prototype.focus = function () { if (this._inputs) this._inputs.number.focus(); };
  PaymentElement.prototype.blur = function () { if (document.activeElement) document.activeElement.blur(); };
  PaymentElement.prototype.clear = function () {
    var inputs = this._inputs || {};
    Object.keys(inputs).forEach(function (name) { inputs[name].value = ""; });
    this._showError(null);
  };
  PaymentElement.prototype.update = function (options) { Object.assign(this.options, options || {}); };
  PaymentElement.prototype.unmount = function () {
    if (this._root && this._root.parentNode) this._root.parentNode.removeChild(this._root);
    this._root = null;
  };
  PaymentElement.prototype.destroy = function () { this.unmount(); this._listeners = {}; };

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = options || {};
    this._payment = null;
  }
  Elements.prototype.create = function (type, options) {
    if (type !== "payment") throw IntegrationError("The sandbox Stripe.js supports only the 'payment' element, not '" + type + "'.");
    if (this._payment) throw IntegrationError("Can only create one Element of type payment.");
    this._payment = new PaymentElement(options);
    return this._payment;
  };
  Elements.prototype.getElement = function (type) { return type === "payment" ? this._payment : null; };
  Elements.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  Elements.prototype.submit = function () {
    if (!this._payment) return Promise.resolve({ error: validationError("incomplete", "Create and mount a Payment Element first.") });
    var result = this._payment._collect();
    return Promise.resolve(result.error ? { error: result.error } : {});
  };

  // --- 3-D Secure ---------------------------------------------------------------------------

  function formatAmount(intent) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: (intent.currency || "usd").toUpperCase() }).format(intent.amount / 100);
    } catch (e) {
      return (intent.amount / 100).toFixed(2) + " " + (intent.currency || "").toUpperCase();
    }
  }

  function authenticate(key, intent) {
    ensureStylesheet();
    return new Promise(function (resolve) {
      var dialog = document.createElement("dialog");
      dialog.className = "sbx-3ds";
      dialog.setAttribute("aria-labelledby", "sbx-3ds-title");
      var title = document.createElement("h2");
      title.id = "sbx-3ds-title";
      title.textContent = "3-D Secure authentication";
      var text = document.createElement("p");
      text.textContent = "Sandbox bank: confirm the payment of " + formatAmount(intent) + ". In live mode your bank shows its own page here.";
      var actions = document.createElement("div");
      actions.className = "sbx-3ds-actions";
      var complete = document.createElement("button");
      complete.type = "button";
      complete.className = "sbx-complete";
      complete.textContent = "Complete authentication";
      var fail = document.createElement("button");
      fail.type = "button";
      fail.className = "sbx-fail";
      fail.textContent = "Fail authentication";
      actions.appendChild(complete);
      actions.appendChild(fail);
      dialog.appendChild(title);
      dialog.appendChild(text);
      dialog.appendChild(actions);
      document.body.appendChild(dialog);

      function finish(success) {
        complete.disabled = fail.disabled = true;
        var body = new URLSearchParams({ key: key, client_secret: intent.client_secret, success: success ? "true" : "false" });
        fetch(LOCALSTRIPE_URL + "/v1/payment_intents/" + intent.id + "/_authenticate", { method: "POST", body: body })
          .then(function (response) { if (!response.ok) throw new Error("authentication failed"); })
          .then(function () { return request(key, "POST", "/__sandbox/stripe/authenticated", { client_secret: intent.client_secret }); })
          .then(function (result) { resolve(result); }, function () { resolve({ error: apiError() }); })
          .finally(function () { dialog.close(); dialog.remove(); });
      }
      complete.addEventListener("click", function () { finish(true); });
      fail.addEventListener("click", function () { finish(false); });
      // Escape closes a dialog; for a bank page that means the customer gave up.
      dialog.addEventListener("cancel", function (event) { event.preventDefault(); finish(false); });
      dialog.showModal();
      complete.focus();
    });
  }

  function settle(key, result) {
    // Walk a PaymentIntent through 3-D Secure if needed, then shape the final answer.
    if (result.error) return Promise.resolve(result);
    var intent = result.paymentIntent;
    if (intent.status === "requires_action") {
      return authenticate(key, intent).then(function (after) { return settle(key, after); });
    }
    if (intent.status === "requires_payment_method" && intent.last_payment_error) {
      var last = intent.last_payment_error;
      if (last.code === "payment_intent_authentication_failure") {
        return Promise.resolve({ error: { type: "invalid_request_error", code: last.code, message: AUTH_FAILURE_MESSAGE, payment_intent: intent } });
      }
      return Promise.resolve({ error: { type: "card_error", code: last.code || "card_declined", message: last.message || "Your card was declined.", payment_intent: intent } });
    }
    return Promise.resolve({ paymentIntent: intent });
  }

  function clientSecretOf(value) {
    if (typeof value !== "string" || !/^pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$/.test(value)) {
      throw IntegrationError("Invalid value for clientSecret: it should be a client secret of the form ${id}_secret_${secret}.");
    }
    return value;
  }

  // --- Stripe() -----------------------------------------------------------------------------

  function Stripe(publishableKey) {
    if (!(this instanceof Stripe)) return new Stripe(publishableKey);
    if (typeof publishableKey !== "string" || publishableKey.indexOf("pk_") !== 0) {
      throw IntegrationError("Invalid API Key provided: use a publishable key (pk_...).");
    }
    this._key = publishableKey;
  }

  Stripe.prototype.elements = function (options) {
    if (options && options.clientSecret) clientSecretOf(options.clientSecret);
    return new Elements(this, options);
  };

  Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
    return request(this._key, "GET", "/__sandbox/stripe/payment_intent", { client_secret: clientSecretOf(clientSecret) });
  };

  Stripe.prototype.confirmPayment = function (options) {
    var key = this._key;
    options = options || {};
    var elements = options.elements;
    var clientSecret = options.clientSecret || (elements && elements._options.clientSecret);
    clientSecretOf(clientSecret);
    var returnUrl = options.confirmParams && options.confirmParams.return_url;
    if (options.redirect !== "if_required" && !returnUrl) {
      throw IntegrationError("stripe.confirmPayment(): the `confirmParams.return_url` argument is required unless passing `redirect: 'if_required'`");
    }
    var element = elements && elements._payment;
    if (!element) throw IntegrationError("stripe.confirmPayment(): expected `elements` with a mounted Payment Element.");
    var collected = element._collect();
    if (collected.error) return Promise.resolve({ error: collected.error });
    element._setDisabled(true);
    return request(key, "POST", "/__sandbox/stripe/confirm", { client_secret: clientSecret, card: collected.card })
      .then(function (result) { return settle(key, result); })
      .then(function (result) {
        element._setDisabled(false);
        if (!result.error && options.redirect !== "if_required" && returnUrl) {
          // Card payments need no redirect, but with redirect: 'always' Stripe still sends the
          // customer to return_url, with the intent in the query string.
          var url = new URL(returnUrl, window.location.href);
          url.searchParams.set("payment_intent", result.paymentIntent.id);
          url.searchParams.set("payment_intent_client_secret", clientSecret);
          url.searchParams.set("redirect_status", result.paymentIntent.status === "succeeded" ? "succeeded" : "pending");
          window.location.assign(url.toString());
          return new Promise(function () {});
        }
        return result;
      });
  };

  Stripe.prototype.confirmCardPayment = function (clientSecret, data) {
    var key = this._key;
    clientSecretOf(clientSecret);
    if (data && data.payment_method && typeof data.payment_method !== "string") {
      throw IntegrationError("The sandbox Stripe.js confirms saved cards only: pass no payment_method, or a PaymentMethod id.");
    }
    return request(key, "POST", "/__sandbox/stripe/confirm", { client_secret: clientSecret })
      .then(function (result) { return settle(key, result); });
  };

  window.Stripe = Stripe;
})();
