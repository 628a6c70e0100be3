// Material's search panel is a dialog without a name; screen readers announce it as "dialog".
(function () {
  "use strict";
  var search = document.querySelector(".md-search[role=dialog]");
  if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search");
})();

// A notebook's code or output that scrolls sideways must be reachable from the keyboard (axe
// scrollable-region-focusable): give it a tab stop, with a name.
(function () {
  "use strict";
  function focusScrollableCells() {
    document.querySelectorAll(".jupyter-wrapper .highlight-ipynb, .jupyter-wrapper .jp-OutputArea-output pre")
      .forEach(function (element) {
        if (element.scrollWidth > element.clientWidth && !element.hasAttribute("tabindex")) {
          element.setAttribute("tabindex", "0");
          element.setAttribute("role", "region");
          element.setAttribute("aria-label", "code, scrolls sideways");
        }
      });
  }
  if (window.document$) window.document$.subscribe(focusScrollableCells);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusScrollableCells);
  else focusScrollableCells();
})();
