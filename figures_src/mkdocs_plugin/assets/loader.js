// On every page, and small: loads figures.js (which loads Vega when a chart is about to be drawn) only
// on pages that have charts, at the first load and after each instant navigation (document$), and from
// file:// (DOMContentLoaded). window.dlFigures answers before figures.js has arrived.
(function () {
  "use strict";
  var folder = document.currentScript.src.replace(/[^/]*$/, "");
  var loaded = null;

  function loadScript(name) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = folder + name;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("cannot load " + script.src)); };
      document.head.appendChild(script);
    });
  }

  // export.js (the caption's image and embed-code buttons) and reactive.js (numbers in the text that follow a
  // chart's controls) come along; nothing waits for them: they act on charts figures.js has drawn.
  function loadFigures() {
    if (!loaded) {
      loaded = loadScript("figures.js").catch(function (error) { loaded = null; throw error; });
      ["export.js", "reactive.js"].forEach(function (name) {
        loadScript(name).catch(function (error) { console.error(error.message); });
      });
    }
    return loaded;
  }

  // figures.js replaces these two functions on the same object, so a reference taken early keeps working.
  // If figures.js loads but fails before replacing them, draw is still this stand-in: calling it again would
  // loop through resolved promises for ever (a frozen page, a PDF printer that never finishes), so it fails.
  function standInDraw(element) {
    return loadFigures().then(function () {
      if (window.dlFigures.draw === standInDraw) {
        throw new Error("figures.js loaded but did not set up window.dlFigures.draw (see its error above)");
      }
      return window.dlFigures.draw(element);
    });
  }
  window.dlFigures = {viewOf: function () { return null; }, draw: standInDraw};

  function pageReady() {
    if (document.querySelector(".dl-chart")) loadFigures();
  }

  if (window.document$) window.document$.subscribe(pageReady);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", pageReady);
  else pageReady();
})();
