{% autoescape off %}/* Renfang's service worker (served by fieldwork.pwa.service_worker at /sw.js, scope "/").
 *
 * - The app shell (CONFIG.shell: static files of this app) is precached at install, served cache-first.
 * - Today's list and the house pages on it: network first; the copy the phone keeps (Cache Storage
 *   "renfang-pages", written by fieldwork.js from the round list) answers when there is no network, or when the
 *   network has not answered within 4 s. A page not kept answers with the offline page.
 * - The kept pages belong to one login: the record "owner" (user, login start, lifetime) sits in the same cache;
 *   past the session's absolute lifetime everything kept is deleted before anything is served.
 * - Nothing is sent from here: queued visits and reports live in IndexedDB and are sent by the page.
 */
"use strict";
var CONFIG = {{ config }};
var SHELL = "renfang-shell-" + CONFIG.version;
var PAGES = "renfang-pages";
var OWNER = "/__renfang_owner__";
var DB = "renfang-fieldwork";
var NETWORK_WAIT_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return Promise.all([
      cache.addAll(CONFIG.shell),
      // Without cookies: the offline page holds no user name.
      fetch(CONFIG.offline, {credentials: "omit"}).then(function (r) { if (r.ok) return cache.put(CONFIG.offline, r); })
    ]);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("renfang-shell-") === 0 && k !== SHELL; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isRoundPage(url) {
  return url.pathname === CONFIG.today || (url.pathname.indexOf(CONFIG.house) === 0 &&
    /^\d+\/$/.test(url.pathname.slice(CONFIG.house.length)));
}

function wipe() {
  return Promise.all([caches.delete(PAGES), new Promise(function (resolve) {
    var req = indexedDB.deleteDatabase(DB);
    req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
  })]);
}

// The kept pages, or null when they are past the login's lifetime (then they are deleted first).
function keptCache() {
  return caches.open(PAGES).then(function (cache) {
    return cache.match(OWNER).then(function (r) { return r ? r.json() : null; }).then(function (owner) {
      if (!owner || !owner.start || Date.now() - owner.start > owner.max_age) return wipe().then(function () { return null; });
      return cache;
    });
  });
}

function offline() {
  return caches.match(CONFIG.offline).then(function (r) {
    return r || new Response("offline", {status: 503, headers: {"Content-Type": "text/plain; charset=utf-8"}});
  });
}

function fromKept(request) {
  return keptCache().then(function (cache) { return cache ? cache.match(request, {ignoreVary: true}) : null; });
}

function roundPage(request) {
  var network = fetch(request).then(function (response) {
    if (response.ok && !response.redirected && response.type === "basic") {
      var copy = response.clone();
      // Refresh a kept copy (the page is on today's list); never add a page the round list did not name.
      caches.open(PAGES).then(function (cache) {
        return cache.match(request, {ignoreVary: true}).then(function (old) { if (old) return cache.put(request, copy); });
      });
    }
    return response;
  });
  var fallback = function () { return fromKept(request).then(function (hit) { return hit || offline(); }); };
  var slow = new Promise(function (resolve) { setTimeout(resolve, NETWORK_WAIT_MS); }).then(function () {
    return fromKept(request).then(function (hit) { return hit || network.catch(fallback); });
  });
  return Promise.race([network.catch(fallback), slow]);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (CONFIG.shell.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(request, {ignoreSearch: true}).then(function (hit) { return hit || fetch(request); }));
  } else if (request.mode === "navigate" && isRoundPage(url)) {
    event.respondWith(roundPage(request));
  } else if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(offline));
  }
});
{% endautoescape %}
