/* The small map of the services-near-me page. */
(function () {
  "use strict";
  var esc = window.Renfang.esc;
  function start() {
    var el = document.getElementById("near-map");
    if (!el || typeof L === "undefined" || !window.RenfangMap) return;
    var map = RenfangMap.create(el, { leaflet: { scrollWheelZoom: false } });
    RenfangMap.getJSON(el.dataset.url)
      .then(function (data) {
        var bounds = L.latLngBounds([]);
        var home = null;
        if (data.home.lat != null) {
          home = L.circleMarker([data.home.lat, data.home.lng], { radius: 8, color: "#b5322b", weight: 3,
            fillColor: "#b5322b", fillOpacity: 0.8 }).bindPopup(esc(el.dataset.labelHome)).addTo(map);
          bounds.extend(home.getLatLng());
        }
        var layer = L.geoJSON(data.facilities, {
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, { radius: 6, color: "#1f6feb", weight: 2, fillColor: "#fff", fillOpacity: 1 });
          },
          onEachFeature: function (f, l) {
            l.bindPopup("<b>" + esc(f.properties.name) + "</b><br>" + esc(f.properties.category) + " · " +
              esc(f.properties.minutes) + " " + esc(el.dataset.labelMin));
          }
        }).addTo(map);
        if (data.facilities.features.length) bounds.extend(layer.getBounds());
        RenfangMap.fit(map, bounds, 17, 0.15);
        if (home) home.bringToFront();  // drawn once the map has a view: the reader's place above the facilities
        el.dataset.ready = "1";
      })
      .catch(function (e) { el.dataset.error = String(e); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
