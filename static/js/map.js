/* Renfang's one map scaffolding (Leaflet, from static/vendor): every map page builds its map with
   RenfangMap.create(el), which draws the base map — the tile server of RENFANG_TILE_URL when one is set, else the
   streets of the walking network served by the app itself (no internet needed) — and offers the pieces the pages
   share: getJSON, fit, labels that never pile up, and click-to-place. Load after vendor/leaflet/leaflet.js. */
(function () {
  "use strict";
  var FALLBACK = [31.3, 120.6];
  var streetsCache = null;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
  }

  function basemapUrl(el) {
    if (el.dataset.basemap) return el.dataset.basemap;
    var meta = document.querySelector("meta[name=renfang-basemap]");
    return meta ? meta.getAttribute("content") : "";
  }

  // The offline base map: the streets as thin lines under everything else, drawn on one canvas.
  function drawStreets(map, url, dark) {
    if (!url) return;
    if (!streetsCache) streetsCache = getJSON(url);
    streetsCache.then(function (gj) {
      if (!gj || !gj.features || !gj.features.length) return;
      var pane = map.getPane("renfang-base") || map.createPane("renfang-base");
      pane.style.zIndex = 250;
      pane.style.pointerEvents = "none";
      L.geoJSON(gj, { pane: "renfang-base", interactive: false, renderer: L.canvas({ pane: "renfang-base", padding: 0.3 }),
        style: function (f) {
          var major = f.properties && f.properties.major;
          return { color: dark ? (major ? "#475569" : "#334155") : (major ? "#b8c0cc" : "#d5dae1"),
            weight: major ? 3 : 1.5, opacity: 1 };
        } }).addTo(map);
      map.getContainer().dataset.basemap = "streets";
    }).catch(function () { map.getContainer().dataset.basemap = "none"; });
  }

  function create(el, opts) {
    opts = opts || {};
    var map = L.map(el, Object.assign({ zoomControl: true, attributionControl: false }, opts.leaflet || {}));
    var bg = opts.dark ? "#0f1f33" : "#f4f1ea";
    el.style.background = bg;
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
      el.dataset.basemap = "tiles";
    } else {
      drawStreets(map, basemapUrl(el), opts.dark);
    }
    return map;
  }

  function fit(map, bounds, maxZoom, pad) {
    if (bounds && bounds.isValid()) map.fitBounds(bounds.pad(pad == null ? 0.1 : pad), { maxZoom: maxZoom || 17 });
    else map.setView(FALLBACK, 13);
  }

  // Permanent labels (text, one line per \n) on the features of a layer, shown from opts.minZoom on, and thinned so that none overlaps
  // another on the same map: labels of higher rank (opts.rank; grids before compounds) are placed first and a label
  // that would cover one already placed is hidden until the map is zoomed in far enough for both.
  function placeAll(map) {
    var taken = [], zoom = map.getZoom(), shown = 0;
    map._rfLabels.forEach(function (it) {
      var tip = it.layer.getTooltip(), node = tip && tip.getElement();
      if (!node) return;
      if (zoom < it.minZoom || !map.hasLayer(it.group)) { node.style.visibility = "hidden"; return; }
      node.style.visibility = "visible";
      var r = node.getBoundingClientRect();
      var hit = r.width === 0 || taken.some(function (o) {
        return r.left < o.right + 2 && r.right > o.left - 2 && r.top < o.bottom + 1 && r.bottom > o.top - 1;
      });
      if (hit) node.style.visibility = "hidden"; else { taken.push(r); shown += 1; }
    });
    map.getContainer().dataset.labels = String(shown);
  }

  function labels(map, layer, text, opts) {
    opts = opts || {};
    if (!map._rfLabels) {
      map._rfLabels = [];
      map.on("zoomend moveend resize", function () { placeAll(map); });
    }
    layer.eachLayer(function (l) {
      var t = text(l.feature, l);
      if (!t) return;
      l.bindTooltip(String(t).split("\n").map(Renfang.esc).join("<br>"), { permanent: true, direction: "center",
        interactive: false, opacity: 1,
        className: "rf-maplabel" + (opts.className ? " " + opts.className : "") });
      map._rfLabels.push({ layer: l, group: layer, minZoom: opts.minZoom || 0,
        rank: opts.rank ? opts.rank(l.feature) : 0 });
    });
    map._rfLabels.sort(function (x, y) { return y.rank - x.rank; });
    layer.on("add remove", function () { placeAll(map); });
    window.setTimeout(function () { placeAll(map); }, 0);
    return function () { placeAll(map); };
  }

  // Take a layer's labels off the map (before the layer is drawn again, e.g. coloured by another figure).
  function unlabel(map, layer) {
    if (!map._rfLabels) return;
    map._rfLabels = map._rfLabels.filter(function (it) {
      if (it.group === layer) { // the label itself goes, not only its placing
        var tip = it.layer.getTooltip(), node = tip && tip.getElement();
        it.layer.unbindTooltip();
        if (node && node.parentNode) node.parentNode.removeChild(node);
      }
      return it.group !== layer;
    });
  }

  // Click-to-place: a click on the map puts (or moves) one marker there and calls onPick(lat, lng).
  function pick(map, onPick, opts) {
    var marker = null;
    function set(lat, lng, silent) {
      if (marker) marker.setLatLng([lat, lng]);
      else marker = L.marker([lat, lng], { keyboard: false, title: (opts && opts.title) || "" }).addTo(map);
      if (!silent) onPick(lat, lng);
    }
    map.on("click", function (e) { set(e.latlng.lat, e.latlng.lng); });
    map.getContainer().style.cursor = "crosshair";
    return { set: set, marker: function () { return marker; } };
  }

  window.RenfangMap = { create: create, fit: fit, getJSON: getJSON, labels: labels, unlabel: unlabel, pick: pick,
    FALLBACK: FALLBACK };
})();
