/* citygov: page-wide touches. Filters stay open on a wide screen and fold away on the phone. */
(function () {
  "use strict";
  if (window.matchMedia && window.matchMedia("(min-width: 760px)").matches) {
    Array.prototype.forEach.call(document.querySelectorAll("details.filters-box"), function (d) { d.open = true; });
  }
})();
