/* Charts of the case figures (data from the page's JSON block: the CSP allows no inline script). */
(function () {
  "use strict";
  function start() {
    var src = document.getElementById("case-chart-data");
    if (!src || typeof echarts === "undefined") return;
    var data = JSON.parse(src.textContent);
    document.querySelectorAll(".case-chart").forEach(function (el) {
      var key = el.dataset.chart;
      var chart = echarts.init(el);
      if (key === "status") {
        chart.setOption({ title: { text: data.labels.status, textStyle: { fontSize: 14 } }, tooltip: {},
          series: [{ type: "pie", radius: ["35%", "65%"], data: data.status }] });
      } else {
        var rows = data[key] || [];
        chart.setOption({ title: { text: data.labels[key], textStyle: { fontSize: 14 } }, tooltip: {},
          grid: { left: 110, right: 20, top: 40, bottom: 20 },
          xAxis: { type: "value" }, yAxis: { type: "category", data: rows.map(function (r) { return r[0]; }) },
          series: [{ type: "bar", data: rows.map(function (r) { return r[1]; }), itemStyle: { color: "#3182ce" } }] });
      }
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
