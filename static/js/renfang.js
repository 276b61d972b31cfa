/* Renfang: small progressive enhancements. Pages work without it. No inline scripts (CSP script-src 'self'). */
(function () {
  "use strict";

  // A clickable cell or row: elements with data-href open that address (the building view, table rows).
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-href]");
    if (!el || ev.target.closest("a, button, input, select, textarea, label")) return;
    window.location.assign(el.getAttribute("data-href"));
  });

  // Filter forms refresh the table as the user types or chooses (htmx does the request).
  document.addEventListener("change", function (ev) {
    var form = ev.target.closest("form[data-autosubmit]");
    if (form && window.htmx) window.htmx.trigger(form, "submit");
  });

  // The move-in form: show the fields of a new person or of an existing one.
  function syncMoveIn() {
    var mode = document.querySelector("input[name=mode]:checked");
    if (!mode) return;
    document.querySelectorAll("[data-mode]").forEach(function (el) {
      el.hidden = el.getAttribute("data-mode") !== mode.value;
    });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.name === "mode") syncMoveIn();
  });
  document.addEventListener("DOMContentLoaded", syncMoveIn);
})();
