/* Progressive enhancement of the intake forms. Everything works without this file:
   - show_if: fields (and notices) appear and disappear as the customer answers; the
     server applies the same conditions when validating;
   - the error summary gets the focus, and its links move the focus to the field;
   - files above the size limits are reported before the upload, keeping what was typed.
   No inline script or handler anywhere: a strict Content-Security-Policy comes later. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function currentValue(form, name) {
    var control = form.elements.namedItem(name);
    if (!control) { return ""; }
    if (typeof RadioNodeList !== "undefined" && control instanceof RadioNodeList) { return control.value; }
    if (control.type === "checkbox") { return control.checked ? "y" : ""; }
    return control.value;
  }

  // Blocks are in document order and a controller always comes before the fields it
  // controls, so one pass is enough (a field under a hidden field is hidden too).
  function applyConditions(form) {
    var blocks = form.querySelectorAll("[data-show-if]");
    Array.prototype.forEach.call(blocks, function (block) {
      var name = block.getAttribute("data-show-if");
      var values = JSON.parse(block.getAttribute("data-show-values") || "[]");
      var controller = document.getElementById(name + "-field");
      var shown = !(controller && controller.hidden) && values.indexOf(currentValue(form, name)) !== -1;
      block.hidden = !shown;
    });
  }

  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (!summary) { return; }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) { return; }
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      var block = target.closest(".field") || target;
      block.scrollIntoView();
      target.focus({ preventScroll: true });
    });
  }

  function fileProblem(input) {
    var files = Array.prototype.slice.call(input.files || []);
    var maxBytes = Number(input.getAttribute("data-max-bytes"));
    var maxTotal = Number(input.getAttribute("data-max-total"));
    var maxCount = Number(input.getAttribute("data-max-count"));
    if (files.length > maxCount) { return input.getAttribute("data-msg-count"); }
    var tooBig = files.filter(function (file) { return file.size > maxBytes; });
    if (tooBig.length) {
      return tooBig.map(function (file) {
        return input.getAttribute("data-msg-size").replace("{name}", file.name);
      }).join(" ");
    }
    var total = files.reduce(function (sum, file) { return sum + file.size; }, 0);
    if (total > maxTotal) { return input.getAttribute("data-msg-total"); }
    return "";
  }

  function showFileProblem(input, message) {
    var box = document.getElementById(input.id + "-check");
    if (!box) { return; }
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== box.id;
    });
    box.textContent = message;
    box.hidden = !message;
    if (message) {
      described.push(box.id);
      input.setAttribute("aria-invalid", "true");
    }
    if (described.length) { input.setAttribute("aria-describedby", described.join(" ")); }
    else { input.removeAttribute("aria-describedby"); }
  }

  function setupFiles(form) {
    var inputs = form.querySelectorAll("input[type='file'][data-max-bytes]");
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("change", function () { showFileProblem(input, fileProblem(input)); });
    });
    form.addEventListener("submit", function (event) {
      Array.prototype.forEach.call(inputs, function (input) {
        var message = fileProblem(input);
        if (message) {
          event.preventDefault();
          showFileProblem(input, message);
          input.focus();
        }
      });
    });
  }

  function start() {
    focusErrorSummary();
    var form = document.querySelector("form[data-form]");
    if (!form) { return; }
    applyConditions(form);
    form.addEventListener("change", function () { applyConditions(form); });
    form.addEventListener("input", function () { applyConditions(form); });
    setupFiles(form);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
