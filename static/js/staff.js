// Helpers for the staff pages; each page also works without JavaScript.
(function () {
  "use strict";

  // An answer template fills the answer field (and suggests its status).
  function setUpTemplates(select) {
    var form = select.form;
    if (!form) { return; }
    var answer = form.querySelector("textarea[name=answer]");
    var status = form.querySelector("select[name=status]");
    var note = form.querySelector("[data-template-note]");
    var inserted = "";
    if (!answer) { return; }
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var text = option ? option.getAttribute("data-text") : null;
      if (!text) { return; }
      var current = answer.value.trim();
      if (current && current !== inserted.trim()) {
        var question = select.getAttribute("data-replace-question") || "";
        if (!window.confirm(question)) { return; }
      }
      answer.value = text;
      inserted = text;
      var wanted = option.getAttribute("data-status");
      if (wanted && status && status.querySelector("option[value='" + wanted + "']")) {
        status.value = wanted;
      }
      if (note) { note.textContent = (note.getAttribute("data-message") || "").replace("{title}", option.textContent); }
    });
  }

  // A checkbox in the table head selects every idea on the page; a live count says how many are chosen.
  function setUpSelection(form) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=ids]"));
    var all = form.querySelector("[data-select-all]");
    var counter = form.querySelector("[data-selected-count]");
    function update() {
      var checked = boxes.filter(function (box) { return box.checked; }).length;
      if (all) {
        all.checked = checked > 0 && checked === boxes.length;
        all.indeterminate = checked > 0 && checked < boxes.length;
      }
      if (counter) {
        counter.textContent = checked === 1 ? counter.getAttribute("data-template-one")
          : (counter.getAttribute("data-template-many") || "").replace("{n}", String(checked));
      }
    }
    if (all && boxes.length) {
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }

  // Ctrl+Enter (Cmd+Enter) submits, also from a textarea: fast typing of many cards.
  function setUpCtrlEnter(form) {
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) { return; }
      event.preventDefault();
      if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-answer-template]").forEach(setUpTemplates);
    document.querySelectorAll("form[data-bulk-form]").forEach(setUpSelection);
    document.querySelectorAll("form[data-ctrl-enter]").forEach(setUpCtrlEnter);
  });
})();
