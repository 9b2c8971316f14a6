/* fedsearch: progressive enhancement only; every page works without it. */
(function () {
  "use strict";
  var d = document;
  d.documentElement.className += " js";

  function ready(f) { if (d.readyState !== "loading") f(); else d.addEventListener("DOMContentLoaded", f); }

  // Filters and sort apply as soon as they change (without JS: the buttons).
  d.addEventListener("change", function (e) {
    var t = e.target;
    if (t.hasAttribute && t.hasAttribute("data-autosubmit") && t.form) t.form.submit();
  });

  // "Show more" facet values: fetch the same page with more values and swap the facet in place.
  d.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a.more[data-facet]");
    if (!a) return;
    e.preventDefault();
    var id = "facet-" + a.getAttribute("data-facet");
    fetch(a.href, { headers: { Accept: "text/html" } }).then(function (r) { return r.text(); }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
      var old = d.getElementById(id);
      if (!fresh || !old) { location.href = a.href; return; }
      var n = old.querySelectorAll("li").length;
      old.parentNode.replaceChild(d.importNode(fresh, true), old);
      var box = d.getElementById(id), next = box.querySelectorAll("input")[n];
      (next || box.querySelector("input")).focus();
    }).catch(function () { location.href = a.href; });
  });

  // Suggestions for the search box: an ARIA 1.2 combobox over /api/v1/suggest.
  function combobox(q) {
    var list = d.createElement("ul"), items = [], active = -1, timer, seq = 0;
    list.id = "q-list";
    list.className = "sugg";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", q.labels && q.labels[0] ? q.labels[0].textContent : "Suggestions");
    q.parentNode.appendChild(list);
    q.setAttribute("role", "combobox");
    q.setAttribute("aria-autocomplete", "list");
    q.setAttribute("aria-expanded", "false");
    q.setAttribute("aria-controls", list.id);

    function close() {
      list.hidden = true; active = -1;
      q.setAttribute("aria-expanded", "false");
      q.removeAttribute("aria-activedescendant");
    }
    function pick(i) { q.value = items[i].text; close(); q.form.submit(); }
    function show(found) {
      list.textContent = ""; items = found; active = -1;
      found.forEach(function (s, i) {
        var li = d.createElement("li");
        li.id = "q-opt-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = s.text;
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      if (!found.length) { close(); return; }
      list.hidden = false;
      q.setAttribute("aria-expanded", "true");
    }
    function move(step) {
      if (list.hidden || !items.length) return;
      active = (active + step + items.length) % items.length;
      Array.prototype.forEach.call(list.children, function (li, i) { li.setAttribute("aria-selected", String(i === active)); });
      q.setAttribute("aria-activedescendant", "q-opt-" + active);
    }
    q.addEventListener("input", function () {
      clearTimeout(timer);
      var v = q.value.trim();
      if (v.length < 2) { close(); return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(q.getAttribute("data-suggest") + "?q=" + encodeURIComponent(v))
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (j) { if (mine === seq) show(j.suggestions || []); })
          .catch(close);
      }, 150);
    });
    q.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
      else if (e.key === "Escape") { close(); }
      else if (e.key === "Enter" && active >= 0 && !list.hidden) { e.preventDefault(); pick(active); }
    });
    q.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  ready(function () {
    var q = d.getElementById("q");
    if (q && q.getAttribute("data-suggest")) combobox(q);
  });
})();
