// Smart dispatch (智能分拨) on the intake form: as the operator types the title or description, ask
// POST /api/v1/dispatch/suggest and show the top categories with confidence, department and the words
// that drove them; one click selects the category. Operators only: anyone else gets 403 and sees nothing.
(function () {
  "use strict";
  var box = document.getElementById("dispatch-suggestions");
  if (!box) return;
  var form = box.closest("form");
  if (!form) return;
  var field = function (name) { return form.querySelector("[name='" + name + "']"); };
  var title = field("title"), description = field("description"), category = field("category");
  var list = box.querySelector(".suggestion-list");
  var csrf = field("csrfmiddlewaretoken");
  var timer = null, last = "", disabled = false;

  function optionFor(code) {
    if (!category) return null;
    var suffix = "· " + code;
    for (var i = 0; i < category.options.length; i++) {
      var text = category.options[i].text.trim();
      if (text.slice(-suffix.length) === suffix) return category.options[i];
    }
    return null;
  }

  function render(suggestions) {
    list.textContent = "";
    suggestions.forEach(function (s) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary suggestion";
      button.title = box.dataset.labelApply;
      var pct = Math.round(s.confidence * 100);
      button.textContent = s.category_name + " · " + s.category + " — " + pct + "%";
      button.addEventListener("click", function () {
        var option = optionFor(s.category);
        if (option) {
          category.value = option.value;
          category.dispatchEvent(new Event("change", { bubbles: true }));
        }
      });
      li.appendChild(button);
      var detail = document.createElement("span");
      detail.className = "help";
      var parts = [];
      if (s.department_name) parts.push(box.dataset.labelDepartment + " " + s.department_name);
      if (s.words && s.words.length) parts.push(box.dataset.labelWords + " " + s.words.join("、"));
      detail.textContent = " " + parts.join(" · ");
      li.appendChild(detail);
      list.appendChild(li);
    });
    box.classList.toggle("hidden", suggestions.length === 0);
  }

  function ask() {
    var body = {
      title: title ? title.value : "",
      description: description ? description.value : "",
    };
    var source = field("source"), lat = field("latitude"), lon = field("longitude");
    if (source && source.value) body.source = source.value;
    if (lat && lon && lat.value && lon.value) {
      body.latitude = parseFloat(lat.value);
      body.longitude = parseFloat(lon.value);
    }
    var key = JSON.stringify(body);
    if (disabled || key === last || !(body.title.trim() || body.description.trim())) return;
    last = key;
    fetch(box.dataset.suggestUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: key,
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { disabled = true; return null; }
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data) render(data.suggestions || []);
    }).catch(function () { /* suggestions are a help, never a blocker */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 400);
  }
  [title, description, field("latitude"), field("longitude"), field("source")].forEach(function (el) {
    if (el) el.addEventListener("input", later);
    if (el) el.addEventListener("change", later);
  });
})();
