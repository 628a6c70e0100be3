// Turns every .dl-chart on the page into an interactive Vega-Lite chart.
// Works after Material's instant navigation (document$) and from file:// (DOMContentLoaded, no fetch:
// each spec arrives as a small script that registers itself in window.dlFigureSpecs).
(function () {
  "use strict";
  var views = new Map(); // element -> {view, scheme, width}

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
  }

  var loading = {}; // figure id -> promise of its spec, so each spec script is requested once

  function loadSpec(element) {
    var id = element.dataset.figure;
    var specs = (window.dlFigureSpecs = window.dlFigureSpecs || {});
    if (specs[id]) return Promise.resolve(specs[id]);
    // Notebook outputs carry their spec inline (figures_src/notebook.py).
    if (element.dataset.specJson) return Promise.resolve((specs[id] = JSON.parse(element.dataset.specJson)));
    if (!loading[id]) {
      loading[id] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = element.dataset.spec;
        script.onload = function () { specs[id] ? resolve(specs[id]) : reject(new Error("no spec for " + id)); };
        script.onerror = function () { delete loading[id]; reject(new Error("cannot load " + element.dataset.spec)); };
        document.head.appendChild(script);
      });
    }
    return loading[id];
  }

  // Single and layered views fill the column by themselves (width "container");
  // concatenated views get their width from the column here.
  function fitToColumn(spec, width) {
    var copy = JSON.parse(JSON.stringify(spec));
    var inner = Math.max(200, width - 90);
    (copy.vconcat || []).forEach(function (view) { view.width = inner; });
    if (copy.hconcat) {
      copy.hconcat.forEach(function (view) { view.width = Math.max(120, inner / copy.hconcat.length - 30); });
    }
    return copy;
  }

  function merge(base, override) {
    var out = Object.assign({}, base);
    Object.keys(override).forEach(function (key) {
      var value = override[key];
      out[key] = value && typeof value === "object" && !Array.isArray(value) ? merge(base[key] || {}, value) : value;
    });
    return out;
  }

  function isConcat(spec) { return Boolean(spec.vconcat || spec.hconcat); }

  // Bound params (sliders, menus) of a spec, with their bindings, from every nested view.
  function boundParams(spec) {
    var found = [];
    (function walk(node) {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== "object") return;
      (node.params || []).forEach(function (p) { if (p.bind && p.name && p.bind.input) found.push(p); });
      ["vconcat", "hconcat", "layer", "concat"].forEach(function (key) { walk(node[key]); });
    })(spec);
    return found;
  }

  // Chart state in the URL: ?<figure-id>.<param>=<value>. A value the control could not take is
  // ignored (the chart keeps its default), so a mistyped link never breaks a chart.
  function parseBound(param, raw) {
    var bind = param.bind;
    if (bind.input === "range") {
      var x = Number(raw);
      var ok = raw !== "" && isFinite(x) && (bind.min === undefined || x >= bind.min) &&
        (bind.max === undefined || x <= bind.max);
      return ok ? { value: x } : null;
    }
    if (bind.input === "checkbox") return raw === "true" || raw === "false" ? { value: raw === "true" } : null;
    if (bind.options) {
      var match = bind.options.filter(function (o) { return String(o) === raw; });
      return match.length ? { value: match[0] } : null;
    }
    return null;
  }

  function stateFromUrl(id, params) {
    var query = new URLSearchParams(location.search);
    var state = {};
    params.forEach(function (param) {
      var raw = query.get(id + "." + param.name);
      if (raw === null) return;
      var parsed = parseBound(param, raw);
      if (parsed) state[param.name] = parsed.value;
      else console.warn("figure " + id + ": ignoring " + param.name + "=" + raw + " from the link");
    });
    return state;
  }

  function writeStateToUrl(id, name, value) {
    var url = new URL(location.href);
    url.searchParams.set(id + "." + name, String(value));
    if (document.getElementById("fig-" + id)) url.hash = "fig-" + id;
    history.replaceState(history.state, "", url);
  }

  var drawing = new Map(); // element -> the promise of its first drawing, so two callers draw it once

  function render(element, force) {
    if (!force && drawing.has(element)) return drawing.get(element);
    var promise = draw(element, force);
    if (!views.has(element)) {
      drawing.set(element, promise);
      promise.then(function () { drawing.delete(element); });
    }
    return promise;
  }

  function draw(element, force) {
    var current = views.get(element);
    var width = element.clientWidth;
    if (current && !force && current.scheme === scheme()) return Promise.resolve();
    var id = element.dataset.figure;
    return loadSpec(element).then(function (spec) {
      var params = boundParams(spec);
      var state = stateFromUrl(id, params);
      if (current) {
        params.forEach(function (p) { state[p.name] = current.view.signal(p.name); });
        current.view.finalize();
      }
      var target = element.querySelector(".dl-chart-view");
      if (!target) {
        target = document.createElement("div");
        target.className = "dl-chart-view";
        element.appendChild(target);
      }
      var options = {
        renderer: "svg",
        actions: false // the caption links the data, SVG and spec; no link to an outside editor
      };
      var prepared = isConcat(spec) ? fitToColumn(spec, width) : JSON.parse(JSON.stringify(spec));
      // The spec carries the light theme; dark mode overrides it key by key (a spec's own config
      // takes precedence over vega-embed's config option, so merge into the spec itself).
      if (scheme() === "dark") prepared.config = merge(prepared.config || {}, window.dlChartThemes.dark);
      return window.vegaEmbed(target, prepared, options).then(function (result) {
        Object.keys(state).forEach(function (name) { result.view.signal(name, state[name]); });
        params.forEach(function (p) {
          result.view.addSignalListener(p.name, function (name, value) {
            writeStateToUrl(id, name, value);
            announceState(element, result.view, params);
          });
        });
        return result.view.runAsync().then(function () {
          // The chart's text alternative is on its root; marks Vega could not describe are decoration.
          target.querySelectorAll('[role="graphics-symbol"]:not([aria-label])').forEach(function (mark) {
            mark.setAttribute("aria-hidden", "true");
          });
          views.set(element, { view: result.view, scheme: scheme(), width: width, spec: spec });
          element.classList.add("dl-rendered");
          element.dataset.scheme = scheme();
          element.dispatchEvent(new CustomEvent("dl:rendered", { bubbles: true }));
          announceState(element, result.view, params);
        });
      });
    }).catch(function (error) {
      element.classList.add("dl-failed");
      console.error("figure " + element.dataset.figure + ": " + error.message);
    });
  }

  // Other scripts (reactive numbers, image export, embeds) follow a chart through this event and the
  // window.dlFigures API below, never through figures.js internals.
  function announceState(element, view, params) {
    var state = {};
    params.forEach(function (p) { state[p.name] = view.signal(p.name); });
    element.dispatchEvent(new CustomEvent("dl:state", {
      bubbles: true, detail: { figure: element.dataset.figure, state: state }
    }));
  }

  window.dlFigures = {
    // The drawn Vega view of a .dl-chart element, or null while it is not drawn.
    viewOf: function (element) { var entry = views.get(element); return entry ? entry.view : null; },
    // Draws the chart now if it is not drawn yet; resolves when it is.
    draw: function (element) { return render(element, false); }
  };

  function renderAll() {
    views.forEach(function (entry, element) {
      if (!document.body.contains(element)) { entry.view.finalize(); views.delete(element); }
    });
    // Specs load in parallel; charts draw one after another in page order, so the first one on screen
    // does not wait for the main thread to finish laying out every chart below it.
    var elements = Array.from(document.querySelectorAll(".dl-chart"));
    elements.forEach(function (element) { loadSpec(element).catch(function () {}); });
    elements.reduce(function (previous, element) {
      return previous.then(function () { return render(element, false); });
    }, Promise.resolve());
  }

  function rerenderConcatOnResize() {
    views.forEach(function (entry, element) {
      if (isConcat(entry.spec) && Math.abs(element.clientWidth - entry.width) > 8) render(element, true);
    });
  }

  // The link keeps the figures' current state (the query) and points at this figure.
  function copyLink(button) {
    var url = location.href.split("#")[0] + "#" + button.dataset.anchor;
    var done = function () {
      button.textContent = "link copied";
      setTimeout(function () { button.textContent = "copy link"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(done, function () { window.prompt("Link to this figure:", url); });
    } else {
      window.prompt("Link to this figure:", url);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".dl-copy-link");
    if (button) copyLink(button);
  });

  new MutationObserver(function () {
    views.forEach(function (entry, element) { if (entry.scheme !== scheme()) render(element, true); });
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });

  var resizeTimer;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(rerenderConcatOnResize, 200);
  });

  // Material loads this script at the end of the body, after every chart's element: start drawing now,
  // not at DOMContentLoaded, which waits for the rest of the page's scripts. Later calls (instant
  // navigation, DOMContentLoaded on file://) draw what is new.
  if (window.document$) window.document$.subscribe(renderAll);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", renderAll);
  renderAll();
})();
