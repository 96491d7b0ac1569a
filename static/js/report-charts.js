/* The report's and the ranking's pictures, drawn with the vendored ECharts (static/vendor/echarts).
 *
 * No inline script (the site's CSP): each chart is a <div class="chart" data-chart="..."> whose data
 * comes from a json_script block (data-source) or from a same-origin JSON endpoint (data-url).
 * Charts follow their container's width (phones included) and redraw on resize.
 */
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;

  var LIGHTS = { green: "#2e9d5b", yellow: "#e3a21a", red: "#d64545" };
  var charts = [];

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function narrow() {
    return window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
  }

  function start(el, option) {
    el.textContent = "";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
    return chart;
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : value.toFixed(2) + "%";
  }

  function trend(el, data) {
    var names = data.names;
    var series = ["closure_rate", "on_time_rate", "rework_rate"].map(function (key) {
      return { name: names[key], type: "line", data: data.series[key], connectNulls: false, symbolSize: 6 };
    });
    start(el, {
      tooltip: { trigger: "axis", valueFormatter: percent },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.labels, axisLabel: { rotate: narrow() ? 45 : 0 } },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: series,
    });
  }

  function lights(el, data) {
    el.style.height = Math.max(220, 48 + 34 * data.labels.length) + "px";
    start(el, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.labels, inverse: true, axisLabel: { width: narrow() ? 80 : 160, overflow: "truncate" } },
      series: ["green", "yellow", "red"].map(function (light) {
        return {
          name: data.names[light],
          type: "bar",
          stack: "lights",
          data: data[light],
          itemStyle: { color: LIGHTS[light] },
          label: { show: true, formatter: function (p) { return p.value ? p.value : ""; } },
        };
      }),
    });
  }

  function ranking(el, data) {
    var board = data[el.dataset.board];
    if (!board || !board.labels.length) { el.hidden = true; return; }
    el.style.height = Math.max(180, 40 + 30 * board.labels.length) + "px";
    start(el, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", min: 0, max: 100 },
      yAxis: { type: "category", data: board.labels, inverse: true, axisLabel: { width: narrow() ? 80 : 180, overflow: "truncate" } },
      series: [{ type: "bar", data: board.scores, itemStyle: { color: "#2f6fb0" }, label: { show: true, position: "right" } }],
    });
  }

  function draw(el) {
    var kind = el.dataset.chart;
    if (el.dataset.url) {
      fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && kind === "trend") trend(el, data); });
      return;
    }
    var data = readJson(el.dataset.source);
    if (!data) return;
    if (kind === "lights") lights(el, data);
    if (kind === "ranking") ranking(el, data);
  }

  document.querySelectorAll(".chart[data-chart]").forEach(draw);
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 120);
  });
})();
