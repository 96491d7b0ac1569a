/* citygov: the Leaflet map (static/vendor/leaflet). Reads its data from the json_script the page
   prints (interfaces/web/maps.py): base-map tiles when the city set MAP_TILE_URL, else the city's
   own polygons with their names; the event's point (draggable on the intake form); open events
   coloured by traffic light with a link each. No inline script: the strict CSP holds. */
(function () {
  "use strict";
  var el = document.getElementById("leafmap");
  var cfgEl = el && document.getElementById(el.dataset.config);
  if (!el || !cfgEl || typeof L === "undefined") return;
  var cfg = JSON.parse(cfgEl.textContent);
  if (cfg.icons) {
    // The marker images by their stored (in production: content-hashed) names; imagePath "" stops
    // Leaflet from guessing a folder from its stylesheet's URL.
    L.Icon.Default.imagePath = "";
    L.Icon.Default.mergeOptions({ iconUrl: cfg.icons.icon, iconRetinaUrl: cfg.icons.icon2x, shadowUrl: cfg.icons.shadow });
  }

  /* GCJ-02 (the datum of 高德/腾讯 tiles) from WGS-84, the datum we store: the published
     approximation (Krasovsky ellipsoid offsets), accurate to a metre or two inside China and the
     identity outside it. The inverse is found by iterating the forward transform. */
  var A = 6378245.0, EE = 0.00669342162296594323;
  function outOfChina(lat, lon) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgsToGcj(lat, lon) {
    if (outOfChina(lat, lon)) return [lat, lon];
    var dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    var rad = lat / 180 * Math.PI, m = 1 - EE * Math.sin(rad) * Math.sin(rad), s = Math.sqrt(m);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (m * s) * Math.PI);
    dLon = (dLon * 180) / (A / s * Math.cos(rad) * Math.PI);
    return [lat + dLat, lon + dLon];
  }
  function gcjToWgs(lat, lon) {
    var w = [lat, lon];
    for (var i = 0; i < 10; i++) {
      var g = wgsToGcj(w[0], w[1]);
      w = [w[0] - (g[0] - lat), w[1] - (g[1] - lon)];
    }
    return w;
  }
  var gcj = cfg.crs === "gcj02";
  function show(lat, lon) { return gcj ? wgsToGcj(lat, lon) : [lat, lon]; }        // stored → screen
  function store(ll) { return gcj ? gcjToWgs(ll.lat, ll.lng) : [ll.lat, ll.lng]; } // screen → stored
  window.citygovMapDatum = { wgsToGcj: wgsToGcj, gcjToWgs: gcjToWgs };

  var map = L.map(el, { zoomSnap: 0.5, attributionControl: !!cfg.tiles });
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles.url, {
      attribution: cfg.tiles.attribution, subdomains: cfg.tiles.subdomains, maxZoom: 19, crossOrigin: false
    }).addTo(map);
  }
  el.classList.toggle("no-tiles", !cfg.tiles);

  // The city's own polygons: streets and communities outlined and named, grids named when zoomed in.
  var bounds = null, labelled = [];
  var TIER = { 3: "street", 4: "community", 5: "grid" };
  cfg.units.forEach(function (u) {
    var ring = u.ring.map(function (p) { return show(p[0], p[1]); });
    var kind = TIER[u.tier] || "unit";
    var poly = L.polygon(ring, {
      className: "unit unit-" + kind + (u.hl ? " hl" : ""), interactive: false
    }).addTo(map);
    // Grids are named in their middle; a community just inside its top edge, a street just above
    // it, so the three names never sit on one another.
    var tip = L.tooltip({
      permanent: true, interactive: false,
      direction: kind === "street" ? "top" : kind === "community" ? "bottom" : "center",
      className: "unit-label label-" + kind
    }).setContent(u.label || u.name);
    var pb = poly.getBounds();
    tip.setLatLng(kind === "grid" || kind === "unit" ? pb.getCenter() : L.latLng(pb.getNorth(), pb.getCenter().lng));
    tip.addTo(map);
    labelled.push({ poly: poly, tip: tip });
    bounds = bounds ? bounds.extend(poly.getBounds()) : L.latLngBounds(poly.getBounds().getSouthWest(), poly.getBounds().getNorthEast());
  });
  // A name shows when its polygon is wide enough on screen for it, whatever the city's scale.
  function labelsForZoom() {
    labelled.forEach(function (item) {
      var poly = item.poly, node = item.tip.getElement();
      if (!node) return;
      var b = poly.getBounds();
      var a = map.latLngToLayerPoint(b.getNorthWest()), c = map.latLngToLayerPoint(b.getSouthEast());
      var fits = Math.abs(c.x - a.x) > node.textContent.length * 13 + 8 && Math.abs(c.y - a.y) > 40;
      node.classList.toggle("hidden", !fits);
    });
  }
  map.on("zoomend resize", labelsForZoom);

  // Events, coloured by traffic light; each popup links to its event.
  cfg.events.forEach(function (e) {
    var m = L.circleMarker(show(e.lat, e.lon), { radius: 7, className: "ev ev-" + e.light }).addTo(map);
    var box = document.createElement("div");
    var a = document.createElement("a");
    a.href = e.url; a.textContent = e.code;
    box.appendChild(a);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(e.title));
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(e.state + " · " + (cfg.text[e.light] || e.light)));
    m.bindPopup(box);
    m.bindTooltip(cfg.text[e.light] || e.light);
    if (!bounds) bounds = L.latLngBounds(show(e.lat, e.lon), show(e.lat, e.lon));
    else bounds.extend(show(e.lat, e.lon));
  });

  // The event's point: a marker; on the intake form a tap or a drag sets latitude/longitude.
  var marker = null;
  var form = el.closest("form");
  var lat = form && form.querySelector("[name=latitude]");
  var lon = form && form.querySelector("[name=longitude]");
  function placeMarker(p, pan) {
    var ll = show(p[0], p[1]);
    if (!marker) {
      marker = L.marker(ll, { draggable: !!cfg.editable, title: cfg.text.here, alt: cfg.text.here }).addTo(map);
      marker.on("dragend", function () { setInputs(store(marker.getLatLng())); });
    } else {
      marker.setLatLng(ll);
    }
    el.dataset.lat = p[0].toFixed(6); el.dataset.lon = p[1].toFixed(6);
    if (pan) map.panTo(ll);
  }
  function setInputs(p) {
    if (!lat || !lon) return;
    lat.value = p[0].toFixed(6);
    lon.value = p[1].toFixed(6);
    el.dataset.lat = lat.value; el.dataset.lon = lon.value;
    // citygov.js listens: the duplicates check runs again.
    lon.dispatchEvent(new Event("change", { bubbles: true }));
  }
  if (cfg.point) placeMarker(cfg.point, false);
  if (cfg.editable && lat && lon) {
    map.on("click", function (ev) {
      var p = store(ev.latlng);
      placeMarker(p, false);
      setInputs(p);
    });
    function fromInputs() {
      var a = parseFloat(lat.value), b = parseFloat(lon.value);
      if (isFinite(a) && isFinite(b)) placeMarker([a, b], true);
    }
    lat.addEventListener("change", fromInputs);
    lon.addEventListener("change", fromInputs);
    fromInputs();
  }

  if (cfg.point) {
    var here = show(cfg.point[0], cfg.point[1]);
    bounds = bounds ? bounds.extend(here) : null;
  }
  if (bounds) map.fitBounds(bounds, { paddingTopLeft: [8, 28], paddingBottomRight: [8, 8] });
  else if (cfg.point) map.setView(show(cfg.point[0], cfg.point[1]), 17);
  else map.setView([31.23, 121.47], 12);
  labelsForZoom();
  window.citygovMap = map;
})();
