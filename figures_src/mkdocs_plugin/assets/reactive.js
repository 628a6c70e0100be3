// Reactive numbers: prose that follows a chart's controls. Each .dl-reactive number carries its text for
// every setting of its figure's controls (data-states, formatted at build time); when the chart reports a
// state (the dl:state event of figures.js), the number shows the text for it. Without JavaScript, and in
// print, it keeps the build-time text of the chart's default setting.
(function () {
  "use strict";

  // The same key as figures_src.markers.state_name: parameters in alphabetical order.
  function settingKey(state) {
    return Object.keys(state).sort().map(function (name) { return name + "=" + String(state[name]); }).join("&");
  }

  function show(figure, state) {
    var key = settingKey(state);
    document.querySelectorAll(".dl-reactive").forEach(function (number) {
      if (number.dataset.figure !== figure) return;
      var texts = JSON.parse(number.dataset.states);
      if (Object.prototype.hasOwnProperty.call(texts, key)) number.textContent = texts[key];
    });
  }

  document.addEventListener("dl:state", function (event) {
    var detail = event.detail || {};
    show(detail.figure, detail.state || {});
  });

  // Charts drawn before this script arrived (a #fig- link, a cached figures.js) announced their state already.
  document.querySelectorAll(".dl-chart").forEach(function (chart) {
    var state = window.dlFigures && window.dlFigures.stateOf ? window.dlFigures.stateOf(chart) : null;
    if (state) show(chart.dataset.figure, state);
  });
})();
