/* fedsearch admin: live harvest progress; every page works without it (a refresh link and <noscript> refresh). */
(function () {
  "use strict";
  var d = document;

  function ready(f) { if (d.readyState !== "loading") f(); else d.addEventListener("DOMContentLoaded", f); }

  function poll(box) {
    var url = box.getAttribute("data-progress-url");
    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (j) {
          var job = j.job;
          if (!job) return;
          ["pages", "records", "new", "changed", "deleted", "quarantined", "indexed"].forEach(function (k) {
            var el = box.querySelector('[data-field="' + k + '"]');
            if (el) el.textContent = String(job[k]);
          });
          var secs = box.querySelector('[data-field="seconds"]');
          if (secs) secs.textContent = job.duration;
          if (job.status !== "running") { location.reload(); return; }
          setTimeout(tick, 1000);
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    setTimeout(tick, 1000);
  }

  ready(function () {
    var box = d.querySelector("[data-progress-url][data-running=true]");
    if (box) poll(box);
    var summary = d.getElementById("error-summary");
    if (summary) summary.focus();
    else {
      var preview = d.getElementById("preview");
      if (preview && location.hash === "#preview") preview.focus();
    }
  });
})();
