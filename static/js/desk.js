// The front desk's small enhancements; every form still works without them.
// Confirmations are pages the server shows (templates/tenants/stay_confirm.html), so they hold without JavaScript.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.hasAttribute("data-once")) {
    // One check-in per form: a second press (or Enter) waits for the first. The server also refuses repeats.
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach((button) => button.setAttribute("aria-disabled", "true"));
  }
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
