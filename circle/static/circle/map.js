/* The gap map: grids, compounds (gaps sized by the residents affected) and facilities from the app's own GeoJSON. */
(function () {
  "use strict";
  var esc = window.Renfang.esc;
  function start() {
    var el = document.getElementById("circle-map");
    if (!el || typeof L === "undefined" || !window.RenfangMap) return;
    var map = RenfangMap.create(el);
    RenfangMap.getJSON(el.dataset.url)
      .then(function (data) {
        var bounds = L.latLngBounds([]);
        var grids = L.geoJSON(data.grids, { style: { color: "#61707f", weight: 1, fillOpacity: 0.04 } }).addTo(map);
        if (data.grids.features.length) bounds.extend(grids.getBounds());
        var maxAffected = 1;
        data.compounds.features.forEach(function (f) { maxAffected = Math.max(maxAffected, f.properties.affected); });
        var compounds = L.geoJSON(data.compounds, {
          pointToLayer: function (f, latlng) {
            var p = f.properties;
            var r = p.served ? 5 : 6 + 18 * Math.sqrt(p.affected / maxAffected);
            return L.circleMarker(latlng, { radius: r, color: p.served ? "#2f855a" : "#c53030", weight: 1,
              fillOpacity: p.served ? 0.6 : 0.45 });
          },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            layer.bindPopup("<b>" + esc(p.name) + "</b><br>" + (p.minutes == null ? esc(el.dataset.labelNone)
              : esc(p.minutes) + " " + esc(el.dataset.labelMin)) + "<br>" + esc(el.dataset.labelNearest) +
              esc(p.nearest || el.dataset.labelNone) + (p.served ? "" : "<br>" + esc(el.dataset.labelAffected) +
              esc(p.affected_label)));
          }
        }).addTo(map);
        if (data.compounds.features.length) bounds.extend(compounds.getBounds());
        var facilities = L.geoJSON(data.facilities, {
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, { radius: 5, color: "#1f6feb", weight: 2, fillColor: "#fff", fillOpacity: 1 });
          },
          onEachFeature: function (f, layer) {
            layer.bindPopup("<b>" + esc(f.properties.name) + "</b><br>" + esc(f.properties.hours));
          }
        }).addTo(map);
        if (data.facilities.features.length) bounds.extend(facilities.getBounds());
        RenfangMap.fit(map, bounds, 17);
        RenfangMap.labels(map, grids, function (f) { return f.properties.name; }, { rank: function () { return 2; } });
        RenfangMap.labels(map, compounds, function (f) { return f.properties.name; }, { minZoom: 16,
          className: "rf-maplabel-small", rank: function (f) { return f.properties.served ? 0 : 1; } });
        var flag = document.getElementById("circle-method");
        if (flag) flag.hidden = data.method !== "straight";
        var gaps = data.compounds.features.filter(function (f) { return !f.properties.served; }).length;
        var summary = document.getElementById("circle-summary");
        if (summary) summary.textContent = data.category.name + " · " + Math.round(data.category.threshold_m) + " " +
          el.dataset.labelMetres + " · " + el.dataset.labelGaps + gaps + " / " + data.compounds.features.length;
        el.dataset.ready = "1";
      })
      .catch(function (e) { el.dataset.error = String(e); el.textContent = String(e); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
