// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // Mobile navigation toggle.
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("hauptnavigation");
    if (toggle && nav) {
      toggle.hidden = false;
      var narrow = window.matchMedia("(max-width: 48rem)");
      var collapse = function (collapsed) {
        nav.setAttribute("data-collapsed", collapsed ? "true" : "false");
        toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
      };
      collapse(narrow.matches);
      narrow.addEventListener("change", function (e) { collapse(e.matches); });
      toggle.addEventListener("click", function () {
        collapse(nav.getAttribute("data-collapsed") !== "true");
      });
      // Escape closes the open mobile menu and returns focus to the toggle.
      document.addEventListener("keydown", function (e) {
        if (e.key !== "Escape" || !narrow.matches || nav.getAttribute("data-collapsed") === "true") { return; }
        if (nav.contains(document.activeElement) || document.activeElement === toggle) {
          collapse(true);
          toggle.focus();
        }
      });
    }

    // Move focus to the error summary so screen readers announce it.
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) { summary.focus(); }

    // Select a freshly shown token on focus, for copying.
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  });

  // Ask before destructive actions; prevent double submits.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.submitted === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", "true");
    });
    // Allow a new submit if the user comes back to the page (bfcache) or after a while.
    window.setTimeout(function () { form.dataset.submitted = "false"; }, 8000);
  }, true);
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitted]").forEach(function (form) {
      form.dataset.submitted = "false";
      form.querySelectorAll("[aria-disabled]").forEach(function (b) { b.removeAttribute("aria-disabled"); });
    });
  });
})();
