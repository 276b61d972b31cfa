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

  // The top bar's groups and the user menu (details/summary): one open at a time, closed by a click outside
  // or Escape.
  function closeMenus(except) {
    document.querySelectorAll(".topbar details[open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("toggle", function (ev) {
    var d = ev.target;
    if (d.matches && d.matches(".topbar details") && d.open) closeMenus(d);
  }, true);
  document.addEventListener("click", function (ev) {
    if (!ev.target.closest(".topbar details")) closeMenus(null);
    if (!ev.target.closest(".topsearch")) {
      document.querySelectorAll(".suggest").forEach(function (s) { s.innerHTML = ""; });
    }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      closeMenus(null);
      document.querySelectorAll(".suggest").forEach(function (s) { s.innerHTML = ""; });
    }
  });

  // One search box, one behaviour: a person list's own box searches numbers (ID, passport, phone) exactly as
  // the top box does, by POST, so that a number never appears in the address bar or a server log.
  var SENSITIVE = /^(\d{17}[\dXx]|(\+?86)?1[3-9]\d{9}|(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9]{5,17}|\d{5,})$/;
  document.addEventListener("htmx:configRequest", function (ev) {
    var form = ev.detail.elt.closest && ev.detail.elt.closest("form[data-search-post]");
    if (!form) return;
    var q = (ev.detail.parameters.get ? ev.detail.parameters.get("q") : ev.detail.parameters.q) || "";
    if (!SENSITIVE.test(String(q).trim())) return;
    ev.detail.verb = "post";
    ev.detail.path = form.getAttribute("data-search-post");
    ev.detail.useUrlParams = false;
  });

  // The export button carries the list's filters as they are now (the form may have changed since the page
  // loaded): empty values are no filter and are left out.
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest("a[data-export]");
    if (!link) return;
    var form = document.querySelector("form.filters[data-autosubmit]");
    if (!form) return;
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== "" && key !== "page" && key !== "csrfmiddlewaretoken") params.append(key, value);
    });
    var query = params.toString();
    link.href = link.getAttribute("data-export") + (query ? "&" + query : "");
  });

  // Anything that takes time shows it: a form with data-busy disables its submit button and shows the
  // button's data-busy-text (and a spinner) until the next page arrives.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches || !form.matches("form[data-busy]") || ev.defaultPrevented) return;
    var btn = form.querySelector("button[type=submit], button:not([type])");
    if (!btn) return;
    setTimeout(function () {  // after the browser has read the form (a disabled button is not sent)
      btn.disabled = true;
      btn.classList.add("busy");
      if (btn.getAttribute("data-busy-text")) btn.textContent = btn.getAttribute("data-busy-text");
    }, 0);
  });
  window.addEventListener("pageshow", function () {  // back to a page left busy
    document.querySelectorAll("button.busy").forEach(function (b) { b.disabled = false; b.classList.remove("busy"); });
  });

  // A resend button that counts down (data-countdown="60"): disabled until the time is up.
  function countdown(btn) {
    var left = parseInt(btn.getAttribute("data-countdown"), 10) || 0;
    var label = btn.getAttribute("data-label") || btn.textContent;
    var tpl = btn.getAttribute("data-countdown-text") || "{n}";
    btn.setAttribute("data-label", label);
    function tick() {
      if (left <= 0) { btn.disabled = false; btn.textContent = label; return; }
      btn.disabled = true;
      btn.textContent = tpl.replace("{n}", left);
      left -= 1;
      setTimeout(tick, 1000);
    }
    tick();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-countdown]").forEach(countdown);
  });

  // The grid worker's offline round (fieldwork.js) keeps today's list and a queue on the phone for one login.
  // On every page: after a logout (meta renfang-clear-offline) or when another user is logged in (the owner
  // record of the kept pages names someone else), all of it is deleted before any page could read it.
  function clearOffline() {
    return Promise.all([
      window.caches ? caches.delete("renfang-pages") : null,
      window.indexedDB ? new Promise(function (resolve) {
        var req = indexedDB.deleteDatabase("renfang-fieldwork");
        req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
      }) : null
    ]).then(function () {
      Object.keys(localStorage).forEach(function (k) {
        if (k.indexOf("renfang.fieldwork.") === 0) localStorage.removeItem(k);
      });
    });
  }
  // How many records wait in the queue (without creating the database where there is none).
  function queued() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) return resolve(0);
      var req = indexedDB.open("renfang-fieldwork");
      req.onupgradeneeded = function () { req.transaction.abort(); };
      req.onerror = function () { resolve(0); };
      req.onsuccess = function () {
        var d = req.result;
        try {
          var c = d.transaction("queue").objectStore("queue").count();
          c.onsuccess = function () { d.close(); resolve(c.result); };
          c.onerror = function () { d.close(); resolve(0); };
        } catch (e) { d.close(); resolve(0); }
      };
    });
  }
  var meta = function (name) { var el = document.querySelector("meta[name=" + name + "]"); return el && el.content; };
  if (meta("renfang-clear-offline")) {
    clearOffline().then(function () { document.documentElement.setAttribute("data-offline-cleared", "1"); });
  } else if (window.caches && meta("renfang-user") && !document.querySelector("[data-offline-round]")) {
    // (A workbench page does the same check itself, before it reads or sends anything.) Another user's queue is
    // deleted unsent; the workbench's badge then says how many records that was.
    caches.open("renfang-pages").then(function (c) { return c.match("/__renfang_owner__"); })
      .then(function (r) { return r ? r.json() : null; })
      .then(function (owner) {
        if (!owner || String(owner.user) === meta("renfang-user")) return null;
        return queued().then(function (n) {
          return clearOffline().then(function () {
            if (n) localStorage.setItem("renfang.fieldwork.discarded", String(n));
          });
        });
      })
      .catch(function () {});
  }
})();
