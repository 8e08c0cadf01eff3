// Charts: any <canvas data-chart="ID"> is drawn from the JSON in <script id="ID">, also after htmx swaps.
(function () {
  function draw(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source || typeof Chart === "undefined") return;
      canvas.dataset.drawn = "1";
      // Monthly and daily series are measured points: straight segments, never a spline between them.
      Chart.defaults.elements.line.tension = 0;
      new Chart(canvas, JSON.parse(source.textContent));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  function ticked(name) {
    return document.querySelectorAll("input[type=checkbox][name='" + name + "']:checked").length;
  }
  function showCounts() {
    document.querySelectorAll("[data-selected-count]").forEach(function (el) {
      el.textContent = ticked(el.dataset.selectedCount) + " selected";
    });
  }
  // Select-all box for bulk actions, and the live "N selected" counter beside the action.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select-all]")) {
      document.querySelectorAll("input[name='" + event.target.dataset.selectAll + "']").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
    if (event.target.matches("input[type=checkbox]")) showCounts();
  });
  document.addEventListener("htmx:afterSettle", showCounts);
  // A bulk action asks before it runs, naming how many rows it touches:
  // <form data-confirm-count="accounts" data-confirm="Assign {count} account(s) to {owner}?">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-confirm]")) return;
    var message = form.dataset.confirm;
    if (form.dataset.confirmCount) message = message.replace("{count}", ticked(form.dataset.confirmCount));
    var owner = form.querySelector("select[name=owner]");
    if (owner) message = message.replace("{owner}", owner.options[owner.selectedIndex].text);
    if (!window.confirm(message)) event.preventDefault();
  }, true);
})();
