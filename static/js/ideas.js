// The idea form: similar ideas while typing, and the optional map for the location.
(function () {
  "use strict";

  function debounce(fn, wait) {
    var timer;
    return function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fn, wait);
    };
  }

  function renderSimilar(box, items) {
    box.textContent = "";
    if (!items.length) {
      var empty = document.createElement("p");
      empty.textContent = box.getAttribute("data-empty");
      box.appendChild(empty);
      return;
    }
    var heading = document.createElement("p");
    heading.textContent = box.getAttribute("data-heading");
    box.appendChild(heading);
    var list = document.createElement("ul");
    items.forEach(function (item) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = item.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = item.title;  // text, never HTML
      li.appendChild(link);
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = " (" + item.supports + " " + box.getAttribute("data-supports") + ", " + item.status + ")";
      li.appendChild(meta);
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function setUpSimilar(form) {
    var box = document.getElementById("similar-ideas");
    var title = form.querySelector("[name=title]");
    var text = form.querySelector("[name=text]");
    if (!box || !title || !text) { return; }
    var url = form.getAttribute("data-similar-url");
    var exclude = form.getAttribute("data-similar-exclude");
    var last = "";
    var retries = 0;
    var update = debounce(function () {
      var query = title.value + "\n" + text.value.slice(0, 1500);
      if (query === last || query.trim().length < 8) { return; }
      last = query;
      var params = new URLSearchParams({ title: title.value, text: text.value.slice(0, 1500) });
      if (exclude) { params.set("exclude", exclude); }
      fetch(url + "?" + params.toString(), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { items: [] }; })
        .then(function (data) {
          renderSimilar(box, data.items || []);
          // Right after a restart the index is still being built: ask again shortly.
          if (data.pending && retries < 10) { retries += 1; last = ""; window.setTimeout(update, 1500); }
        })
        .catch(function () { /* suggestions are optional */ });
    }, 400);
    title.addEventListener("input", update);
    text.addEventListener("input", update);
    update();
  }

  function setUpMap(form) {
    var element = document.getElementById("idea-map");
    if (!element || typeof window.L === "undefined") { return; }
    var lat = form.querySelector("[name=latitude]");
    var lng = form.querySelector("[name=longitude]");
    var center = [parseFloat(element.dataset.lat), parseFloat(element.dataset.lng)];
    var map = window.L.map(element).setView(center, parseInt(element.dataset.zoom, 10) || 13);
    window.L.tileLayer(element.dataset.tiles, { attribution: element.dataset.attribution, maxZoom: 19 }).addTo(map);
    var marker = null;
    function place(point) {
      if (marker) { marker.setLatLng(point); } else { marker = window.L.marker(point).addTo(map); }
    }
    if (lat.value && lng.value) { place([parseFloat(lat.value), parseFloat(lng.value)]); }
    map.on("click", function (event) {
      place(event.latlng);
      lat.value = event.latlng.lat.toFixed(6);
      lng.value = event.latlng.lng.toFixed(6);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("idea-form");
    if (!form) { return; }
    setUpSimilar(form);
    setUpMap(form);
  });
})();
