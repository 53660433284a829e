/*
 * The search box on the home page (and on the 404 page) opens the site's search in place.
 *
 * Without JavaScript the form submits `?q=...` to the home page, which Material opens as a
 * search ("deep link"). With it, a click or tap on the box, or submitting it, hands the text
 * to Material's search box in the header and focuses it: Material then shows its search
 * (a full-screen dialog on a phone, with the keyboard up) and intake-search.js answers it,
 * so both boxes give the same results. Keyboard users who Tab into the box are not moved
 * away: they type and press Enter.
 *
 * Loaded on every page (it also names Material's search dialog for screen readers).
 */
(function () {
  "use strict";

  // Material's search dialog (role="dialog") has no accessible name (axe: aria-dialog-name);
  // give it its box's label, "Cerca". The dialog needs JavaScript anyway.
  var dialog = document.querySelector("[data-md-component=search]");
  var header = document.querySelector("[data-md-component=search-query]");
  if (dialog && header && !dialog.hasAttribute("aria-label")) {
    dialog.setAttribute("aria-label", header.getAttribute("aria-label") || "Cerca");
  }

  var form = document.querySelector(".kb-search-entry");
  if (!form || !header) {
    return; // no search on this site: the plain form still works
  }
  var input = form.querySelector("input[name=q]");

  function openSearch() {
    header.value = input.value;
    // Material reads the query and opens its search dialog when its box gets the focus.
    // Focusing inside the user's own click/submit keeps the phone's keyboard up (iOS).
    header.focus();
    var end = header.value.length;
    header.setSelectionRange(end, end);
  }

  input.addEventListener("click", openSearch);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    openSearch();
  });
})();
