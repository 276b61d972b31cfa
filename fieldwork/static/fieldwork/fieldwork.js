/* The grid worker's workbench: the offline round (issue 18), the draft of the visit form, the workload chart.
 *
 * - The service worker (/sw.js) is registered from the workbench's pages; on today's list (online) the page
 *   asks the server for the round (fieldwork:round) and keeps today's list and its house pages in Cache Storage
 *   ("renfang-pages"), dropping house pages no longer on it.
 * - Every visit and case report, online or not, goes into a queue in IndexedDB first ("renfang-fieldwork", store
 *   "queue": its fields, its photo as a Blob, its client-generated id) and is then sent, in order: right away, when
 *   the connection returns (the "online" event), on each page load, and by a retry timer with backoff (5 s … 5 min)
 *   after a send that failed, timed out (15 s) or got a 5xx/429: visits to the house page with X-Fieldwork-Draft: 1
 *   (idempotent on client_id), cases to the cases API with Idempotency-Key: client_id. navigator.onLine only
 *   spares requests that cannot succeed; it never decides that a record was sent.
 * - A send answered by the login page (the login lapsed) stops; the badge asks to log in again. The same worker's
 *   new login keeps the queue; another worker's login deletes it unsent and says how many records that was.
 * - What the server refuses (400 validation, 409 conflict with both versions, 403/404) stays in the queue with
 *   the server's Chinese reason, shown on the badge and on the house page, to be corrected or discarded.
 * - The data belongs to one login: store "meta" keeps the owner (user id, login start, lifetime). Another user,
 *   or a login older than the lifetime (12 h), wipes everything before anything is read (checked on load and every
 *   minute; warned from 10 h while records wait). Logout clears it too.
 * - The draft of the visit form (localStorage renfang.fieldwork.draft.<house>) is restored when the page opens.
 * No inline script (CSP); every message comes from data-msg-* attributes translated on the server.
 */
(function () {
  "use strict";
  var DRAFT = "renfang.fieldwork.draft.";
  var EXPIRED = "renfang.fieldwork.expired";
  var OWNER_KEY = "renfang.fieldwork.owner";
  var DB_NAME = "renfang-fieldwork";
  var PAGES = "renfang-pages";
  var OWNER_URL = "/__renfang_owner__";
  var DISCARDED = "renfang.fieldwork.discarded";
  var SEND_TIMEOUT_MS = 15000; // a request that has not answered by then is abandoned; the record stays queued
  var RETRY_MS = [5000, 15000, 30000, 60000, 120000, 300000]; // the retry timer's backoff after a failed send
  var TICK_MS = 60000; // the badge and the 12-hour limit are looked at again every minute
  var WARN_MS = 10 * 3600000; // from 10 h after the login, waiting records carry a warning
  var MAX_PHOTO = 5 * 1024 * 1024;

  // --- small helpers ----------------------------------------------------------------------------------------
  function read(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or disabled */ }
  }
  function fmt(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (m, k) { return values && k in values ? values[k] : m; });
  }
  function esc(s) { return window.Renfang && window.Renfang.esc ? window.Renfang.esc(s) : String(s); }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function hhmm(ms) {
    var d = new Date(ms);
    return (d.getHours() < 10 ? "0" : "") + d.getHours() + ":" + (d.getMinutes() < 10 ? "0" : "") + d.getMinutes();
  }
  var round = null; // the [data-offline-round] element: owner, URLs, messages
  function msg(key, values) { return fmt(round ? round.getAttribute("data-msg-" + key) : "", values); }

  // --- IndexedDB: the queue and the owner -------------------------------------------------------------------
  var dbPromise = null;
  var gone = false; // this page's login is past its lifetime: its data was deleted and nothing is stored again
  function db() {
    if (!window.indexedDB || gone) return Promise.reject(new Error("no indexedDB"));
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore("queue", {keyPath: "seq", autoIncrement: true});
          req.result.createObjectStore("meta");
        };
        req.onsuccess = function () {
          req.result.onversionchange = function () { req.result.close(); dbPromise = null; };
          resolve(req.result);
        };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function store(name, mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(name, mode);
        var out = fn(t.objectStore(name));
        t.oncomplete = function () { resolve(out && "result" in out ? out.result : out); };
        t.onerror = t.onabort = function () { reject(t.error); };
      });
    });
  }
  function entries() {
    return store("queue", "readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).sort(function (a, b) { return a.seq - b.seq; });
    });
  }
  function putEntry(e) { return store("queue", "readwrite", function (s) { return s.put(e); }); }
  function deleteEntry(seq) { return store("queue", "readwrite", function (s) { s.delete(seq); }); }
  function getMeta(key) { return store("meta", "readonly", function (s) { return s.get(key); }); }
  function setMeta(key, value) { return store("meta", "readwrite", function (s) { s.put(value, key); }); }

  // Everything the round keeps on the phone: IndexedDB, the kept pages, the drafts.
  function wipe() {
    var jobs = [];
    if (dbPromise) jobs.push(dbPromise.then(function (d) { d.close(); }, function () {}));
    dbPromise = null;
    return Promise.all(jobs).then(function () {
      return Promise.all([
        window.caches ? caches.delete(PAGES) : null,
        new Promise(function (resolve) {
          if (!window.indexedDB) return resolve();
          var req = indexedDB.deleteDatabase(DB_NAME);
          req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
        })
      ]);
    }).then(function () {
      Object.keys(localStorage).forEach(function (k) {
        if (k.indexOf(DRAFT) === 0 || k === "renfang.fieldwork.outbox") localStorage.removeItem(k);
      });
    });
  }
  window.RenfangOffline = {wipe: wipe, entries: entries};

  // The owner of the phone's data: this page's login. Another user, or past the lifetime: wipe first.
  function pageOwner() {
    if (!round) return null;
    return {user: Number(round.getAttribute("data-user")), start: Number(round.getAttribute("data-start")) || 0,
            max_age: Number(round.getAttribute("data-max-age")) || 43200000};
  }
  function expired(o) { return !o.start || Date.now() - o.start > o.max_age; }
  // The same worker logged in again (after the 30 idle minutes, say): the queue is kept and sent under this
  // login. Another worker: the queue of the previous one is deleted unsent (never sent under this worker's name)
  // and the badge says how many records that was. Past the lifetime: deleted, and the badge says so.
  function checkOwner() {
    var me = pageOwner();
    if (!me) return Promise.resolve();
    if (expired(me)) return expireNow(); // a page kept past its login's lifetime
    return getMeta("owner").then(function (o) {
      if (o && o.user === me.user && !expired(o)) {
        return me.start > o.start ? saveOwner(me) : null;
      }
      return entries().then(function (list) {
        return wipe().then(function () {
          if (o && list.length) write(o.user === me.user ? EXPIRED : DISCARDED, list.length);
          return saveOwner(me);
        });
      });
    });
  }
  // The login of this page has reached its lifetime (12 h) while the page is open or opened from the phone's
  // copy: everything kept is deleted, the page's content is hidden and the badge says how many records are lost.
  function expireNow() {
    if (gone) return Promise.resolve();
    return entries().catch(function () { return []; }).then(function (list) {
      return wipe().then(function () {
        gone = true;
        write(EXPIRED, list.length);
        var main = round.closest(".fw");
        if (main) main.classList.add("fw-wiped");
        round.setAttribute("data-expired", list.length);
        state.login = true;
        return renderBadge([], false);
      });
    });
  }
  function tick() {
    var me = pageOwner();
    if (me && !gone && expired(me)) return expireNow();
    // Waiting records with no retry planned (the phone came back without an "online" event): try them.
    var retry = !state.timer && !state.login && !state.sending ? flush() : Promise.resolve();
    return retry.then(refresh);
  }
  function saveOwner(o) {
    var jobs = [setMeta("owner", o)];
    if (window.caches) {
      jobs.push(caches.open(PAGES).then(function (c) {
        return c.put(OWNER_URL, new Response(JSON.stringify(o), {headers: {"Content-Type": "application/json"}}));
      }));
    }
    return Promise.all(jobs);
  }

  // --- forms: fields, drafts, the client-side checks --------------------------------------------------------
  function fields(form) {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.name === "csrfmiddlewaretoken" || el.disabled) return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      out.push([el.name, el.value]);
    });
    return out;
  }
  function files(form) {
    var out = [];
    form.querySelectorAll("input[type=file]").forEach(function (el) {
      Array.prototype.forEach.call(el.files || [], function (f) { out.push([el.name, f, f.name, f.type]); });
    });
    return out;
  }
  function restore(form, saved, skip) {
    var values = {};
    saved.forEach(function (p) { (values[p[0]] = values[p[0]] || []).push(p[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.name === "csrfmiddlewaretoken") return;
      if (skip && skip.indexOf(el.name) >= 0) return;
      var v = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = !!v && v.indexOf(el.value) >= 0;
      } else if (v) {
        el.value = v[0];
      } else if (el.type !== "hidden" && el.tagName !== "SELECT") {
        el.value = "";
      }
    });
  }
  function restoreFiles(form, saved) {
    (saved || []).forEach(function (f) {
      var input = form.querySelector("input[type=file][name='" + f[0] + "']");
      if (!input || !window.DataTransfer) return;
      try {
        var dt = new DataTransfer();
        dt.items.add(new File([f[1]], f[2] || "photo", {type: f[3] || f[1].type}));
        input.files = dt.files;
      } catch (e) { /* a browser without DataTransfer: the photo stays in the queue only */ }
    });
  }
  function value(form, name) {
    var el = form.querySelector("[name='" + name + "']:not([type=radio]):not([type=checkbox])") ||
      form.querySelector("[name='" + name + "']:checked");
    return el ? (el.value || "").trim() : "";
  }
  function checked(form, name) { var el = form.querySelector("input[name='" + name + "']"); return !!el && el.checked; }
  function m(form, key, values) { return fmt(form.getAttribute("data-msg-" + key), values); }

  // GB 11643 (people's own rule on the server, core.validators.validate_resident_id): length, digits, birth date,
  // MOD 11-2 check character. The server stays the judge; this only catches a typo before the round goes on.
  function residentIdError(form, raw) {
    var v = String(raw || "").replace(/[\s\-_]/g, "").toUpperCase();
    if (v.length !== 18) return m(form, "id-length", {n: v.length});
    if (!/^\d{17}[\dX]$/.test(v)) return m(form, "id-format");
    var y = +v.slice(6, 10), mo = +v.slice(10, 12), d = +v.slice(12, 14), birth = new Date(y, mo - 1, d);
    if (birth.getFullYear() !== y || birth.getMonth() !== mo - 1 || birth.getDate() !== d || birth > new Date() ||
        y < 1880) return m(form, "id-date", {d: v.slice(6, 14)});
    var w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], sum = 0;
    for (var i = 0; i < 17; i++) sum += w[i] * +v[i];
    var c = "10X98765432"[sum % 11];
    return v[17] === c ? "" : m(form, "id-check", {c: c});
  }
  function mobileError(form, raw) {
    var v = String(raw || "").replace(/[\s\-_]/g, "").replace(/^(\+86|0086)/, "");
    return /^1[3-9]\d{9}$/.test(v) ? "" : m(form, "mobile");
  }
  function photoError(form, list) {
    for (var i = 0; i < list.length; i++) {
      if (["image/jpeg", "image/png", "image/webp"].indexOf(list[i][3]) < 0) return m(form, "photo-type");
      if (list[i][1].size > MAX_PHOTO) return m(form, "photo-size");
    }
    return "";
  }
  function visitErrors(form) {
    var errors = {};
    if (checked(form, "add_person")) {
      if (value(form, "new-mode") === "existing") {
        if (!value(form, "new-existing_id_number")) errors["new-existing_id_number"] = m(form, "existing");
      } else {
        if (!value(form, "new-name")) errors["new-name"] = m(form, "name");
        var idType = value(form, "new-id_type");
        if ((!idType || idType === "resident_id") && value(form, "new-id_number")) {
          var e = residentIdError(form, value(form, "new-id_number"));
          if (e) errors["new-id_number"] = e;
        }
        if (value(form, "new-phone")) {
          var p = mobileError(form, value(form, "new-phone"));
          if (p) errors["new-phone"] = p;
        }
      }
    }
    if (value(form, "phone_person") && !value(form, "phone_new")) errors.phone_new = m(form, "phone-new");
    if (value(form, "phone_new")) {
      if (!value(form, "phone_person")) errors.phone_person = m(form, "phone-person");
      var q = mobileError(form, value(form, "phone_new"));
      if (q) errors.phone_new = q;
    }
    var ph = photoError(form, files(form));
    if (ph) errors.photo = ph;
    return errors;
  }
  function caseErrors(form) {
    var errors = {};
    if (!value(form, "category")) errors.category = m(form, "category");
    if (!value(form, "title")) errors.title = m(form, "title");
    var ph = photoError(form, files(form));
    if (ph) errors.photos = ph;
    return errors;
  }
  // Errors under their fields ({name: message or [messages or {message}]}), the section opened; true if any.
  function showErrors(form, errors) {
    form.querySelectorAll(".errorlist.fw-client").forEach(function (el) { el.remove(); });
    var any = false;
    Object.keys(errors || {}).forEach(function (name) {
      var list = [].concat(errors[name]).map(function (e) { return e && e.message ? e.message : String(e); });
      var el = form.querySelector("[name='" + name + "']");
      var row = el ? (el.closest(".form-row") || el.parentNode) : form.querySelector(".fw-submit") || form;
      var ul = document.createElement("ul");
      ul.className = "errorlist fw-client";
      ul.innerHTML = list.map(function (t) { return "<li>" + esc(t) + "</li>"; }).join("");
      row.appendChild(ul);
      var sec = row.closest("details");
      if (sec) sec.open = true;
      any = true;
    });
    return any;
  }

  // --- the queue ------------------------------------------------------------------------------------------------
  function csrf() {
    var el = document.querySelector("input[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }
  function enqueue(entry) {
    // One entry per client id: a second tap on the same form replaces it.
    return entries().then(function (list) {
      var same = list.filter(function (e) { return e.id === entry.id; })[0];
      if (same) entry.seq = same.seq;
      entry.state = "waiting";
      entry.at = Date.now();
      return putEntry(entry);
    }).then(refresh);
  }
  function body(entry) {
    var fd = new FormData();
    entry.fields.forEach(function (p) { fd.append(p[0], p[1]); });
    (entry.files || []).forEach(function (f) { fd.append(entry.kind === "case" ? "attachments" : f[0], f[1], f[2]); });
    return fd;
  }
  function errorsOf(data) {
    var out = {};
    Object.keys(data || {}).forEach(function (k) {
      out[k] = [].concat(data[k]).map(function (e) { return e && e.message ? e.message : String(e); });
    });
    return out;
  }
  // A weak signal: the phone may say it is online while a request never answers. After SEND_TIMEOUT_MS the
  // request is abandoned (the record stays queued; if the server did get it, the retry is answered with the
  // same visit or case: the client id makes it idempotent).
  function post(entry, token) {
    var headers = {"X-CSRFToken": token, "Accept": "application/json"};
    if (entry.kind === "case") headers["Idempotency-Key"] = entry.id; else headers["X-Fieldwork-Draft"] = "1";
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, SEND_TIMEOUT_MS) : null;
    var done = function () { if (timer) clearTimeout(timer); };
    return fetch(entry.url, {method: "POST", body: body(entry), credentials: "same-origin", headers: headers,
                             signal: ctl ? ctl.signal : undefined})
      .then(function (r) { done(); return r; }, function (e) { done(); throw e; });
  }
  function freshToken() {
    return fetch(round.getAttribute("data-round"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.redirected || !r.ok) return null;
        return r.json().then(function (d) { setMeta("csrf", d.csrf); return d.csrf; });
      });
  }
  function loginPage(r) {
    return r.redirected && new URL(r.url).pathname.indexOf(round.getAttribute("data-login")) === 0;
  }
  // One entry: "sent", "kept" (refused: stays with the reason), or "stop" (no network, logged out: retry later).
  function send(entry, token, retried) {
    return post(entry, token).then(function (r) {
      if (loginPage(r)) { state.login = true; return "stop"; }
      if (r.status === 403 && !retried) {
        return freshToken().then(function (t) { return t ? send(entry, t, true) : (state.login = true, "stop"); });
      }
      return r.json().catch(function () { return {}; }).then(function (data) {
        if ((r.status === 200 && data.ok) || r.status === 201) {
          return deleteEntry(entry.seq).then(function () {
            if (entry.kind === "visit") {
              keepPage(entry.page);
              localStorage.removeItem(DRAFT + entry.house);
              // Still on that house's page: show the visit's result, as an online submission would.
              if (data.url && document.querySelector("form[data-draft-form='" + entry.house + "']")) state.go = data.url;
            }
            return "sent";
          });
        }
        if (r.status === 400 || (r.status === 409 && entry.kind === "visit") || r.status === 403 ||
            r.status === 404 || r.status === 422) {
          entry.state = r.status === 409 ? "conflict" : "refused";
          entry.errors = r.status === 400 ? errorsOf(data.errors || data) :
            r.status === 409 ? {} : {__all__: [data.detail || msg("forbidden")]};
          entry.conflict = r.status === 409 ? {text: data.conflict, mine: data.mine || [], theirs: data.theirs || [],
                                               version: data.version} : null;
          return putEntry(entry).then(function () { return "kept"; });
        }
        // 5xx (503 with Retry-After: the database is busy), 429, anything unexpected: nothing was saved, or the
        // retry is idempotent. The record waits for the retry timer.
        state.server = true;
        state.retryAfter = Number(r.headers.get("Retry-After")) * 1000 || 0;
        return "stop";
      });
    }, function () { state.weak = true; return "stop"; }); // no answer: network failure or timeout
  }
  var state = {sending: false, login: false, server: false, weak: false, again: false, failures: 0, timer: null};
  var ready = Promise.resolve(); // the owner's check of this page load: nothing is sent before it is done
  function flush() {
    return ready.then(flushNow);
  }
  function flushNow() {
    if (!navigator.onLine || !round || gone) return Promise.resolve();
    if (state.sending) { state.again = true; return Promise.resolve(); }
    state.sending = true;
    state.login = state.server = state.weak = false;
    state.retryAfter = 0;
    var sentAny = false;
    return Promise.all([entries(), getMeta("csrf")]).then(function (got) {
      var list = got[0].filter(function (e) { return e.state === "waiting"; });
      var token = csrf() || got[1] || "";
      if (!list.length) return null;
      renderBadge(got[0], true);
      var next = function (i) {
        if (i >= list.length) return null;
        return send(list[i], token).then(function (res) {
          if (res === "sent") sentAny = true;
          if (res === "stop") return null;
          return next(i + 1);
        });
      };
      return next(0);
    }).then(function () {
      if (sentAny || !(state.login || state.weak || state.server)) return setMeta("last_sync", Date.now());
      return null;
    }).catch(function () { /* IndexedDB unavailable: the page works online as before */ })
      .then(function () { state.sending = false; return refresh(); })
      .then(function () {
        document.dispatchEvent(new CustomEvent("renfang:synced"));
        if (state.go) { var go = state.go; state.go = null; window.location.href = go; return null; }
        if (state.again) { state.again = false; return flushNow(); }
        return schedule();
      });
  }
  // The retry timer: after a send that got no answer or a 5xx, again in 5 s, 15 s, 30 s … up to 5 min (at least
  // the server's Retry-After). Waiting for a login, or offline, it waits for the login or the "online" event.
  function schedule() {
    if (state.timer) { clearTimeout(state.timer); state.timer = null; }
    if (!(state.weak || state.server) || state.login) {
      state.failures = 0;
      round.setAttribute("data-retries", 0);
      return null;
    }
    var delay = Math.max(RETRY_MS[Math.min(state.failures, RETRY_MS.length - 1)], state.retryAfter || 0);
    state.failures += 1;
    round.setAttribute("data-retries", state.failures);
    state.timer = setTimeout(function () { state.timer = null; flush(); }, delay);
    round.setAttribute("data-retry-ms", delay);
    return null;
  }
  // A visit sent: refresh the kept copy of its house page (the new version, today's visit).
  function keepPage(url) {
    if (!url || !window.caches) return;
    caches.open(PAGES).then(function (c) {
      return c.match(url, {ignoreVary: true}).then(function (old) {
        if (!old) return null;
        return fetch(url, {credentials: "same-origin"}).then(function (r) {
          if (r.ok && !r.redirected) return c.put(url, r);
        });
      });
    }).catch(function () {});
  }

  // --- the badge ------------------------------------------------------------------------------------------------
  function renderBadge(list, sending) {
    if (!round) return Promise.resolve();
    return getMeta("last_sync").catch(function () { return null; }).then(function (last) {
      var waiting = list.filter(function (e) { return e.state === "waiting"; });
      var problems = list.filter(function (e) { return e.state !== "waiting"; });
      var net = round.querySelector("[data-net]");
      net.className = "fw-net " + (navigator.onLine ? "fw-online" : "fw-offline-dot");
      round.querySelector("[data-sync-count]").textContent = sending ? msg("sending") :
        waiting.length ? msg("waiting", {n: waiting.length}) : msg("none");
      var line = last ? msg("last", {t: hhmm(last)}) : msg("never");
      if (gone) line = "";
      else if (state.login) line = msg("login");
      else if (state.weak && waiting.length) line = msg("weak") + " · " + line;
      else if (state.server && waiting.length) line += " · " + msg("server");
      round.querySelector("[data-sync-last]").textContent = line;
      var link = round.querySelector("[data-sync-login]");
      link.parentNode.hidden = !state.login;
      link.href = round.getAttribute("data-login") + "?next=" + encodeURIComponent(location.pathname + location.search);
      // What the phone deleted, and what it is going to delete: said plainly, in the worker's words.
      var notes = [];
      var expiredCount = read(EXPIRED, 0), discarded = read(DISCARDED, 0), me = pageOwner();
      if (expiredCount || gone) notes.push(msg("expired", {n: expiredCount}));
      if (discarded) notes.push(msg("discarded", {n: discarded}));
      var unsent = waiting.length + problems.length;
      var warn = unsent && me && me.start && Date.now() - me.start > WARN_MS;
      if (warn) notes.push(msg("warn", {n: unsent, t: hhmm(me.start + me.max_age)}));
      var box = round.querySelector("[data-sync-notes]");
      box.textContent = notes.join(" ");
      box.hidden = !notes.length;
      round.setAttribute("data-warn", warn ? "1" : "0");
      round.setAttribute("data-waiting", waiting.length);
      round.setAttribute("data-problems", problems.length);
      round.setAttribute("data-state", sending ? "sending" : state.login ? "login" : problems.length ? "problems" :
        waiting.length ? "waiting" : "synced");
      var ul = round.querySelector("[data-sync-problems]");
      var base = round.getAttribute("data-house-url").replace(/0\/$/, "");
      ul.innerHTML = problems.length ? "<li class='fw-problems-head'>" + esc(msg("problems", {n: problems.length})) +
        "</li>" : "";
      problems.forEach(function (e) {
        var li = document.createElement("li");
        li.setAttribute("data-entry-state", e.state);
        li.innerHTML = "<strong>" + esc(msg("kind-" + e.kind)) + " · " + esc(e.label || "") + "</strong><br>" +
          "<span class='fw-reason'>" + esc(reason(e)) + "</span><br>" +
          "<a class='button' href='" + esc(base + e.house + "/") + "' data-fix>" + esc(msg("fix")) + "</a> " +
          "<button type='button' class='button' data-discard='" + e.seq + "'>" + esc(msg("discard")) + "</button>";
        ul.appendChild(li);
      });
      document.querySelectorAll("a.fw-row[data-house]").forEach(function (a) {
        var queued = list.some(function (e) { return String(e.house) === a.getAttribute("data-house"); });
        var b = a.querySelector("[data-queued-badge]");
        if (b) b.hidden = !queued;
      });
    });
  }
  function reason(e) {
    if (e.state === "conflict") return msg("conflict");
    var texts = [];
    Object.keys(e.errors || {}).forEach(function (k) { texts = texts.concat(e.errors[k]); });
    return msg("refused") + texts.join("；");
  }
  function refresh() {
    return entries().catch(function () { return []; }).then(function (list) {
      return Promise.all([renderBadge(list, state.sending), renderEntry(list)]);
    }).catch(function () {});
  }
  function discard(seq) {
    if (!window.confirm(msg("discard-confirm"))) return Promise.resolve(false);
    return deleteEntry(seq).then(refresh).then(function () { return true; });
  }

  // --- the house page: its queued entry (waiting, refused or in conflict) ----------------------------------------
  var entryShown = null;
  function renderEntry(list) {
    var form = document.querySelector("form[data-draft-form]");
    var box = document.querySelector("[data-entry]");
    if (!form || !box) return null;
    var house = form.getAttribute("data-draft-form");
    var e = list.filter(function (x) { return x.kind === "visit" && String(x.house) === house; }).pop();
    box.hidden = !e;
    if (!e) { entryShown = null; return null; }
    box.setAttribute("data-state", e.state);
    box.querySelector("[data-entry-state]").textContent = e.state === "waiting" ?
      msg("waiting", {n: 1}) + " · " + hhmm(e.at) : reason(e);
    var cmp = box.querySelector("[data-entry-compare]");
    cmp.innerHTML = "";
    if (e.conflict) {
      var row = function (items) { return items.length ? items.map(function (t) { return "<div>" + esc(t) + "</div>"; }).join("") : "—"; };
      cmp.innerHTML = "<p>" + esc(e.conflict.text || "") + "</p><div class='table-wrap'><table class='list compare'>" +
        "<thead><tr><th>" + esc(msg("mine")) + "</th><th>" + esc(msg("theirs")) + "</th></tr></thead><tbody><tr><td>" +
        row(e.conflict.mine) + "</td><td>" + row(e.conflict.theirs) + "</td></tr></tbody></table></div>";
    }
    box.querySelector("[data-entry-discard]").setAttribute("data-seq", e.seq);
    if (e.state === "waiting") {
      var now = !navigator.onLine ? "queued" : state.sending ? "sending" : state.login ? "login" :
        state.weak || state.server ? "weak" : null;
      if (now) status(form, now);
    }
    if (entryShown !== e.seq + ":" + e.state) {
      entryShown = e.seq + ":" + e.state;
      // The worker corrects the queued record itself: its fields (and photo) back in the form, on this page's
      // version of the house (the current one when the page came from the network).
      restore(form, e.fields, ["house_version"]);
      var version = form.querySelector("input[name=house_version]");
      // A conflict the worker has now seen: sent again, it applies to the version the server answered with.
      if (e.conflict && e.conflict.version && version && Number(version.value) < e.conflict.version) {
        version.value = e.conflict.version;
      }
      restoreFiles(form, e.files);
      syncSections(form);
      form.querySelectorAll("details.fw-sec").forEach(function (sec) {
        if (sec.querySelector("select option:checked:not([value=''])") ||
            sec.querySelector("input[type=checkbox]:checked, input[type=text]:not([value=''])")) sec.open = true;
      });
      if (e.state === "refused") showErrors(form, e.errors);
      form.setAttribute("data-entry-seq", e.seq);
    }
    return null;
  }

  // --- the draft (what is typed, per house) ---------------------------------------------------------------------
  function status(form, key) {
    (form || document).querySelectorAll("[data-draft-status]").forEach(function (el) {
      el.textContent = el.getAttribute("data-msg-" + key) || "";
      el.setAttribute("data-state", key);
    });
  }
  function syncSections(form) {
    var add = form.querySelector("input[name=add_person]");
    var person = form.querySelector(".fw-person");
    if (add && person) person.hidden = !add.checked;
    var mode = form.querySelector("input[name='new-mode']:checked");
    form.querySelectorAll(".fw-person [data-mode]").forEach(function (el) {
      el.hidden = !!mode && el.getAttribute("data-mode") !== mode.value;
    });
  }
  function houseOf(form) {
    return form.getAttribute("data-draft-form") || form.closest("[data-house]").getAttribute("data-house");
  }
  function queueVisit(form) {
    var main = document.querySelector("form[data-draft-form]");
    var errors = visitErrors(form);
    if (showErrors(form, errors)) { status(main, "check"); return; }
    var house = houseOf(form);
    var data = fields(form);
    var cid = (data.filter(function (p) { return p[0] === "client_id"; })[0] || [null, ""])[1];
    var url = form.getAttribute("action") || window.location.pathname;
    enqueue({id: cid, kind: "visit", house: house, url: url, page: window.location.pathname, fields: data,
             files: files(form), label: main ? main.getAttribute("data-label") : ""}).then(function () {
      localStorage.removeItem(DRAFT + house);
      status(main, navigator.onLine ? "sending" : "queued");
      return flush();
    }).then(function () {
      // What became of it: sent (the page moves on to the visit), still waiting, or back with the reason.
      return entries().then(function (list) {
        var e = list.filter(function (x) { return x.id === cid; })[0];
        if (!e) return;
        status(main, e.state === "conflict" ? "conflict" : e.state === "refused" ? "refused" :
          !navigator.onLine ? "queued" : state.sending ? "sending" : state.login ? "login" : "weak");
      });
    }).catch(function () {});
  }
  function queueCase(form) {
    var errors = caseErrors(form);
    var out = form.querySelector("[data-case-status]");
    if (showErrors(form, errors)) return;
    var data = fields(form).filter(function (p) { return p[0] !== "client_id"; });
    var cid = form.querySelector("input[name=client_id]").value;
    enqueue({id: cid, kind: "case", house: form.getAttribute("data-house"), url: form.getAttribute("data-case-form"),
             fields: data, files: files(form), label: form.getAttribute("data-label")}).then(function () {
      out.textContent = form.getAttribute("data-msg-queued");
      out.setAttribute("data-state", "queued");
      form.querySelector("input[name=client_id]").value = uuid(); // the next report is another one
      form.reset();
      return flush();
    }).then(function () {
      return entries().then(function (list) {
        if (!list.some(function (e) { return e.id === cid; })) {
          out.textContent = form.getAttribute("data-msg-sent");
          out.setAttribute("data-state", "sent");
        }
      });
    });
  }

  function offlineBanner() {
    document.querySelectorAll("[data-offline-banner]").forEach(function (el) { el.hidden = navigator.onLine; });
  }

  // --- today's list: keep the round on the phone ------------------------------------------------------------------
  function keepRound() {
    if (!window.caches || !navigator.onLine || !document.querySelector("a.fw-row[data-house]") &&
        !document.querySelector(".fw .empty")) return Promise.resolve();
    return fetch(round.getAttribute("data-round"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok && !r.redirected ? r.json() : null; })
      .then(function (data) {
        if (!data) return null;
        setMeta("csrf", data.csrf);
        var wanted = data.pages.concat(data.houses);
        return caches.open(PAGES).then(function (cache) {
          return cache.keys().then(function (keys) {
            var have = {};
            keys.forEach(function (req) { have[new URL(req.url).pathname + new URL(req.url).search] = true; });
            // Only today's list: a house page no longer on it is dropped.
            var drops = keys.filter(function (req) {
              var u = new URL(req.url);
              return u.pathname !== OWNER_URL && wanted.indexOf(u.pathname + u.search) < 0;
            }).map(function (req) { return cache.delete(req); });
            var todo = wanted.filter(function (u) { return !have[u] || data.pages.indexOf(u) >= 0; });
            var i = 0;
            var get = function (u, again) {
              return fetch(u, {credentials: "same-origin"}).then(function (r) {
                if (r.ok && !r.redirected) return cache.put(u, r);
                if (again && r.status >= 500) {
                  return new Promise(function (ok) { setTimeout(ok, 300); }).then(function () { return get(u, false); });
                }
              });
            };
            // Two at a time: the list arrives quickly on a slow connection without crowding the server.
            var worker = function () {
              if (i >= todo.length) return Promise.resolve();
              return get(todo[i++], true).catch(function () {}).then(worker);
            };
            return Promise.all(drops.concat([worker(), worker()])).then(function () {
              var kept = round.querySelector("[data-sync-kept]");
              kept.textContent = msg("kept", {n: data.houses.length});
              kept.hidden = false;
              round.setAttribute("data-kept", data.houses.length);
            });
          });
        });
      }).catch(function () {});
  }

  // --- start -----------------------------------------------------------------------------------------------------
  function queueing() { return !!(round && window.indexedDB && !gone); }
  function setupForms() {
    // Drafts are read at once (before the owner's check in IndexedDB): they must be this user's.
    var me = pageOwner();
    if (me && read(OWNER_KEY, null) !== me.user) {
      Object.keys(localStorage).forEach(function (k) { if (k.indexOf(DRAFT) === 0) localStorage.removeItem(k); });
      write(OWNER_KEY, me.user);
    }
    document.querySelectorAll("[data-clear-draft]").forEach(function (el) {
      localStorage.removeItem(DRAFT + el.getAttribute("data-clear-draft"));
    });
    document.querySelectorAll("form[data-draft-form]").forEach(function (form) {
      var key = DRAFT + form.getAttribute("data-draft-form");
      var saved = read(key, null);
      var bound = form.querySelector(".errorlist, .form-errors") || document.querySelector("[data-testid=conflict]");
      if (saved && saved.fields && !bound) {
        restore(form, saved.fields);
        document.querySelectorAll("[data-draft-banner]").forEach(function (el) { el.hidden = false; });
      } else if (!bound && round) {
        // A page opened from the phone's copy carries the id it was rendered with: every opening gets its own.
        form.querySelector("input[name=client_id]").value = uuid();
      }
      syncSections(form);
      var save = function () { write(key, {fields: fields(form), at: new Date().toISOString()}); };
      form.addEventListener("input", save);
      form.addEventListener("change", function () { syncSections(form); save(); });
      // Every submission goes through the queue, online or not: kept on the phone first, then sent. A phone
      // that says it is online may have no usable signal; what does not arrive waits for the retry.
      form.addEventListener("submit", function (ev) {
        save();
        if (!queueing()) return; // no IndexedDB: sent as a normal form, the server answers on its own page
        ev.preventDefault();
        queueVisit(form);
      });
    });
    document.querySelectorAll("form[data-quick]").forEach(function (form) {
      if (round) form.querySelector("input[name=client_id]").value = uuid();
      form.addEventListener("submit", function (ev) {
        if (!queueing()) return;
        ev.preventDefault();
        queueVisit(form);
      });
    });
    document.querySelectorAll("form[data-case-form]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!queueing()) return; // no queue: the report page takes the form as it is
        ev.preventDefault();
        queueCase(form);
      });
    });
    document.addEventListener("click", function (ev) {
      var d = ev.target.closest("[data-discard], [data-entry-discard]");
      if (!d) return;
      var seq = Number(d.getAttribute("data-discard") || d.getAttribute("data-seq"));
      discard(seq).then(function (gone) {
        var form = document.querySelector("form[data-draft-form]");
        if (gone && form && String(form.getAttribute("data-entry-seq")) === String(seq)) {
          localStorage.removeItem(DRAFT + form.getAttribute("data-draft-form"));
          window.location.reload();
        }
      });
    });
    // Logging out deletes the phone's data (the logout page clears it too): say what would be lost.
    document.querySelectorAll("form[action$='/logout/']").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        var n = Number(round && round.getAttribute("data-waiting") || 0) +
          Number(round && round.getAttribute("data-problems") || 0);
        if (n && !window.confirm(msg("logout-confirm", {n: n}))) { ev.preventDefault(); return; }
        if (!ev.defaultPrevented) wipe();
      });
    });
  }

  function chart() {
    var el = document.getElementById("fw-chart");
    if (!el || !window.echarts) return;
    var data = JSON.parse(el.getAttribute("data-chart"));
    var c = window.echarts.init(el);
    c.setOption({
      tooltip: {trigger: "axis"}, legend: {data: [data.labels.visits, data.labels.stale]},
      grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
      xAxis: {type: "value", minInterval: 1}, yAxis: {type: "category", data: data.names},
      series: [{name: data.labels.visits, type: "bar", data: data.visits, itemStyle: {color: "#1f6feb"}},
               {name: data.labels.stale, type: "bar", data: data.stale, itemStyle: {color: "#b7791f"}}]
    });
    el.setAttribute("data-ready", "1");
    window.addEventListener("resize", function () { c.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    round = document.querySelector("[data-offline-round]");
    chart();
    offlineBanner();
    if (round && "serviceWorker" in navigator) {
      navigator.serviceWorker.register(round.getAttribute("data-sw"), {scope: "/"}).catch(function () {});
    }
    setupForms();
    ready = round ? checkOwner().catch(function () {}) : Promise.resolve();
    ready.then(refresh).then(function () {
      round && round.setAttribute("data-ready", "1");
      return flush();
    }).then(function () {
      if (round && document.querySelector("a.fw-row[data-house], .fw .empty")) return keepRound();
    }).then(function () { round && round.setAttribute("data-kept-ready", "1"); });
    if (round) setInterval(tick, TICK_MS);
  });
  window.addEventListener("online", function () { offlineBanner(); refresh(); flush(); });
  window.addEventListener("offline", function () { offlineBanner(); refresh(); });
})();
