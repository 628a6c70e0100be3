// The buttons under a caption that take a chart as it is drawn now: PNG (2× resolution, for slides) and
// SVG downloads with the figure's title and control values ("layer l = 50") above the chart, and the
// iframe code of the figure's embed page in the same state. Charts are reached only through
// window.dlFigures (viewOf, draw, stateOf, copyText), which figures.js provides.
(function () {
  "use strict";
  var PNG_SCALE = 2;
  var LINE = 18; // px between the baselines of the lines above the chart
  var PAD = 8;
  var FONT_SIZE = 13;

  function controlsOf(chart) { return window.dlFigures.stateOf(chart) || {}; }

  function chartOf(button) { return button.closest(".dl-figure").querySelector(".dl-chart"); }

  // A value as a reader reads it: 0.30000000000000004 is 0.3.
  function shown(value) { return typeof value === "number" ? String(Number(value.toPrecision(6))) : String(value); }

  // A control's label as Vega drew it beside the control (its bind.name), else the parameter's name.
  function controlLabel(chart, name) {
    var input = chart.querySelector('.vega-bindings [name="' + name + '"]');
    var label = input && input.closest(".vega-bind") && input.closest(".vega-bind").querySelector(".vega-bind-name");
    return label ? label.textContent.trim() : name;
  }

  function headLines(chart) {
    var caption = chart.closest(".dl-figure").querySelector("figcaption");
    var title = [".dl-fignum", "strong"].map(function (selector) {
      var node = caption && caption.querySelector(selector);
      return node ? node.textContent.trim() : "";
    }).filter(Boolean).join(" ");
    var state = controlsOf(chart);
    var controls = Object.keys(state).map(function (name) {
      return controlLabel(chart, name) + " = " + shown(state[name]);
    }).join(" · ");
    return [title || chart.dataset.figure, controls].filter(Boolean);
  }

  function fileName(chart, extension) {
    var state = controlsOf(chart);
    var parts = [chart.dataset.figure].concat(Object.keys(state).map(function (name) {
      return name + "-" + shown(state[name]);
    }));
    return parts.join("_").replace(/[^A-Za-z0-9._-]+/g, "-") + "." + extension;
  }

  // Colours and font of the lines: the page's, over the chart's own background when it has one.
  function look(chart, view) {
    var style = getComputedStyle(chart);
    var background = view.background();
    if (!background || background === "transparent") background = getComputedStyle(document.body).backgroundColor;
    return { text: style.color, background: background, family: style.fontFamily };
  }

  function canvasFont(style, line) { return (line === 0 ? "bold " : "") + FONT_SIZE + "px " + style.family; }

  function baseline(line) { return PAD + LINE * (line + 1) - 5; }

  function textWidth(lines, style) {
    var context = document.createElement("canvas").getContext("2d");
    return Math.max.apply(null, lines.map(function (line, i) {
      context.font = canvasFont(style, i);
      return context.measureText(line).width;
    }));
  }

  function png(chart, view) {
    var lines = headLines(chart);
    var style = look(chart, view);
    var head = PAD + LINE * lines.length;
    return view.toCanvas(PNG_SCALE).then(function (drawn) {
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(drawn.width, Math.ceil((textWidth(lines, style) + 2 * PAD) * PNG_SCALE));
      canvas.height = drawn.height + head * PNG_SCALE;
      var context = canvas.getContext("2d");
      context.fillStyle = style.background;
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.scale(PNG_SCALE, PNG_SCALE);
      context.fillStyle = style.text;
      lines.forEach(function (line, i) {
        context.font = canvasFont(style, i);
        context.fillText(line, PAD, baseline(i));
      });
      context.setTransform(1, 0, 0, 1, 0, 0);
      context.drawImage(drawn, 0, head * PNG_SCALE);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/png"); });
    });
  }

  // The chart's SVG with its view box extended upwards over the lines.
  function svg(chart, view) {
    var lines = headLines(chart);
    var style = look(chart, view);
    var head = PAD + LINE * lines.length;
    return view.toSVG().then(function (markup) {
      var doc = new DOMParser().parseFromString(markup, "image/svg+xml");
      var root = doc.documentElement;
      var ns = root.namespaceURI;
      var width = Math.max(Number(root.getAttribute("width")), Math.ceil(textWidth(lines, style) + 2 * PAD));
      var height = Number(root.getAttribute("height")) + head;
      root.setAttribute("width", width);
      root.setAttribute("height", height);
      root.setAttribute("viewBox", "0 " + -head + " " + width + " " + height);
      var group = doc.createElementNS(ns, "g");
      group.setAttribute("class", "dl-export-title");
      var backdrop = doc.createElementNS(ns, "rect");
      [["x", 0], ["y", -head], ["width", width], ["height", height], ["fill", style.background]].forEach(function (a) {
        backdrop.setAttribute(a[0], a[1]);
      });
      group.appendChild(backdrop);
      lines.forEach(function (line, i) {
        var text = doc.createElementNS(ns, "text");
        text.setAttribute("x", PAD);
        text.setAttribute("y", baseline(i) - head);
        text.setAttribute("fill", style.text);
        text.setAttribute("font-family", style.family);
        text.setAttribute("font-size", FONT_SIZE);
        if (i === 0) text.setAttribute("font-weight", "bold");
        text.textContent = line;
        group.appendChild(text);
      });
      root.insertBefore(group, root.firstChild);
      return new Blob([new XMLSerializer().serializeToString(doc)], { type: "image/svg+xml" });
    });
  }

  function download(blob, name) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }

  function escapeAttribute(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  // The iframe of the figure's embed page, in the chart's current state, about as tall as the figure here.
  function embedCode(button, chart) {
    var address = new URL(button.dataset.embed, location.href);
    var state = controlsOf(chart);
    Object.keys(state).forEach(function (name) {
      address.searchParams.set(chart.dataset.figure + "." + name, shown(state[name]));
    });
    var height = Math.ceil(chart.closest(".dl-figure").getBoundingClientRect().height) + 2 * 24;
    return '<iframe src="' + escapeAttribute(address.href) + '" title="' + escapeAttribute(headLines(chart)[0]) +
      '" width="100%" height="' + height + '" style="border: 0" loading="lazy" allow="clipboard-write"></iframe>';
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".dl-figlinks [data-export], .dl-copy-embed");
    if (!button) return;
    var chart = chartOf(button);
    window.dlFigures.draw(chart).then(function () {
      var view = window.dlFigures.viewOf(chart);
      if (!view) throw new Error("the chart is not drawn");
      if (button.classList.contains("dl-copy-embed")) {
        return window.dlFigures.copyText(button, embedCode(button, chart), "copy embed code", "embed code copied");
      }
      var kind = button.dataset.export;
      return (kind === "png" ? png : svg)(chart, view).then(function (blob) { download(blob, fileName(chart, kind)); });
    }).catch(function (error) {
      console.error("figure " + chart.dataset.figure + ": " + error.message);
    });
  });
})();
