// Purser's own script: times in the browser's zone, confirmations.
(function () {
  "use strict";
  function localize(root) {
    var times = root.querySelectorAll ? root.querySelectorAll("time[datetime]") : [];
    for (var i = 0; i < times.length; i++) {
      var t = times[i];
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d.getTime())) {
        var local = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
        // A relative time ("3 days ago") keeps its words; the absolute time shows on hover.
        if (t.classList.contains("rel")) { t.title = local; } else { t.textContent = local; }
      }
    }
  }
  document.addEventListener("DOMContentLoaded", function () { localize(document); });
  document.addEventListener("htmx:afterSwap", function (e) { localize(e.target); });
  document.addEventListener("htmx:sseMessage", function (e) { localize(e.target); });
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
})();
