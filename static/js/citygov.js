/* citygov: small progressive enhancements. Every form works without this file. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;

  var lat = form.querySelector("[name=latitude]");
  var lon = form.querySelector("[name=longitude]");
  var map = form.querySelector("svg.gridmap");
  var pin = map && map.querySelector(".pin");

  function placePin() {
    if (!map || !pin || !lat.value || !lon.value) return;
    var w = parseFloat(map.dataset.west), e = parseFloat(map.dataset.east);
    var n = parseFloat(map.dataset.north), s = parseFloat(map.dataset.south);
    var box = map.viewBox.baseVal;
    var x = (parseFloat(lon.value) - w) / (e - w) * box.width;
    var y = (n - parseFloat(lat.value)) / (n - s) * box.height;
    pin.setAttribute("cx", x.toFixed(1));
    pin.setAttribute("cy", y.toFixed(1));
    pin.classList.remove("hidden");
  }

  // Tap the map: the point becomes the event's location.
  if (map) {
    map.addEventListener("click", function (ev) {
      var pt = map.createSVGPoint();
      pt.x = ev.clientX; pt.y = ev.clientY;
      var local = pt.matrixTransform(map.getScreenCTM().inverse());
      var box = map.viewBox.baseVal;
      var w = parseFloat(map.dataset.west), e = parseFloat(map.dataset.east);
      var n = parseFloat(map.dataset.north), s = parseFloat(map.dataset.south);
      lon.value = (w + local.x / box.width * (e - w)).toFixed(6);
      lat.value = (n - local.y / box.height * (n - s)).toFixed(6);
      placePin();
      checkDuplicates();
    });
  }

  // The phone's GPS.
  var gps = document.getElementById("use-gps");
  if (gps) {
    if (!navigator.geolocation) { gps.disabled = true; }
    gps.addEventListener("click", function () {
      gps.disabled = true;
      navigator.geolocation.getCurrentPosition(function (p) {
        lat.value = p.coords.latitude.toFixed(6);
        lon.value = p.coords.longitude.toFixed(6);
        gps.disabled = false;
        placePin();
        checkDuplicates();
      }, function () { gps.disabled = false; }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }
  [lat, lon].forEach(function (el) { el.addEventListener("change", function () { placePin(); checkDuplicates(); }); });

  // Category search: narrow the options as you type.
  var search = document.getElementById("category-search");
  var select = form.querySelector("[name=category]");
  if (search && select) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(select.querySelectorAll("option"), function (opt) {
        if (!opt.value) return;
        var group = opt.parentNode.label || "";
        var hit = !q || opt.textContent.toLowerCase().indexOf(q) >= 0 || group.toLowerCase().indexOf(q) >= 0;
        opt.hidden = !hit;
        if (hit && !first) first = opt;
      });
      if (q && first) { select.value = first.value; checkDuplicates(); }
    });
    select.addEventListener("change", checkDuplicates);
  }

  // Likely duplicates, shown before submitting.
  var box = document.getElementById("duplicates");
  function checkDuplicates() {
    if (!box || !select || !select.value || !lat.value || !lon.value) return;
    var url = form.dataset.duplicatesUrl + "?category=" + encodeURIComponent(select.value) +
      "&latitude=" + encodeURIComponent(lat.value) + "&longitude=" + encodeURIComponent(lon.value);
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) return;
      var list = box.querySelector("ul");
      list.textContent = "";
      data.duplicates.forEach(function (d) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = d.url; a.textContent = d.code;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" " + d.title + " · " + d.state + " · " + Math.round(d.distance_m) + " m"));
        list.appendChild(li);
      });
      box.classList.toggle("hidden", data.duplicates.length === 0);
    });
  }

  // "Fixed on the spot" reveals the result note.
  var fixed = form.querySelector("[name=fixed_on_spot]");
  var note = document.getElementById("field-result_note");
  function syncFixed() { if (note) note.classList.toggle("hidden", !fixed.checked); }
  if (fixed) { fixed.addEventListener("change", syncFixed); syncFixed(); }
  placePin();
})();
