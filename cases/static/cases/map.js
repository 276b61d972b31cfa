/* The case map: open cases as points when few, as hotspots (cells counted on the server) when many. */
(function () {
  "use strict";
  var esc = window.Renfang.esc;
  function start() {
    var el = document.getElementById("case-map");
    if (!el || typeof L === "undefined" || !window.RenfangMap) return;
    var map = RenfangMap.create(el);
    var layer = L.layerGroup().addTo(map);
    var form = document.getElementById("case-map-filters");
    var summary = document.getElementById("case-map-summary");
    var fitted = false;
    function load() {
      var params = new URLSearchParams(new FormData(form));
      if (fitted) {
        var b = map.getBounds();
        params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(","));
      }
      RenfangMap.getJSON(el.dataset.url + "?" + params.toString())
        .then(function (data) {
          layer.clearLayers();
          var bounds = L.latLngBounds([]);
          data.features.forEach(function (f) {
            var p = f.properties;
            var ll = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
            bounds.extend(ll);
            if (p.hotspot) {
              var size = Math.round(22 + 10 * Math.log10(p.count + 1));
              var icon = L.divIcon({ className: "case-hotspot" + (p.overdue ? " hot" : ""), iconSize: [size, size],
                html: "<span style=\"line-height:" + size + "px\">" + esc(p.count) + "</span>" });
              L.marker(ll, { icon: icon }).bindPopup(esc(p.count) + " " + esc(el.dataset.labelCases) +
                (p.overdue ? "，" + esc(el.dataset.labelOverdue) + " " + esc(p.overdue) : "")).addTo(layer);
            } else {
              L.circleMarker(ll, { radius: 7, color: p.overdue ? "#c53030" : "#d69e2e", weight: 2, fillOpacity: 0.6 })
                .bindPopup("<a href=\"" + esc(p.url) + "\">" + esc(p.number) + "</a><br>" + esc(p.title) + "<br>" +
                  esc(p.status)).addTo(layer);
            }
          });
          if (!fitted) {
            fitted = true;
            RenfangMap.fit(map, bounds, 17);
          }
          if (summary) summary.textContent = summary.dataset.labelTotal + data.total;
        })
        .catch(function () { if (summary) summary.textContent = "—"; });
    }
    map.on("moveend", function () { if (fitted) load(); });
    form.addEventListener("change", load);
    load();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
