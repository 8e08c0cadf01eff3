// Charts: any <canvas data-chart="ID"> is drawn from the JSON in <script id="ID">, also after htmx swaps.
(function () {
  function draw(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source || typeof Chart === "undefined") return;
      canvas.dataset.drawn = "1";
      new Chart(canvas, JSON.parse(source.textContent));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  // Select-all box for bulk actions.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select-all]")) {
      document.querySelectorAll("input[name='" + event.target.dataset.selectAll + "']").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
  });
})();
