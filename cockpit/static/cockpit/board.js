/* The cockpit board: ECharts panels (with a table view and a PNG download each), the Leaflet map of the
   place's children coloured by a chosen figure, registered GeoJSON layers, and — on the wall screen — a timer
   that re-fetches the board's JSON. Every number comes from the server (small cells already masked). */
(function () {
  "use strict";
  var root, payload, dark, lang, charts = {};
  var PALETTE = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
  var PALETTE_DARK = ["#16324f", "#1d4e89", "#2b6cb0", "#4299e1", "#90cdf4"];

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // --- charts -----------------------------------------------------------------------------------------------
  function labelOf(item, series) { return item.label || series.label; }

  function textStyle() { return dark ? { color: "#cbd5e1" } : { color: "#334155" }; }

  function optionFor(p) {
    var base = { backgroundColor: "transparent", textStyle: textStyle(), animation: !dark,
      tooltip: { trigger: p.chart === "pie" ? "item" : "axis", confine: true },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true } };
    if (p.chart === "pie") {
      var s = p.series[0];
      base.series = [{ type: "pie", radius: ["35%", "68%"], label: { formatter: "{b}\n{c}", color: textStyle().color },
        data: s.items.filter(function (i) { return i.value !== 0; })
          .map(function (i) { return { name: labelOf(i, s), value: i.value, url: i.url }; }) }];
      return base;
    }
    if (p.chart === "pyramid") {
      var items = p.series[0].items;
      base.legend = { top: 0, textStyle: textStyle(), data: [root.dataset.labelMale, root.dataset.labelFemale] };
      base.tooltip = { trigger: "axis", axisPointer: { type: "shadow" }, confine: true,
        formatter: function (ps) {
          var i = items[ps[0].dataIndex];
          return esc(i.label) + "<br>" + esc(root.dataset.labelMale) + " " + esc(i.male_text) + "<br>" +
            esc(root.dataset.labelFemale) + " " + esc(i.female_text);
        } };
      base.xAxis = { type: "value", axisLabel: { formatter: function (v) { return Math.abs(v); } } };
      base.yAxis = { type: "category", data: items.map(function (i) { return i.label; }), axisTick: { show: false } };
      base.grid.top = 28;
      base.series = [
        { name: root.dataset.labelMale, type: "bar", stack: "p", color: "#3b82c4",
          data: items.map(function (i) { return i.male == null ? 0 : -i.male; }) },
        { name: root.dataset.labelFemale, type: "bar", stack: "p", color: "#e0679a",
          data: items.map(function (i) { return i.female == null ? 0 : i.female; }) }
      ];
      return base;
    }
    if (p.chart === "gauge") {
      var g = p.series[0].items[0] || {};
      base.series = [{ type: "gauge", min: 0, max: 100, progress: { show: true, width: 12 },
        axisLine: { lineStyle: { width: 12 } }, pointer: { show: false }, splitLine: { show: false },
        axisTick: { show: false }, axisLabel: { show: false },
        detail: { valueAnimation: false, formatter: function () { return g.text || "—"; }, fontSize: 26,
          color: textStyle().color, offsetCenter: [0, "10%"] },
        data: [{ value: g.value == null ? 0 : Math.round(g.value * 1000) / 10, name: p.series[0].label }],
        title: { offsetCenter: [0, "45%"], color: textStyle().color } }];
      return base;
    }
    // bar and line: the categories are the union of the series' subkeys, in order
    var cats = [], seen = {};
    p.series.forEach(function (s) {
      s.items.forEach(function (i) { if (!seen[i.key]) { seen[i.key] = labelOf(i, s); cats.push(i.key); } });
    });
    base.xAxis = { type: "category", data: cats.map(function (k) { return seen[k]; }),
      axisLabel: { interval: 0, rotate: cats.length > 6 ? 30 : 0, color: textStyle().color } };
    base.yAxis = { type: "value", axisLabel: { color: textStyle().color } };
    if (p.series.length > 1) base.legend = { top: 0, textStyle: textStyle() };
    base.series = p.series.map(function (s) {
      var byKey = {};
      s.items.forEach(function (i) { byKey[i.key] = i; });
      return { name: s.label, type: p.chart === "line" ? "line" : "bar", barMaxWidth: 28,
        label: { show: true, position: "top", color: textStyle().color,
          formatter: function (x) { return x.data && x.data.text != null ? x.data.text : x.value; } },
        data: cats.map(function (k) {
          var i = byKey[k];
          return i ? { value: i.value == null ? 0 : i.value, text: i.text, url: i.url } : { value: 0, text: "" };
        }) };
    });
    return base;
  }

  function renderTable(p, el) {
    var body = el.querySelector(".ck-table tbody");
    if (!body) return;
    var html = "";
    p.series.forEach(function (s) {
      s.items.forEach(function (i) {
        if (p.chart === "pyramid") {
          html += "<tr><td>" + esc(i.label) + "</td><td class=\"num\">" + esc(i.male_text) +
            "</td><td class=\"num\">" + esc(i.female_text) + "</td></tr>";
        } else {
          var label = esc(labelOf(i, s));
          html += "<tr><td>" + (i.url ? "<a href=\"" + esc(i.url) + "\">" + label + "</a>" : label) +
            "</td><td class=\"num\" data-cell=\"" + esc(i.key) + "\">" + esc(i.text) + "</td></tr>";
        }
      });
    });
    body.innerHTML = html;
  }

  function drawPanels(refresh) {
    var drawn = 0;
    payload.panels.forEach(function (p) {
      var el = document.getElementById(p.id);
      if (!el) return;
      if (refresh) renderTable(p, el);
      var box = el.querySelector(".ck-chart");
      if (!box || typeof echarts === "undefined") return;
      var chart = charts[p.id];
      if (!chart) {
        chart = echarts.init(box, dark ? "dark" : null, { renderer: "canvas", locale: lang === "en" ? "EN" : "ZH" });
        chart.on("click", function (params) {
          if (params.data && params.data.url) window.location.href = params.data.url;
        });
        charts[p.id] = chart;
      }
      chart.setOption(optionFor(p), true);
      drawn += 1;
    });
    root.dataset.charts = String(drawn);
  }

  function drawChildrenChart() { // population of each child place; a bar opens the child's board
    var box = document.getElementById("ck-children-chart");
    var rows = (payload.children || {}).rows || [];
    if (!box || !rows.length || typeof echarts === "undefined") { if (box) box.hidden = true; return; }
    var chart = echarts.init(box, null, { renderer: "canvas", locale: lang === "en" ? "EN" : "ZH" });
    chart.setOption({ textStyle: textStyle(), tooltip: { trigger: "axis", confine: true },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: rows.map(function (r) { return r.name; }),
        axisLabel: { interval: 0, rotate: rows.length > 8 ? 30 : 0 } },
      yAxis: { type: "value" },
      series: [{ type: "bar", barMaxWidth: 28, color: "#b5322b",
        data: rows.map(function (r) { return { value: r.population_n, url: r.url }; }) }] });
    chart.on("click", function (params) { if (params.data && params.data.url) window.location.href = params.data.url; });
    charts["ck-children-chart"] = chart;
  }

  function wireTools() {
    root.addEventListener("click", function (ev) {
      var btn = ev.target.closest("button[data-act]");
      if (!btn) return;
      var panel = btn.closest(".ck-panel");
      var chart = charts[panel.id];
      if (btn.dataset.act === "table") {
        var table = panel.querySelector(".ck-table"), box = panel.querySelector(".ck-chart");
        var showTable = table.hidden;
        table.hidden = !showTable;
        box.hidden = showTable;
        btn.setAttribute("aria-pressed", String(showTable));
        btn.textContent = showTable ? root.dataset.labelChart : root.dataset.labelTable;
        if (!showTable && chart) chart.resize();
      } else if (btn.dataset.act === "png" && chart) {
        var a = document.createElement("a");
        a.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: dark ? "#0b1a2e" : "#ffffff" });
        a.download = panel.id + "-" + payload.level + "-" + payload.id + ".png";
        document.body.appendChild(a);
        a.click();
        a.remove();
      }
    });
  }

  // --- map --------------------------------------------------------------------------------------------------
  var map, childLayer, mapData;

  function wgs2gcj(lng, lat) { // the published WGS-84 → GCJ-02 formulas (cockpit/coords.py)
    if (lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lng, lat];
    var a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI, x = lng - 105.0, y = lat - 35.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dlat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlng += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dlng += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlng += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radlat = lat / 180.0 * PI, magic = Math.sin(radlat);
    magic = 1 - ee * magic * magic;
    var sq = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * PI);
    dlng = (dlng * 180.0) / (a / sq * Math.cos(radlat) * PI);
    return [lng + dlng, lat + dlat];
  }

  function colourScale(key) {
    var vals = mapData.features.map(function (f) { return f.properties.values[key]; })
      .filter(function (v) { return v != null; });
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
    var pal = dark ? PALETTE_DARK : PALETTE;
    return { lo: lo, hi: hi, pal: pal, colour: function (v) {
      if (v == null || !vals.length) return dark ? "#334155" : "#e2e8f0";
      var t = hi > lo ? (v - lo) / (hi - lo) : 1;
      return pal[Math.min(pal.length - 1, Math.floor(t * pal.length))];
    } };
  }

  function fmt(fig, v) {
    if (v == null) return root.dataset.labelNone;
    return fig && fig.rate ? (100 * v).toFixed(1) + "%" : Math.round(v).toLocaleString();
  }

  var canvas = null;
  function canvasRenderer() { if (!canvas) canvas = L.canvas({ padding: 0.2 }); return canvas; }

  function drawChildren() {
    var sel = document.getElementById("ck-colour");
    var key = sel.value;
    var fig = mapData.figures.filter(function (f) { return f.key === key; })[0];
    var scale = colourScale(key);
    if (childLayer) childLayer.remove();
    childLayer = L.geoJSON(mapData, {
      renderer: mapData.features.length > 300 ? canvasRenderer() : undefined, // SVG for a few, canvas for many
      style: function (f) {
        return { color: dark ? "#94a3b8" : "#475569", weight: 1, fillOpacity: 0.75,
          fillColor: scale.colour(f.properties.values[key]) };
      },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { renderer: mapData.features.length > 300 ? canvasRenderer() : undefined,
          radius: 9, color: dark ? "#e2e8f0" : "#1e293b", weight: 1, fillOpacity: 0.9,
          fillColor: scale.colour(f.properties.values[key]) });
      },
      onEachFeature: function (f, layer) {
        var few = mapData.features.length <= 40 && map.getSize().x >= 600;
        layer.bindTooltip(esc(f.properties.name) + "<br>" + esc(fig ? fig.label : "") + " " +
          esc(fmt(fig, f.properties.values[key])), few ? { permanent: true, direction: "center",
          className: "ck-maplabel" } : { sticky: true });
        layer.on("click", function () { window.location.href = f.properties.url; });
      }
    }).addTo(map);
    var legend = document.getElementById("ck-legend");
    if (legend) {
      legend.innerHTML = isFinite(scale.lo) ? scale.pal.map(function (c) {
        return "<i style=\"background:" + c + "\"></i>";
      }).join("") + " " + esc(fmt(fig, scale.lo)) + " – " + esc(fmt(fig, scale.hi)) : "";
    }
  }

  function addLayers() {
    var boxes = root.querySelectorAll("input[data-layer-url]");
    Array.prototype.forEach.call(boxes, function (box) {
      var layer = null;
      function load() {
        var url = box.dataset.layerUrl + (box.dataset.layerUrl.indexOf("?") < 0 ? "?" : "&") + "level=" +
          encodeURIComponent(payload.level) + "&place=" + encodeURIComponent(payload.id);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
          .then(function (gj) {
            layer = L.geoJSON(gj, {
              coordsToLatLng: function (c) {
                var p = mapData.crs === "gcj02" ? wgs2gcj(c[0], c[1]) : c;
                return L.latLng(p[1], p[0]);
              },
              pointToLayer: function (f, latlng) {
                return L.circleMarker(latlng, { radius: 4, color: box.dataset.color, weight: 1, fillOpacity: 0.8 });
              },
              onEachFeature: function (f, l) { l.bindTooltip(esc((f.properties || {}).name || box.dataset.title)); }
            }).addTo(map);
          })
          .catch(function () { box.disabled = true; });
      }
      box.addEventListener("change", function () {
        if (box.checked && !layer) load(); else if (box.checked) layer.addTo(map); else if (layer) layer.remove();
      });
      if (box.checked) load();
    });
  }

  function startMap() {
    var el = document.getElementById("ck-map");
    if (!el || typeof L === "undefined") return;
    map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    if (el.dataset.tiles) L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
    fetch(root.dataset.mapUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        mapData = data;
        var sel = document.getElementById("ck-colour");
        sel.innerHTML = data.figures.map(function (f) {
          return "<option value=\"" + esc(f.key) + "\">" + esc(f.label) + "</option>";
        }).join("");
        var saved = window.localStorage && localStorage.getItem("cockpit.colour");
        if (saved && data.figures.some(function (f) { return f.key === saved; })) sel.value = saved;
        sel.addEventListener("change", function () {
          if (window.localStorage) localStorage.setItem("cockpit.colour", sel.value);
          drawChildren();
        });
        var bounds = L.latLngBounds([]);
        if (data.outline) {
          var outline = L.geoJSON(data.outline, { interactive: false,
            style: { color: dark ? "#f59e0b" : "#b5322b", weight: 2, fill: false } }).addTo(map);
          bounds.extend(outline.getBounds());
        }
        drawChildren();
        if (data.features.length) bounds.extend(childLayer.getBounds());
        if (bounds.isValid()) map.fitBounds(bounds.pad(0.05), { maxZoom: 18 }); else map.setView([31.38, 120.63], 14);
        addLayers();
        el.dataset.ready = "1";
      })
      .catch(function (e) { el.dataset.error = String(e); });
  }

  // --- wall screen: refresh from the board's JSON -------------------------------------------------------------
  function refresh() {
    fetch(root.dataset.dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        payload = data;
        data.figures.forEach(function (f) {
          var b = root.querySelector("[data-figure=\"" + f.key + "\"] b");
          if (b) b.textContent = f.text;
        });
        var upd = document.getElementById("ck-updated");
        if (upd && data.computed_at) upd.textContent = root.dataset.labelUpdated + " " + data.computed_at;
        drawPanels(true);
        root.dataset.refreshed = String(Date.now());
      })
      .catch(function (e) { root.dataset.error = String(e); });
  }

  function start() {
    root = document.getElementById("cockpit");
    if (!root) return;
    payload = JSON.parse(document.getElementById("ck-payload").textContent);
    dark = root.classList.contains("cockpit-wall");
    lang = (document.documentElement.lang || "zh").slice(0, 2);
    drawPanels(false);
    drawChildrenChart();
    wireTools();
    startMap();
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
      if (map) map.invalidateSize();
    });
    var every = parseInt(root.dataset.refresh, 10);
    if (every > 0) window.setInterval(refresh, every * 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
