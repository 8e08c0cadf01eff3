// Dashboard: PNG download of a chart, clicking a chart point to see its accounts, and custom-period dates.
(function () {
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-chart-png]");
    if (!button || typeof Chart === "undefined") return;
    var canvas = document.querySelector("canvas[data-chart='" + button.dataset.chartPng + "']");
    var chart = canvas && Chart.getChart(canvas);
    if (!chart) return;
    var link = document.createElement("a");
    link.href = chart.toBase64Image("image/png", 1);
    link.download = button.dataset.filename || "chart.png";
    link.click();
  });

  // A click on a bar or point opens the accounts behind it in the drill-down panel.
  document.addEventListener("click", function (event) {
    var canvas = event.target.closest("canvas[data-drill]");
    if (!canvas || typeof Chart === "undefined" || typeof htmx === "undefined") return;
    var chart = Chart.getChart(canvas);
    if (!chart) return;
    var hit = chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, true)[0];
    var urls = JSON.parse(canvas.dataset.drill);
    var url = hit && urls[hit.datasetIndex] && urls[hit.datasetIndex][hit.index];
    if (url) htmx.ajax("GET", url, { target: "#drilldown", swap: "innerHTML show:#drilldown:top" });
  });

  // Editing a date switches the period to "custom"; choosing a preset clears the dates.
  document.addEventListener("change", function (event) {
    var form = event.target.closest("#dashboard-filters");
    if (!form) return;
    if (event.target.name === "start" || event.target.name === "end") {
      form.querySelector("[name=period]").value = "custom";
    } else if (event.target.name === "period" && event.target.value !== "custom") {
      form.querySelector("[name=start]").value = "";
      form.querySelector("[name=end]").value = "";
    }
  }, true);

  // Free the charts a swap removes.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (typeof Chart === "undefined") return;
    event.detail.target.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = Chart.getChart(canvas);
      if (chart) chart.destroy();
    });
  });
})();
