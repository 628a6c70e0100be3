// Turns every .dl-chart on the page into an interactive Vega-Lite chart when the reader comes near it.
// loader.js brings this script to pages with charts; this script brings Vega and the theme when the
// first chart is drawn. Works after Material's instant navigation (document$) and from file://
// (DOMContentLoaded, no fetch: each spec arrives as a small script that registers itself in
// window.dlFigureSpecs).
(function () {
  "use strict";
  var views = new Map(); // element -> {view, scheme, width}
  var folder = document.currentScript.src.replace(/[^/]*$/, "");

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("cannot load " + src)); };
      document.head.appendChild(script);
    });
  }

  var vegaLoading = null;

  function loadVega() {
    if (!vegaLoading) {
      vegaLoading = Promise.all([
        window.vegaEmbed ? null : loadScript(folder + "vendor/vega.js"),
        window.dlChartThemes ? null : loadScript(folder + "theme.js")
      ]).catch(function (error) { vegaLoading = null; throw error; });
    }
    return vegaLoading;
  }

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

  // The layout figures.css chose for the chart's column: "stacked" where the column is narrow.
  function stackedLayout(element) {
    return getComputedStyle(element).getPropertyValue("--dl-layout").trim() === "stacked";
  }

  // A chart of side-by-side views has a stacked layout for narrow columns, registered beside it by the same
  // spec script (pipeline.stacked_spec); the static stacked SVG shows the same.
  function stackedSpec(element) {
    return (window.dlFigureSpecs || {})[element.dataset.figure + " stacked"] || null;
  }

  // How many views stand side by side in the chart's widest row: the views whose widths are set here to
  // fit the column. 0 for a single or layered view, which fills the column by itself (width "container").
  // A facet's column count is known once drawn (Vega-Lite's column_domain data set).
  function viewsInRow(spec, view) {
    if (spec.hconcat) return spec.hconcat.length;
    if (spec.vconcat) return 1;
    if (spec.concat) return Math.min(spec.columns || spec.concat.length, spec.concat.length);
    if (spec.facet && spec.facet.column && view) {
      try { return view.data("column_domain").length; } catch (error) { return 0; }
    }
    return 0;
  }

  var MIN_VIEW_WIDTH = 60; // px; narrower views would be unreadable: the chart overflows and shrinks instead

  // The spec with its views' widths set so the chart is as wide as the column: `overhang` is what axes,
  // legends, titles and padding add to the views' widths, measured on a drawing (a guess before the first).
  function sizedViews(spec, width, perRow, overhang) {
    var sized = JSON.parse(JSON.stringify(spec));
    var each = Math.max(MIN_VIEW_WIDTH, Math.floor((width - overhang) / perRow));
    (sized.hconcat || sized.vconcat || sized.concat || []).forEach(function (view) { view.width = each; });
    if (sized.facet) sized.spec.width = each;
    return { spec: sized, viewWidth: each };
  }

  function guessedOverhang(perRow) { return 60 + 30 * perRow; }

  var overhangs = {}; // figure id and layout -> px measured on its last drawing

  // Draws `spec` into `target` at the column's width: once, and again with the measured overhang if the
  // first drawing came out wider than the column (a drawing wider than its column would be shrunk whole,
  // text and all).
  function embedFitted(target, spec, width, key, options) {
    var embed = function (prepared) { return window.vegaEmbed(target, prepared, options); };
    var perRow = viewsInRow(spec, null);
    var first = perRow ? sizedViews(spec, width, perRow, overhangs[key] || guessedOverhang(perRow)) : null;
    return embed(first ? first.spec : spec).then(function (result) {
      perRow = viewsInRow(spec, result.view);
      if (!perRow) return result;
      var viewWidth = first ? first.viewWidth : spec.spec && spec.spec.width;
      if (!(viewWidth > 0)) return result;
      var svg = target.querySelector("svg");
      var natural = svg ? Number(svg.getAttribute("width")) : 0;
      overhangs[key] = natural - perRow * viewWidth;
      if (natural <= width + 0.5) return result;
      result.view.finalize();
      return embed(sizedViews(spec, width, perRow, overhangs[key]).spec);
    });
  }

  function merge(base, override) {
    var out = Object.assign({}, base);
    Object.keys(override).forEach(function (key) {
      var value = override[key];
      out[key] = value && typeof value === "object" && !Array.isArray(value) ? merge(base[key] || {}, value) : value;
    });
    return out;
  }

  // Charts whose views get their widths from the column (figures.js), not from Vega-Lite's "container".
  function fitsByWidth(spec) { return Boolean(spec.vconcat || spec.hconcat || spec.concat || spec.facet); }

  // Bound params (sliders, menus) of a spec, with their bindings, from every nested view.
  function boundParams(spec) {
    var found = [];
    (function walk(node) {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== "object") return;
      (node.params || []).forEach(function (p) {
        var seen = found.some(function (q) { return q.name === p.name; }); // a param repeated in nested views is one control
        if (p.bind && p.name && p.bind.input && !seen) found.push(p);
      });
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
      var match = bind.options.filter(function (o) {  // a number option also as typed by hand: 1.0 for 1
        return String(o) === raw || (typeof o === "number" && raw.trim() !== "" && Number(raw) === o);
      });
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
    rebaseSvgReferences();
  }

  // Vega's SVG names its gradients and clip paths by the page's address at drawing time
  // (fill="url(<address>#gradient_0)"): once the address changes, those references point at another
  // document and a legend's colour ramp or a plot's clipping disappears. Make them local again.
  var URL_REFERENCE = /^url\((['"]?)[^#)]*#([^)'"]+)\1\)$/;
  function rebaseSvgReferences() {
    document.querySelectorAll(".dl-chart-view svg [fill^='url('], .dl-chart-view svg [stroke^='url('], " +
                              ".dl-chart-view svg [clip-path^='url(']").forEach(function (node) {
      ["fill", "stroke", "clip-path"].forEach(function (name) {
        var match = URL_REFERENCE.exec(node.getAttribute(name) || "");
        if (match) node.setAttribute(name, "url(#" + match[2] + ")");
      });
    });
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

  // A drawing goes into a new, hidden .dl-chart-view and replaces the previous one (or the static SVG)
  // only when finished, so a redrawing chart never collapses or flickers.
  function draw(element, force) {
    var current = views.get(element);
    var width = element.clientWidth;
    var stacked = stackedLayout(element);
    var colours = scheme(); // the scheme this drawing is made in; the reader may switch while it loads
    if (current && !force && current.scheme === colours) return Promise.resolve();
    var id = element.dataset.figure;
    return Promise.all([loadSpec(element), loadVega()]).then(function (loaded) {
      var spec = loaded[0];
      var params = boundParams(spec);
      var state = stateFromUrl(id, params);
      if (current) params.forEach(function (p) { state[p.name] = current.view.signal(p.name); });
      var target = document.createElement("div");
      target.className = "dl-chart-view dl-drawing";
      element.appendChild(target);
      var options = {
        renderer: "svg",
        actions: false // the caption links the data, SVG and spec; no link to an outside editor
      };
      var laidOut = JSON.parse(JSON.stringify((stacked && stackedSpec(element)) || spec));
      // The spec carries the light theme; dark mode overrides it key by key (a spec's own config
      // takes precedence over vega-embed's config option, so merge into the spec itself).
      if (colours === "dark") laidOut.config = merge(laidOut.config || {}, window.dlChartThemes.dark);
      // Vega sizes a drawing once, for its first state; a control that widens an axis's labels would then
      // push the views below past the drawing's edge and cut them. Size it again on every update.
      laidOut.autosize = Object.assign({}, typeof laidOut.autosize === "string" ? { type: laidOut.autosize }
                                                                                 : laidOut.autosize, { resize: true });
      var key = id + (stacked ? " stacked" : "");
      return embedFitted(target, laidOut, width, key, options).then(function (result) {
        Object.keys(state).forEach(function (name) { result.view.signal(name, state[name]); });
        params.forEach(function (p) {
          result.view.addSignalListener(p.name, function (name, value) {
            writeStateToUrl(id, name, value);
            announceState(element, result.view, params);
          });
        });
        return result.view.runAsync().then(function () {
          // The chart speaks through its root's text alternative (the spec's description) and its
          // controls; the drawing itself (marks, group containers, titles) stays out of the tree.
          target.querySelectorAll("svg").forEach(function (svg) { svg.setAttribute("aria-hidden", "true"); });
          if (current) {
            current.view.finalize();
            current.target.remove();
          }
          target.classList.remove("dl-drawing");
          views.set(element, { view: result.view, target: target, scheme: colours, width: width, stacked: stacked,
                               spec: spec, params: params });
          element.classList.add("dl-rendered");
          element.dataset.scheme = colours;
          element.dispatchEvent(new CustomEvent("dl:rendered", { bubbles: true }));
          announceState(element, result.view, params);
          if (scheme() !== colours) return render(element, true);
        });
      }).catch(function (error) { target.remove(); throw error; });
    }).catch(function (error) {
      element.classList.add("dl-failed");
      console.error("figure " + element.dataset.figure + ": " + error.message);
    });
  }

  // Other scripts (reactive numbers, image export, embeds) follow a chart through this event and the
  // window.dlFigures API below, never through figures.js internals.
  function stateOf(view, params) {
    var state = {};
    params.forEach(function (p) { state[p.name] = view.signal(p.name); });
    return state;
  }

  function announceState(element, view, params) {
    element.dispatchEvent(new CustomEvent("dl:state", {
      bubbles: true, detail: { figure: element.dataset.figure, state: stateOf(view, params) }
    }));
  }

  // Text to the clipboard, where the page may write it (https, localhost), else in a prompt to copy by hand;
  // the button says `done` for a moment.
  function copyText(button, text, label, done) {
    var confirm = function () {
      button.textContent = done;
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(confirm, function () { window.prompt(label + ":", text); });
    } else {
      window.prompt(label + ":", text);
    }
  }

  // Same object as loader.js made, so a reference another script took early keeps working.
  Object.assign(window.dlFigures = window.dlFigures || {}, {
    // The drawn Vega view of a .dl-chart element, or null while it is not drawn.
    viewOf: function (element) { var entry = views.get(element); return entry ? entry.view : null; },
    // Draws the chart now, seen or not, if it is not drawn yet; resolves when it is.
    draw: function (element) { return render(element, false); },
    // The chart's control values now ({name: value}), or null while it is not drawn: what a script that
    // arrives after the chart's dl:state events reads.
    stateOf: function (element) { var entry = views.get(element); return entry ? stateOf(entry.view, entry.params) : null; },
    // The chart's controls ([{name, bind}]), or null while it is not drawn: what a script needs to set them.
    controlsOf: function (element) {
      var entry = views.get(element);
      return entry ? entry.params.map(function (p) { return { name: p.name, bind: p.bind }; }) : null;
    },
    copyText: copyText
  });

  // When charts draw: the one the link's #fragment points at, at once; those on the first screen keep
  // their static SVG until the page is idle or the reader reaches for the page; the others when they come
  // within a screen of the viewport; every one before printing.
  var observer = null;
  var idle = []; // first-screen charts waiting, in page order

  function targeted() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    return target ? Array.from(target.querySelectorAll(".dl-chart")) : [];
  }

  // Idle means after the page has loaded and settled (SETTLE_MS), so drawing never competes with loading.
  var SETTLE_MS = 3000;
  var settled = new Promise(function (resolve) {
    var settle = function () { setTimeout(resolve, SETTLE_MS); };
    if (document.readyState === "complete") settle();
    else window.addEventListener("load", settle, { once: true });
  });

  function whenIdle(callback) {
    settled.then(function () {
      if (window.requestIdleCallback) window.requestIdleCallback(callback, { timeout: 2000 });
      else setTimeout(callback, 200);
    });
  }

  var idleScheduled = false;

  // One chart per idle period, so the reader's input is never queued behind more than one chart.
  function drawWhenIdle() {
    if (idleScheduled || !idle.length) return;
    idleScheduled = true;
    whenIdle(function () {
      idleScheduled = false;
      var element = idle.shift();
      if (element) render(element, false).then(drawWhenIdle);
    });
  }

  function drawAllIdle() {
    idle.splice(0).forEach(function (element) { render(element, false); });
  }

  var charts = []; // the .dl-chart elements set up last

  function setUp() {
    var elements = Array.from(document.querySelectorAll(".dl-chart"));
    var same = elements.length === charts.length && elements.every(function (e, i) { return e === charts[i]; });
    if (same) return; // document$ and DOMContentLoaded may both announce one page
    charts = elements;
    views.forEach(function (entry, element) {
      if (!document.body.contains(element)) { entry.view.finalize(); views.delete(element); }
    });
    if (observer) observer.disconnect();
    idle = [];
    targeted().forEach(function (element) { render(element, false); });
    // A chart that is the whole page (embed/<id>/) has nothing to wait for.
    elements.filter(function (e) { return e.dataset.draw === "at-once"; }).forEach(function (element) {
      render(element, false);
    });
    if (!window.IntersectionObserver) {
      elements.forEach(function (element) { render(element, false); });
      return;
    }
    var first = new Set(elements); // the observer reports every element once at the start
    observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        var element = entry.target;
        var initial = first.delete(element);
        if (!entry.isIntersecting) return;
        observer.unobserve(element);
        if (initial) idle.push(element);
        else render(element, false);
      });
      drawWhenIdle();
    }, { rootMargin: "100% 0px" });
    elements.forEach(function (element) { if (!views.has(element)) observer.observe(element); });
  }

  function drawEverything() {
    document.querySelectorAll(".dl-chart").forEach(function (element) { render(element, false); });
  }

  function redrawWhereTheColumnChanged() {
    views.forEach(function (entry, element) {
      var relaid = entry.stacked !== stackedLayout(element) && stackedSpec(element) !== null;
      if (relaid || (fitsByWidth(entry.spec) && Math.abs(element.clientWidth - entry.width) > 8)) render(element, true);
    });
  }

  // The link keeps the figures' current state (the query) and points at this figure.
  function copyLink(button) {
    copyText(button, location.href.split("#")[0] + "#" + button.dataset.anchor, "copy link", "link copied");
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
    resizeTimer = setTimeout(redrawWhereTheColumnChanged, 200);
  });

  ["pointerdown", "keydown", "focusin", "wheel", "touchstart"].forEach(function (type) {
    document.addEventListener(type, drawAllIdle, { passive: true });
  });
  document.addEventListener("pointerover", function (event) {
    if (event.target.closest && event.target.closest(".dl-chart")) drawAllIdle();
  });
  window.addEventListener("hashchange", function () {
    targeted().forEach(function (element) { render(element, false); });
  });
  window.addEventListener("beforeprint", drawEverything);

  // loader.js brings this script once the page's content is in place; later calls (instant navigation,
  // DOMContentLoaded on file://) set up what is new.
  if (window.document$) window.document$.subscribe(setUp);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
