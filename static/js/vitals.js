/* The vital-signs dashboard: ECharts sparklines and the sensor map, and the wall's self-refresh.
   The page is complete without this file (tables); this draws the pictures. */
(function () {
  "use strict";
  var root = document.getElementById("vitals");
  var dataNode = document.getElementById("vitals-data");
  if (!root || !dataNode || typeof echarts === "undefined") return;

  var COLOURS = { blue: "#3b82f6", yellow: "#eab308", orange: "#f97316", red: "#dc2626" };
  var NORMAL = "#2f9e44", NODATA = "#7c3aed", PENDING = "#94a3b8";
  var wall = document.body.classList.contains("wall");
  var charts = [];
  var map = null;

  function sparkColour(level) { return COLOURS[level] || NORMAL; }

  function drawSparks(data) {
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
    data.domains.forEach(function (domain) {
      domain.indicators.forEach(function (row) {
        var node = root.querySelector('[data-spark="' + row.code + '"]');
        if (!node) return;
        var chart = echarts.init(node, null, { renderer: "canvas" });
        chart.setOption({
          animation: false,
          grid: { left: 0, right: 0, top: 2, bottom: 2 },
          xAxis: { type: "category", show: false, data: row.spark.map(function (_v, i) { return i; }) },
          yAxis: { type: "value", show: false, scale: true },
          tooltip: { trigger: "axis", formatter: function (p) {
            var v = p[0] && p[0].value;
            var hoursAgo = row.spark.length - 1 - p[0].dataIndex;
            return (v === null || v === undefined ? "—" : v + " " + row.unit) + " (" + hoursAgo + "h)";
          } },
          series: [{ type: "line", data: row.spark, connectNulls: false, symbolSize: 3,
            // A lone hour has no neighbour to draw a line to: show the points then.
            showSymbol: row.spark.filter(function (v) { return v !== null; }).length < 3,
            lineStyle: { width: 1.5, color: sparkColour(row.level) },
            areaStyle: { opacity: 0.12, color: sparkColour(row.level) } }]
        });
        charts.push(chart);
      });
    });
  }

  function sensorColour(s) {
    if (s.level) return COLOURS[s.level];
    if (s.nodata) return NODATA;
    if (s.state === "pending") return PENDING;
    return NORMAL;
  }

  function drawMap(data) {
    var node = document.getElementById("vitals-map");
    if (!node) return;
    if (!map) map = echarts.init(node, null, { renderer: "canvas" });
    var hasGrids = data.grids && data.grids.features && data.grids.features.length;
    if (hasGrids) echarts.registerMap("citygov-grids", data.grids);
    var points = data.sensors.map(function (s) {
      return { name: s.name, value: [s.lon, s.lat, s.value], sensor: s, itemStyle: { color: sensorColour(s) } };
    });
    var option = {
      animation: false,
      tooltip: { trigger: "item", formatter: function (p) {
        if (!p.data || !p.data.sensor) return p.name || "";
        var s = p.data.sensor;
        return s.name + " (" + s.code + ")<br>" + s.indicator + ": " +
          (s.value === null || s.value === undefined ? "—" : s.value + " " + s.unit);
      } },
      series: [{
        type: "scatter", name: "sensors", data: points,
        symbolSize: function (v, p) { return p.data.sensor.level ? (wall ? 16 : 12) : (wall ? 9 : 7); }
      }]
    };
    if (hasGrids) {
      option.geo = { map: "citygov-grids", roam: true, itemStyle: { areaColor: wall ? "#16223b" : "#eef4fb",
        borderColor: wall ? "#2b3b5e" : "#9fb3c8" }, emphasis: { disabled: true }, label: { show: false } };
      option.series[0].coordinateSystem = "geo";
    } else {
      option.xAxis = { type: "value", scale: true, name: "lon" };
      option.yAxis = { type: "value", scale: true, name: "lat" };
    }
    map.setOption(option, true);
  }

  function text(el, value) { if (el) el.textContent = value; }

  function formatTime(iso) {
    if (!iso) return "";
    try {
      return new Date(iso).toLocaleString(document.documentElement.lang || "zh-Hans",
        { timeZone: root.dataset.tz || "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    } catch (e) { return iso; }
  }

  function updateCounts(data) {
    Object.keys(data.counts).forEach(function (key) {
      text(root.querySelector('[data-count="' + key + '"]'), data.counts[key]);
    });
    text(document.getElementById("vitals-generated"), formatTime(data.generated_at));
    text(document.getElementById("warning-count"), data.warnings.length);
    data.domains.forEach(function (domain) {
      domain.indicators.forEach(function (row) {
        var badge = root.querySelector('tr[data-indicator="' + row.code + '"] .lvl');
        if (!badge) return;
        badge.className = "lvl lvl-" + (row.level || "normal");
        badge.textContent = row.level_label;
      });
    });
  }

  function cell(tr, content, cls) {
    var td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function updateWarnings(data) {
    var body = document.getElementById("warning-rows");
    if (!body) return;
    body.textContent = "";
    data.warnings.forEach(function (w) {
      var tr = document.createElement("tr");
      var badge = document.createElement("span");
      badge.className = "lvl lvl-" + w.level;
      badge.textContent = w.level_label;
      cell(tr, badge);
      cell(tr, w.indicator);
      cell(tr, w.sensor_name + " " + w.sensor + " · " + w.grid);
      cell(tr, w.state_label);
      cell(tr, formatTime(w.started_at));
      cell(tr, w.peak_value === null ? "" : w.peak_value + " " + w.unit);
      if (w.event) {
        var a = document.createElement("a");
        a.href = w.event.url;
        a.textContent = w.event.code;
        cell(tr, a);
        cell(tr, formatTime(w.event.due_at));
      } else {
        cell(tr, "—"); cell(tr, "");
      }
      body.appendChild(tr);
    });
  }

  function draw(data) {
    drawSparks(data);
    drawMap(data);
  }

  draw(JSON.parse(dataNode.textContent));
  // Resize once the window has settled: a burst of resize events (a phone turning, a full-page
  // screenshot) would otherwise re-layout charts in the middle of their own redraw.
  var settling = null;
  window.addEventListener("resize", function () {
    if (settling) window.clearTimeout(settling);
    settling = window.setTimeout(function () {
      settling = null;
      charts.forEach(function (c) { if (!c.isDisposed()) c.resize(); });
      if (map && !map.isDisposed()) map.resize();
    }, 150);
  });

  var every = parseInt(root.dataset.refresh || "0", 10);
  if (every > 0) {
    window.setInterval(function () {
      fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { draw(data); updateCounts(data); updateWarnings(data); })
        .catch(function () { /* keep the last picture; the next tick tries again */ });
    }, every * 1000);
  }
})();
