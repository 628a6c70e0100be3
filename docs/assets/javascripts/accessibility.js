// Material's search panel is a dialog without a name; screen readers announce it as "dialog".
(function () {
  "use strict";
  var search = document.querySelector(".md-search[role=dialog]");
  if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search");
})();
