/* The plan page: click on the map to fill the candidate site's coordinates. */
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("site-map");
    var form = document.getElementById("site-form");
    if (!el || !form || typeof L === "undefined") return;
    var map = L.map(el, { attributionControl: false });
    if (el.dataset.tiles) L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
    var marker = null;
    map.on("click", function (e) {
      form.querySelector("[name=lat]").value = e.latlng.lat.toFixed(6);
      form.querySelector("[name=lng]").value = e.latlng.lng.toFixed(6);
      if (marker) marker.setLatLng(e.latlng); else marker = L.marker(e.latlng).addTo(map);
    });
    fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        var layers = [
          L.geoJSON(data.grids, { style: { color: "#61707f", weight: 1, fillOpacity: 0.04 }, interactive: false }),
          L.geoJSON(data.compounds, { pointToLayer: function (f, ll) {
            return L.circleMarker(ll, { radius: 5, color: f.properties.served ? "#2f855a" : "#c53030", weight: 1,
              fillOpacity: 0.5, interactive: false });
          } })
        ];
        var bounds = L.latLngBounds([]);
        layers.forEach(function (l) { l.addTo(map); if (l.getLayers().length) bounds.extend(l.getBounds()); });
        if (bounds.isValid()) map.fitBounds(bounds.pad(0.1), { maxZoom: 17 }); else map.setView([31.3, 120.6], 13);
        el.dataset.ready = "1";
      })
      .catch(function (e) { el.dataset.error = String(e); map.setView([31.3, 120.6], 13); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
