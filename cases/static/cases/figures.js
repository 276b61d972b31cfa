/* Charts of the case figures (data from the page's JSON block: the CSP allows no inline script).
   Handling times in hours up to two days, in days beyond; long names shortened with an ellipsis (the tooltip and
   the tables below keep them whole); a chart without data says so instead of drawing empty axes. */
(function () {
  "use strict";
  function empty(el, title, text) {
    el.innerHTML = "<h3 class=\"case-chart-title\">" + Renfang.esc(title) + "</h3><p class=\"empty\">" +
      Renfang.esc(text) + "</p>";
    el.dataset.empty = "1";
  }
  function start() {
    var src = document.getElementById("case-chart-data");
    if (!src || typeof echarts === "undefined") return;
    var data = JSON.parse(src.textContent);
    var L = data.labels;
    document.querySelectorAll(".case-chart").forEach(function (el) {
      var key = el.dataset.chart;
      var title = { text: L[key], textStyle: { fontSize: 14 } };
      if (key === "status") {
        if (!data.status.length) { empty(el, L.status, L.empty); return; }
        var chart = echarts.init(el);
        chart.setOption({ title: title, tooltip: { trigger: "item" },
          series: [{ type: "pie", radius: ["35%", "62%"], center: ["50%", "56%"], data: data.status,
            avoidLabelOverlap: true, label: { formatter: "{b} {c}" } }] });
      } else {
        var rows = (data[key] || []).filter(function (r) { return r[1] != null; });
        if (!rows.length) { empty(el, L[key], L.empty); return; }
        var inDays = Math.max.apply(null, rows.map(function (r) { return r[1]; })) >= 48;
        var unit = inDays ? L.days : L.hours;
        chart = echarts.init(el);
        chart.setOption({ title: { text: L[key] + "（" + unit + "）", textStyle: { fontSize: 14 } },
          tooltip: { trigger: "axis", valueFormatter: function (v) { return Renfang.num(v) + " " + unit; } },
          grid: { left: 8, right: 40, top: 40, bottom: 8, containLabel: true },
          xAxis: { type: "value", splitNumber: 3 },
          yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r[0]; }),
            axisLabel: { width: 120, overflow: "truncate" } },
          series: [{ type: "bar", itemStyle: { color: "#3182ce" },
            label: { show: true, position: "right", formatter: function (p) { return Renfang.num(p.value); } },
            data: rows.map(function (r) { return inDays ? Math.round(r[1] / 2.4) / 10 : r[1]; }) }] });
      }
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
