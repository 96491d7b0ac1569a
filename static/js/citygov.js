/* citygov: small progressive enhancements. Every form works without this file. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;

  var lat = form.querySelector("[name=latitude]");
  var lon = form.querySelector("[name=longitude]");
  var address = form.querySelector("[name=address]");

  function setPoint(a, b) {
    lat.value = Number(a).toFixed(6);
    lon.value = Number(b).toFixed(6);
    // map.js moves the marker on change; the duplicates check runs too.
    lat.dispatchEvent(new Event("change", { bubbles: true }));
    lon.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // The phone's GPS, with a message when it fails or is refused.
  var gps = document.getElementById("use-gps");
  var gpsError = document.getElementById("gps-error");
  function gpsSays(key) {
    if (!gpsError) return;
    gpsError.textContent = key ? gpsError.dataset[key] : "";
    gpsError.classList.toggle("hidden", !key);
  }
  if (gps) {
    gps.addEventListener("click", function () {
      if (!navigator.geolocation) { gpsSays("unsupported"); return; }
      gps.disabled = true;
      gpsSays(null);
      navigator.geolocation.getCurrentPosition(function (p) {
        gps.disabled = false;
        setPoint(p.coords.latitude, p.coords.longitude);
      }, function (err) {
        gps.disabled = false;
        gpsSays(err && err.code === 1 ? "denied" : err && err.code === 3 ? "timeout" : "unavailable");
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }
  [lat, lon].forEach(function (el) { el.addEventListener("change", checkDuplicates); });

  // Address search in the city's own gazetteer (standard addresses and unit names, in scope).
  var placeInput = document.getElementById("place-search");
  var placeList = document.getElementById("place-results");
  var placeNone = document.getElementById("place-none");
  var placeTimer = null, placeSeq = 0;
  function showPlaces(results) {
    placeList.textContent = "";
    results.forEach(function (r) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button"; b.className = "link place";
      b.setAttribute("role", "option");
      b.textContent = r.name;
      var small = document.createElement("small");
      small.textContent = " " + r.unit;
      b.appendChild(small);
      b.addEventListener("click", function () {
        setPoint(r.latitude, r.longitude);
        if (address && (r.kind === "address" || !address.value)) address.value = r.name;
        placeInput.value = r.name;
        placeList.classList.add("hidden");
      });
      li.appendChild(b);
      placeList.appendChild(li);
    });
    placeList.classList.toggle("hidden", results.length === 0);
    placeNone.classList.toggle("hidden", results.length !== 0);
  }
  if (placeInput && placeList) {
    placeInput.addEventListener("input", function () {
      clearTimeout(placeTimer);
      var q = placeInput.value.trim();
      if (!q) { placeList.classList.add("hidden"); placeNone.classList.add("hidden"); return; }
      placeTimer = setTimeout(function () {
        var seq = ++placeSeq;
        fetch(form.dataset.placesUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) { if (seq === placeSeq) showPlaces(data.results); });
      }, 200);
    });
    placeInput.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {  // Enter picks the best match instead of submitting the form.
        ev.preventDefault();
        var first = placeList.querySelector("button.place");
        if (first) first.click();
      }
    });
  }

  // Category search: narrow the options as you type; pick the best match, not the first in the list:
  // an exact name, then a category whose keywords hold the word (垃圾 → 暴露垃圾), then names that start
  // with it, then names and keywords that contain it.
  var search = document.getElementById("category-search");
  var select = form.querySelector("[name=category]");
  var indexEl = document.getElementById("category-index");
  var index = indexEl ? JSON.parse(indexEl.textContent) : {};
  function score(opt, q) {
    var c = index[opt.value] || { name: opt.textContent, keywords: "" };
    var name = c.name.toLowerCase(), en = (c.name_en || "").toLowerCase();
    var words = (c.keywords || "").toLowerCase().split(/\s+/);
    if (name === q || en === q) return 0;
    if (words.indexOf(q) >= 0) return 1;
    if (name.indexOf(q) === 0 || en.indexOf(q) === 0) return 2;
    if (name.indexOf(q) >= 0 || en.indexOf(q) >= 0) return 3;
    if ((c.keywords || "").toLowerCase().indexOf(q) >= 0) return 4;
    var group = (opt.parentNode.label || "").toLowerCase();
    return group.indexOf(q) >= 0 ? 5 : -1;
  }
  if (search && select) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      var best = null, bestScore = 99;
      Array.prototype.forEach.call(select.querySelectorAll("option"), function (opt) {
        if (!opt.value) return;
        var s = q ? score(opt, q) : 0;
        opt.hidden = s < 0;
        if (s >= 0 && s < bestScore) { best = opt; bestScore = s; }
      });
      if (q && best) { select.value = best.value; checkDuplicates(); }
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

  // Photos kept from an earlier try: a remove button drops one from the stash list.
  Array.prototype.forEach.call(form.querySelectorAll(".stashed-photo button.remove"), function (b) {
    b.addEventListener("click", function () {
      var fig = b.closest(".stashed-photo");
      if (fig) fig.parentNode.removeChild(fig);
    });
  });
})();
