/* Articles suggested again while the subject of a request is typed (issue 6).
   The box (#suggerimenti, templates/tickets/form_search.html) names the JSON endpoint
   (data-api: GET api/cerca, the same search as the search step), the field to follow
   (data-field) and the address that opens an article and counts the click (data-open).
   Without this file the form works as before: the box stays hidden. No inline script. */
(function () {
  "use strict";
  var DEBOUNCE_MS = 300;
  var MIN_CHARS = 4;
  var LIMIT = 3;

  function start() {
    var box = document.getElementById("suggerimenti");
    var field = box && document.getElementById(box.getAttribute("data-field"));
    if (!field || !window.fetch || !window.AbortController || !window.URL) { return; }
    var list = box.querySelector("ul");
    var block = document.getElementById(field.id + "-field");
    if (block) { block.parentNode.insertBefore(box, block.nextSibling); }  // right under the subject
    var timer = 0;
    var pending = null;
    var asked = field.value.trim();  // the subject prefilled from the search: already seen

    function show(results, text) {
      list.textContent = "";
      results.forEach(function (result) {
        var link = document.createElement("a");
        var address = new URL(box.getAttribute("data-open"), window.location.href);
        address.pathname = address.pathname.replace("__slug__", encodeURIComponent(result.slug));
        address.searchParams.set("q", text);
        link.href = address.href;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = result.title;
        var hint = document.createElement("span");
        hint.className = "visually-hidden";
        hint.textContent = " (si apre in una nuova scheda)";
        link.appendChild(hint);
        var item = document.createElement("li");
        item.appendChild(link);
        list.appendChild(item);
      });
      box.hidden = results.length === 0;
    }

    function ask(text) {
      if (pending) { pending.abort(); }
      var controller = new AbortController();
      pending = controller;
      var url = new URL(box.getAttribute("data-api"), window.location.href);
      url.searchParams.set("q", text);
      url.searchParams.set("limit", String(LIMIT));
      window.fetch(url.href, { signal: controller.signal, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          if (pending !== controller) { return; }
          pending = null;
          var results = (data && Array.isArray(data.results) ? data.results : []).filter(function (r) {
            return r && typeof r.title === "string" && typeof r.slug === "string";
          });
          show(results, text);
        })
        .catch(function () {
          if (pending === controller) { pending = null; box.hidden = true; }
        });
    }

    field.addEventListener("input", function () {
      var text = field.value.trim();
      window.clearTimeout(timer);
      if (text.length < MIN_CHARS || text === asked) { return; }
      timer = window.setTimeout(function () { asked = text; ask(text); }, DEBOUNCE_MS);
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
