/* The tower's board: its figures and three charts (needs by category, satisfaction, needs by floor), from
   meetings:tower_data. ECharts from static/vendor; no inline script (CSP). */
(function () {
  "use strict";
  function draw(data) {
    var figures = document.getElementById("mt-figures");
    figures.querySelectorAll("[data-k]").forEach(function (el) {
      el.textContent = String(data.figures[el.getAttribute("data-k")]);
    });
    if (!window.echarts) { return; }
    var cat = document.getElementById("mt-cat");
    echarts.init(cat).setOption({
      tooltip: {}, legend: {}, grid: {left: 40, right: 10, bottom: 30},
      xAxis: {type: "category", data: data.categories.map(function (c) { return c.label; })},
      yAxis: {type: "value", minInterval: 1},
      series: [
        {name: cat.dataset.raised, type: "bar", data: data.categories.map(function (c) { return c.raised; })},
        {name: cat.dataset.resolved, type: "bar", data: data.categories.map(function (c) { return c.resolved; })}
      ]
    });
    echarts.init(document.getElementById("mt-sat")).setOption({
      tooltip: {}, legend: {bottom: 0},
      series: [{type: "pie", radius: ["35%", "65%"],
                data: data.satisfaction.map(function (s) { return {name: s.label, value: s.n}; })}]
    });
    var floor = document.getElementById("mt-floor");
    echarts.init(floor).setOption({
      tooltip: {}, grid: {left: 40, right: 10, bottom: 30},
      xAxis: {type: "category", data: data.floors.map(function (f) { return f.floor + floor.dataset.suffix; })},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: "bar", data: data.floors.map(function (f) { return f.n; })}]
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("mt-figures");
    if (!el) { return; }
    fetch(el.getAttribute("data-url"), {credentials: "same-origin"})
      .then(function (r) { return r.json(); }).then(draw);
  });
})();
