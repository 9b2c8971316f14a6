/* fedsearch: sizes <iframe data-fedsearch> frames to their content. Optional: without it a frame keeps its height. */
(function () {
  addEventListener("message", function (e) {
    var d = e.data;
    if (!d || d.fedsearch !== "height") return;
    var frames = document.querySelectorAll("iframe[data-fedsearch]");
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      // Only our own frame, from our own origin, may size itself.
      if (f.contentWindow === e.source && new URL(f.src, location.href).origin === e.origin) {
        f.height = String(Math.min(Math.max(Math.round(+d.height) || 0, 120), 5000));
      }
    }
  });
})();
