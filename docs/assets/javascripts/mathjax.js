// MathJax 3 for pymdownx.arithmatex (generic mode), served from the site (docs/assets/vendor).
// A display equation wider than the column scrolls; make it reachable from the keyboard.
function focusWideEquations() {
  document.querySelectorAll("div.arithmatex").forEach(function (element) {
    if (element.scrollWidth > element.clientWidth) element.setAttribute("tabindex", "0");
  });
}

var MATH_CONTAINERS = ".arithmatex, .jp-RenderedMarkdown";

window.MathJax = {
  startup: {
    elements: [MATH_CONTAINERS],
    pageReady: function () { return window.MathJax.startup.defaultPageReady().then(focusWideEquations); }
  },
  // Only math containers are typeset: arithmatex output (\( \) and \[ \]) and notebook markdown cells
  // (jp-RenderedMarkdown, $ and $$); a dollar sign anywhere else stays a dollar sign.
  tex: { inlineMath: [["\\(", "\\)"], ["$", "$"]], displayMath: [["\\[", "\\]"], ["$$", "$$"]],
         processEscapes: true, processEnvironments: true },
  options: { enableMenu: false },
  svg: { fontCache: "global" }
};

// Typeset again after each instant navigation; on file:// document$ never fires and MathJax's own
// startup typesets the page.
if (window.document$) {
  window.document$.subscribe(function () {
    var startup = window.MathJax.startup;
    if (!startup || !startup.promise) return; // not loaded yet: its startup typesets the page
    startup.promise.then(function () {
      window.MathJax.typesetClear();
      window.MathJax.texReset();
      return window.MathJax.typesetPromise([MATH_CONTAINERS]).then(focusWideEquations);
    });
  });
}
