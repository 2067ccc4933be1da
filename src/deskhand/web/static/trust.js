/* deskhand: the Trust page's charts, drawn from the JSON block #trust-data. The same numbers
   are in the tables below each chart, so the page is complete without this script. */
(function () {
  "use strict";

  var block = document.getElementById("trust-data");
  if (!block || typeof Chart === "undefined") return;
  var data = JSON.parse(block.textContent);

  var DECISIONS = ["#2e7d32", "#f9a825", "#b3261e", "#7a7f87"];
  var EXECUTIONS = ["#2e7d32", "#b3261e", "#8a5300"];
  var REASONS = ["#38606b", "#6a3fa0", "#b3261e", "#8a5300", "#0d3c84", "#7a0019",
                 "#5b6573", "#2e7d32", "#c2185b", "#00796b", "#f9a825", "#455a64"];

  function stacked(id, series, colours, unit) {
    var canvas = document.getElementById(id);
    if (!canvas || !series || !series.length) return;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.weeks,
        datasets: series.map(function (one, i) {
          return { label: one.label, data: one.values, backgroundColor: colours[i % colours.length] };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 },
               title: { display: true, text: unit } }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  stacked("chart-decisions", data.decisions, DECISIONS, "drafts");
  stacked("chart-escalations", data.escalations, REASONS, "escalations");
  stacked("chart-executions", data.executions, EXECUTIONS, "steps");
})();
