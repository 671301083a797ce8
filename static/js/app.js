// Small progressive enhancements; every page works without them.
document.addEventListener("htmx:responseError", (event) => {
  // A failed htmx request must not fail silently: say what happened where the user looks.
  const box = document.getElementById("messages");
  if (!box) return;
  const p = document.createElement("p");
  p.className = "flash error";
  p.setAttribute("role", "alert");
  const status = event.detail.xhr.status;
  // The words come translated from the page (base.html's #messages), in the reader's language.
  p.textContent = status === 403 ? box.dataset.refused : status === 404 ? box.dataset.gone : box.dataset.failed;
  box.replaceChildren(p);
});
document.addEventListener("htmx:sendError", () => {
  const box = document.getElementById("messages");
  if (!box) return;
  const p = document.createElement("p");
  p.className = "flash error";
  p.setAttribute("role", "alert");
  p.textContent = box.dataset.unreachable;
  box.replaceChildren(p);
});
// A swap that takes away the focused control (a code's row coming back after Freeze, a form with its errors, a PIN
// shown in place of its button) would drop keyboard and screen-reader users at the top of the page. The focus goes
// to what replaced it instead: the first invalid field, else an element marked data-swap-focus, else the new
// content itself, which a screen reader then reads out. Background polling never had the focus, so never moves it.
// Noted when the request starts: hx-disabled-elt disables the pressed button, which drops its focus before the swap.
const focusedTargets = new WeakMap();
document.addEventListener("htmx:beforeRequest", (event) => {
  const target = event.detail.target;
  if (target && target.id && target.contains(document.activeElement)) focusedTargets.set(event.detail.xhr, target.id);
});
document.addEventListener("htmx:afterSettle", (event) => {
  const id = focusedTargets.get(event.detail.xhr);
  const current = document.activeElement;
  if (!id || (current && current !== document.body && current.isConnected)) return;
  const fresh = document.getElementById(id);
  if (!fresh) return;
  const place = fresh.querySelector("[aria-invalid=true], [data-swap-focus]") || fresh;
  if (place === fresh && !fresh.hasAttribute("tabindex")) fresh.setAttribute("tabindex", "-1");
  place.focus();
});
// A select that submits its form when changed (the organisation switcher); inline handlers are refused by the CSP.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-submit-on-change]");
  if (select && select.form) select.form.requestSubmit();
});
// The weekly-schedule fields only matter for weekly codes: show them when that kind is chosen.
function syncScheduleFieldsets(root) {
  root.querySelectorAll("form").forEach((form) => {
    const kind = form.querySelector("select[name=kind]");
    const schedule = form.querySelector("fieldset.schedule");
    if (!kind || !schedule || kind.dataset.scheduleBound) return;
    kind.dataset.scheduleBound = "1";
    const update = () => { schedule.hidden = kind.value !== "weekly"; };
    kind.addEventListener("change", update);
    update();
    // A weekly code gets months of validity by default (a one-day window holds one opening at most), unless the
    // end was already typed; switching back restores the one-day default.
    const until = form.querySelector("input[name=ends_at][data-weekly-default]");
    if (!until) return;
    const daily = until.value;
    kind.addEventListener("change", () => {
      if (kind.value === "weekly" && until.value === daily) until.value = until.dataset.weeklyDefault;
      else if (kind.value !== "weekly" && until.value === until.dataset.weeklyDefault) until.value = daily;
    });
  });
}
document.addEventListener("DOMContentLoaded", () => syncScheduleFieldsets(document));
document.addEventListener("htmx:afterSettle", () => syncScheduleFieldsets(document));
