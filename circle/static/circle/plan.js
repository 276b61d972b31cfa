/* The plan page: a candidate site is a click on the map — the click fills the hidden coordinates, names the point
   and chooses the grid it falls in; grids and compounds are labelled so the planner knows where they click. */
(function () {
  "use strict";

  function inRing(x, y, ring) { // ray casting, ring of [lng, lat]
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function contains(geom, lng, lat) {
    if (!geom) return false;
    var polys = geom.type === "Polygon" ? [geom.coordinates] : geom.type === "MultiPolygon" ? geom.coordinates : [];
    return polys.some(function (p) {
      return inRing(lng, lat, p[0]) && !p.slice(1).some(function (h) { return inRing(lng, lat, h); });
    });
  }

  function start() {
    var el = document.getElementById("site-map");
    var form = document.getElementById("site-form");
    if (!el || !form || typeof L === "undefined" || !window.RenfangMap) return;
    var map = RenfangMap.create(el);
    var point = document.getElementById("site-point");
    var grids = null;
    var picker = RenfangMap.pick(map, function (lat, lng) {
      form.querySelector("[name=lat]").value = lat.toFixed(6);
      form.querySelector("[name=lng]").value = lng.toFixed(6);
      var name = "";
      if (grids) {
        grids.features.forEach(function (f) {
          if (!name && contains(f.geometry, lng, lat)) {
            name = f.properties.name;
            var sel = form.querySelector("[name=grid]");
            if (sel && f.properties.id != null) sel.value = String(f.properties.id);
          }
        });
      }
      if (point) point.textContent = point.dataset.labelAt + (name ? name + " · " : "") + lat.toFixed(5) + ", " +
        lng.toFixed(5);
      el.dataset.picked = "1";
    });
    var lat0 = parseFloat(form.querySelector("[name=lat]").value), lng0 = parseFloat(form.querySelector("[name=lng]").value);
    if (!isNaN(lat0) && !isNaN(lng0)) picker.set(lat0, lng0, true);
    RenfangMap.getJSON(el.dataset.url)
      .then(function (data) {
        grids = data.grids;
        var gl = L.geoJSON(data.grids, { style: { color: "#61707f", weight: 1, fillOpacity: 0.04 }, interactive: false });
        var cl = L.geoJSON(data.compounds, { interactive: false, pointToLayer: function (f, ll) {
          return L.circleMarker(ll, { radius: 5, color: f.properties.served ? "#2f855a" : "#c53030", weight: 1,
            fillOpacity: 0.5, interactive: false });
        } });
        var bounds = L.latLngBounds([]);
        [gl, cl].forEach(function (l) { l.addTo(map); if (l.getLayers().length) bounds.extend(l.getBounds()); });
        RenfangMap.fit(map, bounds, 17);
        RenfangMap.labels(map, gl, function (f) { return f.properties.name; }, { rank: function () { return 1; } });
        RenfangMap.labels(map, cl, function (f) { return f.properties.name; }, { minZoom: 16,
          className: "rf-maplabel-small" });
        el.dataset.ready = "1";
      })
      .catch(function (e) { el.dataset.error = String(e); RenfangMap.fit(map, null); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
