// The progress page of an analysis run polls its status and opens the result when done.
(function () {
  "use strict";

  function poll(box) {
    var url = box.getAttribute("data-run-progress");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var lastMessage = "";
    function tick() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          bar.value = data.progress;
          bar.textContent = data.progress + " %";
          var message = data.status_label + ": " + data.progress + " %" + (data.message ? " – " + data.message : "");
          // Announce the step, not every percent, so screen readers are not flooded.
          if (data.message !== lastMessage || data.status !== "running") {
            text.textContent = message;
            lastMessage = data.message;
          }
          if (data.status === "done" || data.status === "failed") {
            window.location.assign(data.url);
          } else {
            window.setTimeout(tick, 1000);
          }
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    window.setTimeout(tick, 500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-run-progress]").forEach(poll);
  });
})();
