/*
 * One answer, whichever search box: the site's search asks the intake first.
 *
 * The intake's endpoint `GET {intake_url}api/cerca?q=...&limit=8` searches the same Whoosh
 * index, with the same Italian analysis and ranking, as the ticket flow. When the page names
 * an intake (<meta name="kb-intake-url">, from mkdocs.yml `extra.intake_url`) and it answers
 * within TIMEOUT_MS, its results replace Material's built-in (lunr) list in Material's search
 * dialog; when it does not (static hosting without the intake, an error, a timeout, a bad
 * answer), the built-in search shows, silently, and the intake is left alone for DOWN_FOR_MS.
 *
 * The endpoint is treated as untrusted: results are built as DOM nodes from text, the only
 * markup kept is <mark> in the snippet, and only links inside this site are followed.
 * Plain script, no framework, no inline code (a strict Content-Security-Policy comes later).
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var TIMEOUT_MS = 1500;
  var LIMIT = 8;
  var DOWN_KEY = "kb-intake-down-until";
  var DOWN_FOR_MS = 5 * 60 * 1000;

  var script = document.currentScript;
  var intake = document.querySelector('meta[name="kb-intake-url"]');
  var search = document.querySelector("[data-md-component=search]");
  var query = document.querySelector("[data-md-component=search-query]");
  var builtin = document.querySelector("[data-md-component=search-result]");
  if (!script || !intake || !intake.content || !search || !query || !builtin ||
      !window.fetch || !window.AbortController || !window.DOMParser) {
    return; // Material's built-in search alone
  }

  // This file is <site>/assets/javascripts/intake-search.js: the site root, wherever the
  // site is published (a sub-path too), is two folders up.
  var siteRoot = new URL("../../", script.src).href;
  var endpoint;
  try {
    endpoint = new URL("api/cerca", new URL(intake.content, siteRoot));
  } catch (error) {
    return;
  }
  var text = translations();

  /* The results panel: same classes as Material's list, so it looks the same. */
  var panel = element("div", "md-search-result kb-intake-result");
  var meta = element("div", "md-search-result__meta");
  meta.setAttribute("role", "status");
  var list = element("ol", "md-search-result__list");
  panel.appendChild(meta);
  panel.appendChild(list);
  panel.hidden = true;
  builtin.parentNode.insertBefore(panel, builtin.nextSibling);

  var state = intakeMarkedDown() ? "down" : "unknown"; // "unknown" | "up" | "down"
  var lastValue = null;
  var timer = 0;
  var pending = null; // {controller} of the request whose answer we wait for
  var followFirst = false; // Enter was pressed before the answer came
  var shownValue = null; // the query whose results the panel shows

  function element(tag, className) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    return node;
  }

  function translations() {
    var fallback = {
      "search.result.none": "Nessun documento trovato",
      "search.result.one": "1 documento trovato",
      "search.result.other": "# documenti trovati"
    };
    try {
      var config = JSON.parse(document.getElementById("__config").textContent);
      var found = config.translations || {};
      Object.keys(fallback).forEach(function (key) {
        if (typeof found[key] === "string") {
          fallback[key] = found[key];
        }
      });
    } catch (error) {
      /* keep the Italian defaults */
    }
    return fallback;
  }

  function intakeMarkedDown() {
    try {
      return Number(window.sessionStorage.getItem(DOWN_KEY) || 0) > Date.now();
    } catch (error) {
      return false; // storage disabled: ask again on every page
    }
  }

  function markIntakeDown() {
    try {
      window.sessionStorage.setItem(DOWN_KEY, String(Date.now() + DOWN_FOR_MS));
    } catch (error) {
      /* nothing to remember it in */
    }
  }

  /* Show the intake's panel (true) or Material's own list (false). */
  function showIntake(on) {
    search.classList.toggle("kb-search--intake", on);
    panel.hidden = !on;
  }

  function onQueryChange() {
    var value = query.value.trim();
    if (value === lastValue) {
      return;
    }
    lastValue = value;
    window.clearTimeout(timer);
    if (pending) {
      pending.controller.abort(); // stale: a newer query owns the panel now
      pending = null;
    }
    if (state === "down" || !value) {
      showIntake(false);
      return;
    }
    showIntake(true);
    timer = window.setTimeout(function () {
      ask(value);
    }, DEBOUNCE_MS);
  }

  function ask(value) {
    var controller = new AbortController();
    var request = { controller: controller };
    pending = request;
    var deadline = window.setTimeout(function () {
      controller.abort();
    }, TIMEOUT_MS);
    var url = new URL(endpoint.href);
    url.searchParams.set("q", value);
    url.searchParams.set("limit", String(LIMIT));
    window.fetch(url.href, {
      signal: controller.signal,
      credentials: "omit",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        window.clearTimeout(deadline);
        if (pending !== request) {
          return;
        }
        var results = readResults(data); // a malformed answer throws: fall back below
        pending = null;
        state = "up";
        shownValue = value;
        render(results);
      })
      .catch(function () {
        window.clearTimeout(deadline);
        if (pending !== request) {
          return; // aborted because stale, not because the intake failed
        }
        pending = null;
        fallBack();
      });
  }

  /* The results the endpoint gave, checked field by field; throws on a malformed answer. */
  function readResults(data) {
    if (!data || !Array.isArray(data.results)) {
      throw new Error("not a search answer");
    }
    var results = [];
    data.results.forEach(function (item) {
      if (!item || typeof item.title !== "string" || typeof item.url !== "string" || !item.title) {
        return;
      }
      var href;
      try {
        href = new URL(item.url, siteRoot).href;
      } catch (error) {
        return;
      }
      if (href.indexOf(siteRoot) !== 0) {
        return; // only pages of this site: never javascript:, never another host
      }
      results.push({
        title: item.title,
        href: href,
        summary: typeof item.summary === "string" ? item.summary : "",
        snippet: typeof item.snippet === "string" ? item.snippet : "",
        score: typeof item.score === "number" ? item.score : 0
      });
    });
    return results.slice(0, LIMIT);
  }

  /* The snippet's text with its <mark> highlights; every other tag is dropped, text kept. */
  function snippetNodes(html) {
    var parsed = new DOMParser().parseFromString("<body>" + html, "text/html").body;
    var out = document.createDocumentFragment();
    (function walk(node) {
      Array.prototype.forEach.call(node.childNodes, function (child) {
        if (child.nodeType === Node.TEXT_NODE) {
          out.appendChild(document.createTextNode(child.nodeValue));
        } else if (child.nodeType === Node.ELEMENT_NODE) {
          if (child.tagName === "MARK") {
            var mark = document.createElement("mark");
            mark.textContent = child.textContent;
            out.appendChild(mark);
          } else if (child.tagName !== "SCRIPT" && child.tagName !== "STYLE" &&
                     child.tagName !== "TEMPLATE") {
            walk(child);
          }
        }
      });
    })(parsed);
    return out;
  }

  function render(results) {
    list.textContent = "";
    if (results.length === 0) {
      meta.textContent = text["search.result.none"];
    } else if (results.length === 1) {
      meta.textContent = text["search.result.one"];
    } else {
      meta.textContent = text["search.result.other"].replace("#", String(results.length));
    }
    results.forEach(function (result) {
      var item = element("li", "md-search-result__item");
      var link = element("a", "md-search-result__link");
      link.href = result.href;
      link.tabIndex = -1; // as in Material's list: arrow keys move between results
      var article = element("article", "md-search-result__article md-typeset");
      article.setAttribute("data-md-score", String(result.score));
      article.appendChild(element("div", "md-search-result__icon md-icon"));
      var title = element("h1");
      title.textContent = result.title;
      article.appendChild(title);
      var excerpt = element("p");
      if (result.snippet) {
        excerpt.appendChild(snippetNodes(result.snippet));
      } else {
        excerpt.textContent = result.summary;
      }
      article.appendChild(excerpt);
      link.appendChild(article);
      item.appendChild(link);
      list.appendChild(item);
    });
    if (followFirst) {
      followFirst = false;
      openFirst(list);
    }
  }

  function fallBack() {
    state = "down";
    markIntakeDown();
    showIntake(false);
    if (followFirst) {
      followFirst = false;
      openFirst(builtin);
    }
  }

  function openFirst(container) {
    var first = container.querySelector(".md-search-result__link");
    if (first) {
      first.click(); // Material closes its search dialog on a click on a result
    }
  }

  function links() {
    return Array.prototype.slice.call(list.querySelectorAll(".md-search-result__link"));
  }

  /* While the intake's panel shows, Enter and the arrow keys act on it, not on Material's
   * hidden list (Material listens on window: stopping the event here keeps it away). */
  function onKeydown(event) {
    if (panel.hidden) {
      return;
    }
    if (event.key === "Enter" && event.target === query) {
      event.preventDefault();
      event.stopPropagation();
      if (shownValue !== lastValue) {
        followFirst = true; // the answer for this text is on its way
      } else {
        openFirst(list);
      }
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var stops = [query].concat(links());
      var at = Math.max(0, stops.indexOf(document.activeElement));
      var next = (at + (event.key === "ArrowDown" ? 1 : -1) + stops.length) % stops.length;
      event.preventDefault();
      event.stopPropagation();
      stops[next].focus();
    }
  }

  query.addEventListener("input", onQueryChange);
  query.addEventListener("keyup", onQueryChange); // Material sets the text itself (suggestions)
  query.addEventListener("focus", onQueryChange);
  query.addEventListener("keydown", onKeydown);
  panel.addEventListener("keydown", onKeydown);
  if (query.form) {
    query.form.addEventListener("reset", function () {
      window.setTimeout(onQueryChange, 0); // the box is emptied after the event
    });
  }
  onQueryChange(); // a deep link (?q=...) may have filled the box already
})();
