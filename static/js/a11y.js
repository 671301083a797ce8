// Keyboard and screen-reader help for htmx swaps and the confirmation pages (WCAG 2.2 AA: 2.4.3 focus order,
// 4.1.3 status messages). Every page works without it.
//
// After a swap the result is read out through one of two live regions: polite for a status, assertive for an
// error. Only a swap the person asked for (a click or a submit) moves the focus: to the first field in error, else
// to the fragment's [data-swap-focus] element, its heading or its first field. A poll announces a changed status
// but never takes the focus, and gives back one it removed (the same element, or the control in the same place).
(() => {
  const regions = {};

  function liveRegion(politeness) {
    if (regions[politeness] && regions[politeness].isConnected) return regions[politeness];
    const region = document.createElement("div");
    region.id = `live-${politeness}`;
    region.className = "visually-hidden live-region";
    region.setAttribute("aria-live", politeness);
    region.setAttribute("aria-atomic", "true");
    if (politeness === "polite") region.setAttribute("role", "status");
    document.body.append(region);
    regions[politeness] = region;
    return region;
  }

  function announce(text, politeness) {
    if (!text) return;
    const region = liveRegion(politeness);
    // Emptied first and filled a moment later, so that the same words said twice are read twice.
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 60);
  }

  const words = (element) => (element.textContent || "").replace(/\s+/g, " ").trim();
  const ERRORS = "[role=alert], .errorlist, .form-errors, .flash.error";
  const STATUS = "[role=status], [data-announce]";

  // The outermost matches only: a notice inside an announced cell is said once.
  function textOf(root, selector) {
    if (!root) return "";
    const found = [...root.querySelectorAll(selector)];
    if (root.matches(selector)) found.unshift(root);
    return found.filter((el) => !found.some((other) => other !== el && other.contains(el)))
      .map(words).filter(Boolean).join(". ");
  }

  function focusOn(element) {
    if (!element) return;
    if (!element.matches("a[href], button, input, select, textarea, summary, [tabindex]")) element.setAttribute("tabindex", "-1");
    element.focus();
  }

  function landingIn(root) {
    const invalid = root.querySelector("[aria-invalid=true]");
    if (invalid) return invalid;
    const error = root.matches(ERRORS) ? root : root.querySelector(ERRORS);
    if (error) return error;
    return root.querySelector("[data-swap-focus]") || root.querySelector("h1, h2, h3, h4")
      || root.querySelector("input:not([type=hidden]), select, textarea") || root;
  }

  const focusables = (root) => [...root.querySelectorAll("a[href], button, input, select, textarea, summary")]
    .filter((el) => !el.disabled && el.type !== "hidden");

  // What a request is about to replace: read before the swap, compared after it.
  const pending = new WeakMap();

  document.addEventListener("htmx:beforeSwap", (event) => {
    const { target, xhr, requestConfig } = event.detail;
    const trigger = requestConfig && requestConfig.triggeringEvent;
    const active = document.activeElement;
    const focusInside = active && active !== document.body && target.contains(active);
    pending.set(xhr, {
      id: target.id,
      target,
      asked: Boolean(trigger && (trigger.type === "click" || trigger.type === "submit")),
      before: textOf(target, STATUS),
      focusIndex: focusInside ? focusables(target).indexOf(active) : -1,
      onLanding: focusInside && active.matches("[data-swap-focus]"),
      activeId: focusInside ? active.id : "",
      hadFocus: focusInside,
    });
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    const info = pending.get(event.detail.xhr);
    if (!info) return;
    pending.delete(event.detail.xhr); // afterSettle fires once per settled element: act on the first
    const root = (info.id && document.getElementById(info.id)) || (info.target.isConnected ? info.target : null);
    if (!root) return;
    const errors = textOf(root, ERRORS);
    const status = textOf(root, STATUS);
    if (errors) announce(errors, "assertive");
    else if (status && (info.asked || status !== info.before)) announce(status, "polite");

    const focusLost = !document.activeElement || document.activeElement === document.body;
    if (info.asked && (focusLost || info.hadFocus || root.contains(document.activeElement))) {
      focusOn(landingIn(root));
    } else if (info.hadFocus && focusLost) {
      // A poll replaced what had the focus: back to the control in the same place, never somewhere new.
      const controls = focusables(root);
      const same = (info.activeId && document.getElementById(info.activeId))
        || (info.onLanding && root.querySelector("[data-swap-focus]"));
      focusOn(same || (info.focusIndex >= 0 && controls[Math.min(info.focusIndex, controls.length - 1)]) || root);
    }
  });

  // A failed request: app.js writes it into #messages; say it at once.
  for (const name of ["htmx:responseError", "htmx:sendError"]) {
    document.addEventListener(name, () => {
      window.setTimeout(() => announce(textOf(document.getElementById("messages"), "p"), "assertive"), 0);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    liveRegion("polite");
    liveRegion("assertive");
    // Flash messages arrive with the page, where live regions stay silent: read them once the regions exist.
    const messages = document.getElementById("messages");
    if (messages) {
      const errors = textOf(messages, "[role=alert]");
      const status = textOf(messages, "[role=status]");
      window.setTimeout(() => {
        if (errors) announce(errors, "assertive");
        else announce(status, "polite");
      }, 250);
    }
    // A confirmation page is a dialog in all but name: the question takes the focus (read first, then Tab reaches
    // the answer) and Escape takes the way back, which changes nothing.
    const dialog = document.querySelector("[data-dialog]");
    if (dialog) {
      focusOn(dialog.querySelector("h1, h2") || dialog);
      document.addEventListener("keydown", (keydown) => {
        const cancel = dialog.querySelector("[data-dialog-cancel]");
        if (keydown.key === "Escape" && cancel) cancel.click();
      });
    }
  });
})();
