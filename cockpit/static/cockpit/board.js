/* The cockpit board: ECharts panels (with a table view and a PNG download each), the Leaflet map of the
   place's children coloured by a chosen figure, registered GeoJSON layers, and — on the wall screen — a timer
   that re-fetches the board's JSON. Every number comes from the server (small cells already masked). */
(function () {
  "use strict";
  var root, payload, dark, lang, charts = {};
  var PALETTE = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
  var PALETTE_DARK = ["#16324f", "#1d4e89", "#2b6cb0", "#4299e1", "#90cdf4"];

  var esc = window.Renfang.esc;

  // --- charts -----------------------------------------------------------------------------------------------
  // The wall screen (1920×1080, read from across the room) draws with bigger type, no redundant axes and the SVG
  // renderer (its text is measurable: the browser test fails on any label that overlaps another or is clipped).
  var R = window.Renfang;
  function labelOf(item, series) { return item.label || series.label; }
  function fontSize() { return dark ? 14 : 12; }
  function textStyle() { return { color: dark ? "#cbd5e1" : "#334155", fontSize: fontSize() }; }
  function textOf(i, percent) {
    if (!i) return "";
    if (i.text != null && i.text !== "") return i.text;
    return percent ? R.percent(i.value) : R.num(i.value);
  }

  function optionFor(p, width) {
    var ts = textStyle();
    var base = { backgroundColor: "transparent", textStyle: ts, animation: !dark,
      tooltip: { trigger: p.chart === "pie" ? "item" : "axis", confine: true },
      grid: { left: 8, right: 20, top: 24, bottom: dark ? 14 : 8, containLabel: true } };
    if (p.chart === "pie") {
      var s = p.series[0];
      base.series = [{ type: "pie", radius: dark ? ["30%", "55%"] : ["35%", "62%"], center: ["50%", "52%"],
        avoidLabelOverlap: true, labelLayout: { hideOverlap: true },
        // on the wall one line a slice ("自住 62"): two lines of a label read as one block only up close
        label: { formatter: function (x) { return x.name + (dark ? " " : "\n") + x.data.text; }, color: ts.color, fontSize: ts.fontSize,
          lineHeight: ts.fontSize + 2, minMargin: dark ? 6 : 2 },
        labelLine: { length: 8, length2: 8 },
        data: s.items.filter(function (i) { return i.value !== 0; })
          .map(function (i) { return { name: labelOf(i, s), value: i.value, url: i.url, text: textOf(i, s.percent) }; }) }];
      return base;
    }
    if (p.chart === "pyramid") {
      var items = p.series[0].items;
      base.legend = { top: 0, textStyle: ts, itemHeight: 10, data: [root.dataset.labelMale, root.dataset.labelFemale] };
      base.tooltip = { trigger: "axis", axisPointer: { type: "shadow" }, confine: true,
        formatter: function (ps) {
          var i = items[ps[0].dataIndex];
          return esc(i.label) + "<br>" + esc(root.dataset.labelMale) + " " + esc(i.male_text) + "<br>" +
            esc(root.dataset.labelFemale) + " " + esc(i.female_text);
        } };
      base.xAxis = { type: "value", splitNumber: dark ? 2 : 4,
        axisLabel: { hideOverlap: true, formatter: function (v) { return R.num(Math.abs(v)); } } };
      base.yAxis = { type: "category", data: items.map(function (i) { return i.label; }), axisTick: { show: false },
        axisLabel: { interval: "auto", hideOverlap: true } };
      base.grid.top = ts.fontSize + 16;
      base.series = [
        { name: root.dataset.labelMale, type: "bar", stack: "p", color: "#3b82c4",
          data: items.map(function (i) { return i.male == null ? 0 : -i.male; }) },
        { name: root.dataset.labelFemale, type: "bar", stack: "p", color: "#e0679a",
          data: items.map(function (i) { return i.female == null ? 0 : i.female; }) }
      ];
      return base;
    }
    if (p.chart === "gauge") { // the percentage alone in the arc: the panel's heading names it
      var g = p.series[0].items[0] || {};
      base.series = [{ type: "gauge", min: 0, max: 100, radius: "88%", center: ["50%", "58%"],
        progress: { show: true, width: dark ? 16 : 12 }, axisLine: { lineStyle: { width: dark ? 16 : 12 } },
        pointer: { show: false }, splitLine: { show: false }, axisTick: { show: false }, axisLabel: { show: false },
        title: { show: false },
        detail: { valueAnimation: false, formatter: function () { return g.text || "—"; },
          fontSize: dark ? 34 : 24, fontWeight: 600, color: ts.color, offsetCenter: [0, "0%"] },
        data: [{ value: g.value == null ? 0 : Math.round(g.value * 1000) / 10, name: p.series[0].label }] }];
      return base;
    }
    // bar and line: the categories are the union of the series' subkeys, in order
    var cats = [], seen = {}, long = {};
    p.series.forEach(function (s) {
      s.items.forEach(function (i) {
        if (!seen[i.key]) { seen[i.key] = labelOf(i, s); long[i.key] = i.long_label || labelOf(i, s); cats.push(i.key); }
      });
    });
    var percent = p.series.some(function (s) { return s.percent; });
    var names = cats.map(function (k) { return seen[k]; });
    var textWidth = function (n) { // a CJK character is about as wide as the font is high, a Latin one 0.6 of it
      return String(n).split("").reduce(function (w, c) { return w + (c.charCodeAt(0) > 255 ? 1 : 0.6); }, 0) * ts.fontSize;
    };
    var widest = Math.max.apply(null, names.map(textWidth).concat([0]));
    // many or long category names read across, one a row: a horizontal bar chart (names shortened to 8 characters)
    var room = (width || 320) - 40, need = cats.length * (widest + 10);
    // on the wall names are never turned aslant (read from across a room): they do not fit side by side, they go across
    var across = p.chart === "bar" && (cats.length > 7 || need > (dark ? 1 : 1.6) * room);
    var catAxis = { type: "category", data: across ? names.map(function (n) { return R.shorten(n, 8); }) : names,
      axisTick: { show: false },
      axisLabel: { interval: p.chart === "line" ? "auto" : 0, hideOverlap: true, color: ts.color, fontSize: ts.fontSize,
        rotate: !across && p.chart === "bar" && need > room ? 30 : 0 } };
    var values = [];
    p.series.forEach(function (s) { s.items.forEach(function (i) { if (i.value != null) values.push(i.value); }); });
    var valAxis = { type: "value", splitNumber: 3, axisLabel: { hideOverlap: true, color: ts.color, fontSize: ts.fontSize,
      formatter: function (v) { return percent ? R.percent(v, 0) : R.num(v); } } };
    if (percent) { // a rate's axis: from a round share below the lowest value to the round share above the highest
      var top = Math.max.apply(null, values.concat([0])), low = Math.min.apply(null, values.concat([1]));
      var hi = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1].filter(function (c) { return c >= top - 1e-9; })[0] || 1;
      var lo = values.length ? Math.max(0, Math.floor(low * 5 - 0.5) / 5) : 0;
      if (lo >= hi) lo = Math.max(0, hi - 0.2);
      var span = Math.round((hi - lo) * 1000);
      var step = [4, 3, 2, 5, 1].map(function (n) { return span / n; })
        .filter(function (s) { return [10, 20, 25, 50, 100, 200, 250].indexOf(s) >= 0; })[0];
      valAxis.min = lo; valAxis.max = hi;
      if (step) valAxis.interval = step / 1000;
      var digits = step && step % 10 ? 1 : 0; // 2.5%, 7.5%: a step below one per cent is shown as it is
      valAxis.axisLabel.formatter = function (v) { return R.percent(v, digits); };
    }
    if (p.chart === "bar" && dark) valAxis.show = false; // the bars carry their figures: no axis on the wall
    if (across) { catAxis.inverse = true; base.yAxis = catAxis; base.xAxis = valAxis; }
    else { base.xAxis = catAxis; base.yAxis = valAxis; }
    if (p.series.length > 1) { base.legend = { top: 0, textStyle: ts }; base.grid.top = ts.fontSize + 20; }
    base.tooltip.formatter = function (ps) {
      var k = cats[ps[0].dataIndex];
      return esc(long[k]) + ps.map(function (x) {
        return "<br>" + (p.series.length > 1 ? esc(x.seriesName) + " " : "") + esc(x.data.text);
      }).join("");
    };
    base.series = p.series.map(function (s) {
      var byKey = {};
      s.items.forEach(function (i) { byKey[i.key] = i; });
      var last = cats.length - 1;
      return { name: s.label, type: p.chart === "line" ? "line" : "bar", barMaxWidth: across ? 18 : 32,
        symbolSize: 6,
        label: { show: true, position: across ? "right" : "top", color: ts.color, fontSize: ts.fontSize,
          formatter: function (x) {
            // a line names its latest point only (a figure on each of 12 weeks would run together)
            if (p.chart === "line" && x.dataIndex !== last) return "";
            return x.data && x.data.text != null ? x.data.text : x.value;
          } },
        data: cats.map(function (k) {
          var i = byKey[k];
          return i ? { value: i.value == null ? 0 : i.value, text: textOf(i, s.percent), url: i.url } : { value: 0, text: "" };
        }) };
    });
    if (p.chart === "line") base.grid.right = 8 + 4 * ts.fontSize; // room for the latest figure at the end
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
        chart = echarts.init(box, dark ? "dark" : null, { renderer: dark ? "svg" : "canvas",
          locale: lang === "en" ? "EN" : "ZH" });
        chart.on("click", function (params) {
          if (params.data && params.data.url) window.location.href = params.data.url;
        });
        charts[p.id] = chart;
      }
      chart.setOption(optionFor(p, box.clientWidth), true);
      drawn += 1;
    });
    root.dataset.charts = String(drawn);
  }

  function drawChildrenChart() { // population of each child place; a bar opens the child's board
    var box = document.getElementById("ck-children-chart");
    var rows = (payload.children || {}).rows || [];
    if (!box || !rows.length || typeof echarts === "undefined") { if (box) box.hidden = true; return; }
    var chart = echarts.init(box, null, { renderer: "canvas", locale: lang === "en" ? "EN" : "ZH" });
    // the names fit the width they have: straight when they do, else turned 35° and cut to 8 characters
    var slot = box.clientWidth / rows.length, longest = Math.max.apply(null, rows.map(function (r) { return r.name.length; }));
    var turn = longest * 12 > slot - 6;
    chart.setOption({ textStyle: textStyle(), tooltip: { trigger: "axis", confine: true,
        formatter: function (ps) { var r = rows[ps[0].dataIndex]; return esc(r.name) + "<br>" + esc(R.num(r.population_n)); } },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: rows.map(function (r) { return turn ? R.shorten(r.name, 8) : r.name; }),
        axisLabel: { interval: turn && slot < 16 ? "auto" : 0, rotate: turn ? 35 : 0, hideOverlap: true } },
      yAxis: { type: "value", splitNumber: 3, axisLabel: { formatter: function (v) { return R.num(v); } } },
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

  function colourScale(key, fig) {
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

  function fmt(fig, v) { // a rate as a percent, a count as a whole number
    if (v == null) return root.dataset.labelNone;
    return fig && fig.rate ? R.percent(v) : R.num(Math.round(v));
  }

  var canvas = null;
  function canvasRenderer() { if (!canvas) canvas = L.canvas({ padding: 0.2 }); return canvas; }

  // The figure the map is coloured by travels in the address (?map=…), so a board can be shared as it is seen,
  // and into the boards a click on the map opens.
  function chosenFigure() { return new URLSearchParams(window.location.search).get("map"); }
  function withFigure(url, key) {
    var u = new URL(url, window.location.href);
    u.searchParams.set("map", key);
    if (dark) u.searchParams.set("wall", "1");
    return u.pathname + u.search;
  }

  function drawChildren() {
    var sel = document.getElementById("ck-colour");
    var key = sel.value;
    var fig = mapData.figures.filter(function (f) { return f.key === key; })[0];
    var scale = colourScale(key, fig);
    if (childLayer) { RenfangMap.unlabel(map, childLayer); childLayer.remove(); }
    childLayer = L.geoJSON(mapData, {
      renderer: mapData.features.length > 300 ? canvasRenderer() : undefined, // SVG for a few, canvas for many
      style: function (f) {
        return { color: dark ? "#94a3b8" : "#475569", weight: 1, fillOpacity: 0.6,
          fillColor: scale.colour(f.properties.values[key]) };
      },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { renderer: mapData.features.length > 300 ? canvasRenderer() : undefined,
          radius: 9, color: dark ? "#e2e8f0" : "#1e293b", weight: 1, fillOpacity: 0.9,
          fillColor: scale.colour(f.properties.values[key]) });
      },
      onEachFeature: function (f, layer) {
        f.properties.href = withFigure(f.properties.url, key);
        layer.on("click", function () { window.location.href = f.properties.href; });
      }
    }).addTo(map);
    // every child named on the map with its figure; compounds and buildings only once zoomed in enough
    var small = mapData.level === "compound" || mapData.level === "building";
    RenfangMap.labels(map, childLayer, function (f) {
      return f.properties.name + "\n" + (fig ? fmt(fig, f.properties.values[key]) : "");
    }, { minZoom: small ? 16 : 0, className: small ? "rf-maplabel-small" : "",
      rank: function (f) { return f.properties.values[key] == null ? 0 : 1; } });
    var legend = document.getElementById("ck-legend");
    if (legend) {
      var range = !isFinite(scale.lo) ? "" : scale.lo === scale.hi ? esc(fmt(fig, scale.lo)) :
        esc(fmt(fig, scale.lo)) + " – " + esc(fmt(fig, scale.hi));
      legend.innerHTML = range ? "<span class=\"ck-legend-title\">" + esc(fig ? fig.label : "") + "</span> " +
        scale.pal.map(function (c) { return "<i style=\"background:" + c + "\"></i>"; }).join("") + " " + range : "";
    }
    root.dataset.mapFigure = key;
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
    if (!el || typeof L === "undefined" || !window.RenfangMap) return;
    map = RenfangMap.create(el, { dark: dark, leaflet: { zoomSnap: 0.25 } });
    RenfangMap.getJSON(root.dataset.mapUrl)
      .then(function (data) {
        mapData = data;
        var sel = document.getElementById("ck-colour");
        sel.innerHTML = data.figures.map(function (f) {
          return "<option value=\"" + esc(f.key) + "\">" + esc(f.label) + "</option>";
        }).join("");
        var has = function (k) { return k && data.figures.some(function (f) { return f.key === k; }); };
        var saved = window.localStorage && localStorage.getItem("cockpit.colour");
        if (has(chosenFigure())) sel.value = chosenFigure(); else if (has(saved)) sel.value = saved;
        sel.addEventListener("change", function () {
          if (window.localStorage) localStorage.setItem("cockpit.colour", sel.value);
          var u = new URL(window.location.href);
          u.searchParams.set("map", sel.value);
          window.history.pushState({ map: sel.value }, "", u.pathname + u.search);
          drawChildren();
        });
        window.addEventListener("popstate", function () {
          var k = chosenFigure();
          if (has(k) && k !== sel.value) { sel.value = k; drawChildren(); }
        });
        var bounds = L.latLngBounds([]);
        if (data.outline) {
          var outline = L.geoJSON(data.outline, { interactive: false,
            style: { color: dark ? "#f59e0b" : "#b5322b", weight: 2, fill: false } }).addTo(map);
          bounds.extend(outline.getBounds());
        }
        drawChildren();
        if (data.features.length) bounds.extend(childLayer.getBounds());
        RenfangMap.fit(map, bounds, 18, 0.05);
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

  // --- wall screen: more panels than its twelve places -----------------------------------------------------
  // Each side of the map holds six panels (two columns, three rows). When more are registered, the first five of a
  // side stay and its sixth place shows the others in turn (every data-rotate seconds), as a wall screen pages.
  function rotateOverflow() {
    var every = parseFloat(root.dataset.rotate) || 15;
    var turns = [];
    root.querySelectorAll(".ck-col").forEach(function (col) {
      var panels = Array.prototype.slice.call(col.querySelectorAll(":scope > .ck-panel"));
      if (panels.length <= 6) return;
      var cycle = panels.slice(5);
      cycle.forEach(function (el, i) { el.classList.add("ck-rot"); el.classList.toggle("ck-rot-on", i === 0); });
      turns.push({ cycle: cycle, at: 0 });
    });
    if (!turns.length) return;
    // a pointer over a panel holds the pages still (someone at the wall is reading it)
    root.querySelectorAll(".ck-col").forEach(function (col) {
      col.addEventListener("mouseenter", function () { root.dataset.hold = "1"; });
      col.addEventListener("mouseleave", function () { delete root.dataset.hold; });
    });
    window.setInterval(function () {
      if (root.dataset.hold === "1") return;
      turns.forEach(function (t) {
        t.cycle[t.at].classList.remove("ck-rot-on");
        t.at = (t.at + 1) % t.cycle.length;
        var el = t.cycle[t.at];
        el.classList.add("ck-rot-on");
        var chart = charts[el.id];
        var p = payload.panels.filter(function (x) { return x.id === el.id; })[0];
        if (chart && p) { chart.resize(); chart.setOption(optionFor(p, el.querySelector(".ck-chart").clientWidth), true); }
      });
      root.dataset.rotated = String((parseInt(root.dataset.rotated || "0", 10) || 0) + 1);
    }, every * 1000);
  }

  function start() {
    root = document.getElementById("cockpit");
    if (!root) return;
    payload = JSON.parse(document.getElementById("ck-payload").textContent);
    dark = root.classList.contains("cockpit-wall");
    lang = (document.documentElement.lang || "zh").slice(0, 2);
    if (dark) rotateOverflow(); // before drawing: a chart is drawn at the size of the place it is shown in
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
