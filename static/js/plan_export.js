// The progress page of a PDF export of the measure plan polls its status and shows the result when done.
(function () {
  "use strict";

  function poll(box) {
    var url = box.getAttribute("data-plan-export");
    var reload = box.getAttribute("data-reload");
    var bar = box.querySelector("[data-progressbar]");
    var progress = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var lastState = "";
    var lastTenth = -1;
    function tick() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          progress.value = data.percent;
          progress.textContent = data.percent + " %";
          bar.setAttribute("aria-valuenow", String(data.percent));
          bar.setAttribute("aria-valuetext", data.message);
          // Announce the state and every tenth, not every sheet, so screen readers are not flooded.
          var tenth = Math.floor(data.percent / 10);
          if (data.state !== lastState || tenth !== lastTenth) {
            text.textContent = data.message;
            lastState = data.state;
            lastTenth = tenth;
          }
          if (data.state === "done" || data.state === "failed") {
            window.location.assign(reload);
          } else {
            window.setTimeout(tick, 1000);
          }
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    window.setTimeout(tick, 500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-plan-export]").forEach(poll);
  });
})();
