/* The freshness overview's charts: a bar per grid (freshness % and score) and the 12-week trend line. */
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("quality-chart-data");
    if (!el || typeof echarts === "undefined") { return; }
    var data = JSON.parse(el.textContent);
    var bar = document.getElementById("quality-bar");
    if (bar && data.grids.length) {
      var b = echarts.init(bar);
      b.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: [data.labels.rate, data.labels.score] },
        grid: { left: 40, right: 10, bottom: 60, top: 40 },
        xAxis: { type: "category", data: data.grids, axisLabel: { rotate: 40, interval: 0 } },
        yAxis: { type: "value", min: 0, max: 100 },
        series: [
          { name: data.labels.rate, type: "bar", data: data.rates, itemStyle: { color: "#2e7d32" } },
          { name: data.labels.score, type: "bar", data: data.scores, itemStyle: { color: "#1565c0" } }
        ]
      });
      window.addEventListener("resize", function () { b.resize(); });
    }
    var trend = document.getElementById("quality-trend");
    if (trend && data.weeks.length) {
      var t = echarts.init(trend);
      t.setOption({
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 10, bottom: 40, top: 30 },
        xAxis: { type: "category", data: data.weeks },
        yAxis: { type: "value", min: 0, max: 100 },
        series: [{ name: data.labels.trend, type: "line", data: data.trend, smooth: true, showSymbol: true, symbolSize: 7,
                   itemStyle: { color: "#d9822b" }, areaStyle: { opacity: 0.15 } }]
      });
      window.addEventListener("resize", function () { t.resize(); });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
