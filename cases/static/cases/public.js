/* The resident's report page: pick a point on the map (or use the phone's position) into the hidden lat/lng. */
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("pick-map");
    var lat = document.getElementById("id_lat");
    var lng = document.getElementById("id_lng");
    var label = document.getElementById("point-label");
    if (!el || !lat || !lng) return;
    var marker = null;
    var map = null;
    function set(la, ln) {
      lat.value = la.toFixed(6);
      lng.value = ln.toFixed(6);
      if (label) label.textContent = la.toFixed(5) + ", " + ln.toFixed(5);
      if (map) {
        if (marker) marker.setLatLng([la, ln]); else marker = L.marker([la, ln]).addTo(map);
      }
    }
    if (typeof L !== "undefined" && window.RenfangMap) {
      var cLat = parseFloat(el.dataset.lat), cLng = parseFloat(el.dataset.lng);
      map = RenfangMap.create(el);
      if (!isNaN(cLat) && !isNaN(cLng)) {
        map.setView([cLat, cLng], 17);
        L.circleMarker([cLat, cLng], { radius: 7, color: "#1d5fa8", fillOpacity: 0.4 }).addTo(map);
      } else {
        map.setView(RenfangMap.FALLBACK, 12);
      }
      map.on("click", function (e) { set(e.latlng.lat, e.latlng.lng); });
      if (lat.value && lng.value) set(parseFloat(lat.value), parseFloat(lng.value));
    }
    var btn = document.getElementById("use-location");
    if (btn) {
      btn.addEventListener("click", function () {
        if (!navigator.geolocation) return;
        navigator.geolocation.getCurrentPosition(function (pos) {
          set(pos.coords.latitude, pos.coords.longitude);
          if (map) map.setView([pos.coords.latitude, pos.coords.longitude], 17);
        });
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
