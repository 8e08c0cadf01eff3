// Behaviour the templates declare with data- attributes: the Content-Security-Policy allows no inline script,
// no on* handler and no style="" attribute, so everything dynamic is wired here (also after htmx swaps).
(function () {
  function within(root, selector, callback) {
    if (root.matches && root.matches(selector)) callback(root);
    root.querySelectorAll(selector).forEach(callback);
  }

  // Charts: any <canvas data-chart="ID"> is drawn from the JSON in <script id="ID">.
  function draw(root) {
    within(root, "canvas[data-chart]", function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source || typeof Chart === "undefined") return;
      canvas.dataset.drawn = "1";
      // Monthly and daily series are measured points: straight segments, never a spline between them.
      Chart.defaults.elements.line.tension = 0;
      new Chart(canvas, JSON.parse(source.textContent));
    });
  }

  // Sizes computed on the server: data-width="42" (a percentage width), data-fill="42" (the --w of a gradient
  // bar), data-heat="0.42" (the opacity of a heat-map cell's colour). Set through the CSSOM, which CSP allows.
  function size(root) {
    within(root, "[data-width]", function (el) { el.style.width = el.dataset.width + "%"; });
    within(root, "[data-fill]", function (el) { el.style.setProperty("--w", el.dataset.fill + "%"); });
    within(root, "[data-heat]", function (el) {
      el.style.backgroundColor = "rgba(48, 86, 211, " + el.dataset.heat + ")";
    });
  }

  // The live "N selected" counter beside a bulk action, in the page's language:
  // <span data-selected-count="accounts" data-selected-text="{count} selected">.
  function ticked(name) {
    return document.querySelectorAll("input[type=checkbox][name='" + name + "']:checked").length;
  }
  function showCounts() {
    document.querySelectorAll("[data-selected-count]").forEach(function (el) {
      var text = el.dataset.selectedText || "{count} selected";
      el.textContent = text.replace("{count}", ticked(el.dataset.selectedCount));
    });
  }

  // A bulk edit form shows only the value fields of the chosen action: <select data-bulk-action> and
  // <span data-bulk-for="tag_add tag_remove">. Hidden fields are disabled, so they are not sent.
  function showBulkFields(root) {
    within(root, "[data-bulk-action]", function (select) {
      select.form.querySelectorAll("[data-bulk-for]").forEach(function (span) {
        var shown = span.dataset.bulkFor.split(" ").indexOf(select.value) >= 0;
        span.hidden = !shown;
        span.querySelectorAll("input, select").forEach(function (field) { field.disabled = !shown; });
      });
    });
  }

  function enhance(root) {
    size(root);
    draw(root);
    showCounts();
    showBulkFields(root);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { size(event.target); });
  document.addEventListener("htmx:afterSettle", function (event) { enhance(event.target); });

  document.addEventListener("change", function (event) {
    // Select-all box for bulk actions.
    if (event.target.matches("[data-select-all]")) {
      document.querySelectorAll("input[name='" + event.target.dataset.selectAll + "']").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
    if (event.target.matches("input[type=checkbox]")) showCounts();
    if (event.target.matches("[data-bulk-action]")) showBulkFields(event.target.form);
    // A filter select that applies itself.
    if (event.target.matches("[data-autosubmit]") && event.target.form) event.target.form.requestSubmit();
  });

  // <form data-confirm="Revoke this key?">: asks before sending (in the capture phase, before htmx sees the
  // submit). A bulk action names how many rows it touches and to whom:
  // <form data-confirm-count="accounts" data-confirm="Assign {count} account(s) to {owner}?">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm) return;
    var message = form.dataset.confirm;
    if (form.dataset.confirmCount) message = message.replace("{count}", ticked(form.dataset.confirmCount));
    var owner = form.querySelector("select[name=owner]");
    if (owner && owner.selectedIndex >= 0) message = message.replace("{owner}", owner.options[owner.selectedIndex].text);
    if (!window.confirm(message)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // <input data-current-query>: carries the page's current query string (the filters the address bar holds).
    form.querySelectorAll("input[data-current-query]").forEach(function (input) {
      input.value = window.location.search.slice(1);
    });
  });

  // <button data-empty="#panel">: empties the panel it sits in (closing a drill-down). A click outside the top
  // bar's search closes its results.
  document.addEventListener("click", function (event) {
    var results = document.getElementById("global-search-results");
    if (results && !event.target.closest(".global-search")) results.replaceChildren();
    var button = event.target.closest("[data-empty]");
    if (!button) return;
    var panel = button.closest(button.dataset.empty);
    if (panel) panel.replaceChildren();
  });

  // "/" anywhere but in a field puts the cursor in the top bar's search; Escape closes its results.
  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("global-search");
    if (!box) return;
    var typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "Escape" && event.target === box) {
      document.getElementById("global-search-results").replaceChildren();
      box.blur();
    }
  });

  // A polling element with data-poll-unless-open skips its refresh while one of its <details> is open.
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    if (elt.matches("[data-poll-unless-open]") && elt.querySelector("details[open]")) event.preventDefault();
  });
})();
