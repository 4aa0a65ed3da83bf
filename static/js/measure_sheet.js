// Measure sheet form: a button under each group of rows adds another empty row.
// Without JavaScript the form offers a few empty rows, which is enough to add entries.
(function () {
  "use strict";

  function renumber(row, index) {
    row.querySelectorAll("[name], [id], label[for], [aria-describedby]").forEach(function (element) {
      ["name", "id", "for"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value) { element.setAttribute(attribute, value.replace(/-\d+-/, "-" + index + "-")); }
      });
    });
  }

  function clean(row) {
    row.querySelectorAll("input, textarea").forEach(function (input) {
      if (input.type === "checkbox") { input.checked = false; } else { input.value = ""; }
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
    row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    row.querySelectorAll(".errors, .hint").forEach(function (element) { element.remove(); });
    row.querySelectorAll(".field-error").forEach(function (element) { element.classList.remove("field-error"); });
  }

  function setUp(group) {
    var rows = group.querySelectorAll("[data-row]");
    if (!rows.length) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button-secondary";
    button.textContent = group.getAttribute("data-add-label");
    var wrapper = document.createElement("p");
    wrapper.className = "actions";
    wrapper.appendChild(button);
    group.appendChild(wrapper);
    button.addEventListener("click", function () {
      var all = group.querySelectorAll("[data-row]");
      var last = all[all.length - 1];
      var row = last.cloneNode(true);
      clean(row);
      renumber(row, all.length);
      var legend = row.querySelector("legend");
      if (legend) { legend.textContent = group.getAttribute("data-row-label") + " " + (all.length + 1); }
      last.parentNode.insertBefore(row, last.nextSibling);
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-rows]").forEach(setUp);
  });
})();
