/* Progressive enhancement of the intake forms. Everything works without this file:
   - show_if: fields (and notices) appear and disappear as the customer answers; the
     server applies the same conditions when validating;
   - the error summary gets the focus, and its links move the focus to the field;
   - files above the size limits are reported before the upload, keeping what was typed;
   - computed panels (cost estimate, migration dates, available plans) follow the answers:
     the server computes them (GET <data-url>), the script only swaps the HTML in and
     shows the server's messages next to the fields. Without the script, the "Calcola"
     button next to each panel does the same with a full page.
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

  // Add or remove ``id`` among the ids of ``element``'s aria-describedby, keeping the others.
  function setDescribed(element, id, present) {
    var ids = (element.getAttribute("aria-describedby") || "").split(" ").filter(function (item) {
      return item && item !== id;
    });
    if (present) { ids.push(id); }
    if (ids.length) { element.setAttribute("aria-describedby", ids.join(" ")); }
    else { element.removeAttribute("aria-describedby"); }
  }

  function showFileProblem(input, message) {
    var box = document.getElementById(input.id + "-check");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = !message;
    if (message) { input.setAttribute("aria-invalid", "true"); }
    setDescribed(input, box.id, Boolean(message));
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

  // --- computed panels --------------------------------------------------------------------

  var PANEL_DELAY_MS = 300;  // wait for a pause in typing before asking the server

  function fieldControls(form, name) {
    var control = form.elements.namedItem(name);
    if (!control) { return []; }
    if (typeof RadioNodeList !== "undefined" && control instanceof RadioNodeList) { return Array.prototype.slice.call(control); }
    return [control];
  }

  // The element carrying aria-describedby: the radio group's fieldset, or the control itself.
  function describedElement(block, controls) {
    var group = block.querySelector("fieldset.choices");
    return group || controls[0];
  }

  // Show (or clear) the server's message next to field ``name``, as the page itself does.
  function showFieldMessage(form, name, message) {
    var block = document.getElementById(name + "-field");
    var controls = fieldControls(form, name);
    if (!block || !controls.length) { return; }
    var id = name + "-error";
    var box = document.getElementById(id);
    if (message && !box) {
      box = document.createElement("p");
      box.className = "error-message";
      box.id = id;
      var help = document.getElementById(name + "-help");
      var anchor = help || block.querySelector("legend, label");
      anchor.parentNode.insertBefore(box, anchor.nextSibling);
    }
    if (message) {
      box.textContent = "";
      var prefix = document.createElement("span");
      prefix.className = "visually-hidden";
      prefix.textContent = "Errore: ";
      box.appendChild(prefix);
      box.appendChild(document.createTextNode(message));
    } else if (box) {
      box.parentNode.removeChild(box);
    }
    block.classList.toggle("field-error", Boolean(message));
    controls.forEach(function (control) {
      if (message) { control.setAttribute("aria-invalid", "true"); }
      else { control.removeAttribute("aria-invalid"); }
    });
    setDescribed(describedElement(block, controls), id, Boolean(message));
  }

  function setupPanel(form, region) {
    var url = region.getAttribute("data-url");
    var names = JSON.parse(region.getAttribute("data-inputs") || "[]");
    var live = region.querySelector("[aria-live]");
    var refresh = region.querySelector(".panel-refresh");
    var timer = null;
    var asked = 0;
    var shown = null;  // the last HTML put in the region: an unchanged panel is not announced again
    if (!url || !live || !window.fetch || !window.URLSearchParams) { return; }
    // The panel follows the answers by itself: the no-script button would only confuse.
    if (refresh) { refresh.parentNode.removeChild(refresh); }

    // ``speak``: a new message may appear next to a field. Only once the customer is done with
    // it (a "change": a pick, or leaving a text box), not at every key; clearing is at once.
    function update(speak) {
      var query = new URLSearchParams();
      names.forEach(function (name) {
        var value = currentValue(form, name);
        if (value) { query.append(name, value); }
      });
      var ticket = ++asked;
      fetch(url + "?" + query.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data || ticket !== asked) { return; }  // a newer answer is on its way
          if (data.html !== shown) {
            live.innerHTML = data.html;
            shown = data.html;
          }
          (data.campi || []).forEach(function (name) {
            var message = (data.errori || {})[name] || "";
            if (message && !speak && !document.getElementById(name + "-error")) { return; }
            showFieldMessage(form, name, message);
          });
        })
        .catch(function () { /* offline: the panel is computed again when the form is sent */ });
    }

    function schedule(event) {
      if (names.indexOf(event.target.name) === -1) { return; }
      var speak = event.type === "change";
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { update(speak); }, PANEL_DELAY_MS);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    // Answers the browser restored (Back button) or the server kept: show their panel now.
    if (names.some(function (name) { return currentValue(form, name); }) && !live.querySelector(".panel")) { update(false); }
  }

  function setupPanels(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-extra]"), function (region) {
      setupPanel(form, region);
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
    setupPanels(form);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
}());
