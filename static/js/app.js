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
// What a swap does with the focus, and how its result is read out: a11y.js.
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
