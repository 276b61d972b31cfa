/* Renfang: small progressive enhancements. Pages work without it. No inline scripts (CSP script-src 'self').
   window.Renfang holds the helpers every page script shares: esc() for HTML built in JS, and one number format
   (num, percent, duration) so that every chart and map states its unit the same way. */
(function () {
  "use strict";

  var lang = function () { return (document.documentElement.lang || "zh").slice(0, 2); };

  // Text into HTML: the only escaping function of the front end.
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // 12345 → "12,345"; 3.14159 → "3.1" (digits after the point, default: none for whole numbers, one otherwise).
  function num(v, digits) {
    if (v == null || v === "" || isNaN(v)) return "—";
    var d = digits == null ? (Math.round(v) === Number(v) ? 0 : 1) : digits;
    return Number(v).toLocaleString(lang() === "en" ? "en-US" : "zh-CN",
      { minimumFractionDigits: d, maximumFractionDigits: d });
  }

  // A rate 0..1 → "85.0%" (a percent is always shown as a percent, never as 0.85).
  function percent(rate, digits) {
    if (rate == null || rate === "" || isNaN(rate)) return "—";
    return num(100 * rate, digits == null ? 1 : digits) + "%";
  }

  // Hours → "45 分钟", "6.5 小时", "4.2 天" (English: "45 min", "6.5 h", "4.2 days").
  function duration(hours) {
    if (hours == null || hours === "" || isNaN(hours)) return "—";
    var en = lang() === "en", h = Number(hours);
    if (h < 1) return num(Math.round(h * 60)) + (en ? " min" : " 分钟");
    if (h < 48) return num(h, 1) + (en ? " h" : " 小时");
    return num(h / 24, 1) + (en ? " days" : " 天");
  }

  // An ISO week key "2026-W49" → its Monday as "11/30" (axis) — the human week label of every chart.
  function week(key) {
    var m = /^(\d{4})-W(\d{2})$/.exec(String(key));
    if (!m) return String(key);
    var jan4 = new Date(Date.UTC(+m[1], 0, 4));
    var monday = new Date(jan4.getTime() + ((+m[2] - 1) * 7 - ((jan4.getUTCDay() + 6) % 7)) * 86400000);
    return (monday.getUTCMonth() + 1) + "/" + monday.getUTCDate();
  }

  // A long category name on a narrow axis: cut to n characters with an ellipsis (the tooltip keeps it whole).
  function shorten(s, n) {
    s = String(s == null ? "" : s);
    return s.length > n ? s.slice(0, n - 1) + "…" : s;
  }

  window.Renfang = { esc: esc, num: num, percent: percent, duration: duration, week: week, shorten: shorten,
    lang: lang };

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
