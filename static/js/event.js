/* citygov: the event page. An extension's hours show the deadline they would give before asking. */
(function () {
  "use strict";
  var input = document.querySelector("#action-extension-request input[name='extension-request-hours']");
  if (!input) return;
  var out = document.createElement("p");
  out.className = "deadline-preview";
  out.setAttribute("aria-live", "polite");
  input.parentNode.appendChild(out);
  var base = window.location.pathname.replace(/\/?$/, "/");
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var hours = input.value.trim();
    if (!/^\d+$/.test(hours)) { out.textContent = ""; return; }
    timer = setTimeout(function () {
      fetch(base + "extension-deadline?hours=" + encodeURIComponent(hours), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (!data.deadlines) { out.textContent = data.message || ""; return; }
          out.textContent = data.deadlines.map(function (d) { return d.label + " → " + d.display; }).join(" · ");
        });
    }, 250);
  });
})();
