// Forms marked data-submit-once send once: the button disables and shows progress on submit.
// The server is what guarantees one top-up per request key; this only spares the user doubt.
for (const form of document.querySelectorAll("form[data-submit-once]")) {
  const button = form.querySelector("button[type=submit]");
  const label = button.querySelector(".button__label");
  const idleText = label.textContent;

  form.addEventListener("submit", (event) => {
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
    // Disable after the browser has taken the submission, or it would not be sent.
    setTimeout(() => {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      label.textContent = button.dataset.busyLabel || idleText;
    });
  });

  // Coming back with the back button restores this page from cache: make it usable again.
  // Resubmitting it sends the same request key and lands on the same top-up.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    delete form.dataset.submitted;
    button.disabled = false;
    button.removeAttribute("aria-busy");
    label.textContent = idleText;
  });
}
