// MathJax 3 for pymdownx.arithmatex (generic mode), served from the site (docs/assets/vendor).
window.MathJax = {
  tex: { inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex", enableMenu: false },
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
      return window.MathJax.typesetPromise();
    });
  });
}
