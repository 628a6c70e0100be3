// Material's search panel is a dialog without a name; screen readers announce it as "dialog".
(function () {
  "use strict";
  var search = document.querySelector(".md-search[role=dialog]");
  if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search");
})();

// A notebook's code or output that scrolls sideways must be reachable from the keyboard (axe
// scrollable-region-focusable): give it a tab stop, with a name that tells the regions apart (axe
// landmark-unique): which cell, code or output.
(function () {
  "use strict";
  // document$ and DOMContentLoaded both announce the first page; measuring it twice would lay it out twice.
  var handled = new WeakSet();
  function focusScrollableCells() {
    var notebook = document.querySelector(".jupyter-wrapper");
    if (!notebook || handled.has(notebook)) return;
    handled.add(notebook);
    var cells = Array.from(document.querySelectorAll(".jupyter-wrapper .jp-Cell"));
    // Every width is read before any attribute is written: a write between two reads would make the
    // browser restyle and lay out the whole page again for each region (seconds on a phone).
    Array.from(document.querySelectorAll(".jupyter-wrapper .highlight-ipynb, .jupyter-wrapper .jp-OutputArea-output pre"))
      .filter(function (element) {
        return !element.hasAttribute("tabindex") && element.scrollWidth > element.clientWidth;
      })
      .forEach(function (element) {
        var part = element.classList.contains("highlight-ipynb") ? "code" : "output";
        var cell = cells.indexOf(element.closest(".jp-Cell")) + 1;
        var outputs = element.closest(".jp-Cell").querySelectorAll(".jp-OutputArea-output pre");
        var which = part === "output" && outputs.length > 1
          ? " " + (Array.from(outputs).indexOf(element) + 1) : "";
        element.setAttribute("tabindex", "0");
        element.setAttribute("role", "region");
        element.setAttribute("aria-label", part + which + " of cell " + cell + ", scrolls sideways");
      });
  }
  if (window.document$) window.document$.subscribe(focusScrollableCells);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusScrollableCells);
  else focusScrollableCells();
})();
