/* Pipeline Pulse in the browser: charts drawn from the page's own data, and live sync news.
 *
 * No inline scripts and no eval (a strict Content-Security-Policy can apply): charts read a
 * <script type="application/json"> block the server rendered with json_script, and every
 * figure a chart shows is also in the table or links beside it. Live sync news comes over the
 * /ws/sync/ WebSocket when the server has a shared channel layer (Redis); otherwise pages poll
 * with htmx. Also: the filter menus (Esc, outside click, a choice closes them), the board's
 * filters folded on phones, addresses without empty filters, aria-busy while a list updates,
 * and the deal edit form's helpers (money separators, the stage's default probability, focus
 * on the first error, "Saving…").
 */
(function () {
  "use strict";

  var COLOURS = {
    danger: "#d92d20",
    warning: "#f79009",
    success: "#17b26a",
    neutral: "#98a2b3",
    "phase-1": "#a4bcfd",
    "phase-2": "#6172f3",
    "phase-3": "#3538cd",
    "phase-4": "#2d3282",
    accent: "#4e5ba6",
  };

  function colourOf(key) {
    return COLOURS[key] || COLOURS.accent;
  }

  function shortSgd(value) {
    var size = Math.abs(value);
    var sign = value < 0 ? "\u2212" : "";
    var units = [[1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (var i = 0; i < units.length; i += 1) {
      if (size >= units[i][0]) {
        var scaled = size / units[i][0];
        var text = scaled >= 100 ? scaled.toFixed(0) : scaled.toFixed(1).replace(/\.0$/, "");
        return sign + "S$" + text + units[i][1];
      }
    }
    return sign + "S$" + size.toFixed(0);
  }

  function readData(canvas) {
    var block = document.getElementById(canvas.getAttribute("data-chart"));
    return block ? JSON.parse(block.textContent) : null;
  }

  function barChart(canvas, data) {
    var horizontal = data.dimension === "territory" || data.dimension === "service_line";
    var valueAxis = { beginAtZero: true, ticks: { callback: shortSgd }, grid: { color: "#eef0f3" } };
    var labelAxis = { grid: { display: false }, ticks: { autoSkip: false } };
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: data.title,
          data: data.values,
          backgroundColor: data.colours.map(colourOf),
          borderRadius: 4,
          maxBarThickness: horizontal ? 22 : 56,
        }],
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) { return data.texts[item.dataIndex]; },
              footer: function (items) {
                return items.length && data.links[items[0].dataIndex] ? "Click to open these deals" : "";
              },
            },
          },
        },
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var link = data.links[elements[0].index];
          if (link) { window.location.assign(link); }
        },
      },
    });
  }

  function trendChart(canvas, data) {
    return new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series, index) {
          return {
            label: series.label,
            data: series.values,
            borderColor: colourOf(series.health),
            backgroundColor: colourOf(series.health) + "33",
            fill: index === 0 ? "origin" : "-1",
            pointRadius: 0,
            borderWidth: 2,
            tension: 0.2,
          };
        }),
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: function (item) { return item.dataset.label + ": " + shortSgd(item.parsed.y); },
            },
          },
        },
        scales: {
          x: { grid: { display: false }, ticks: { maxTicksLimit: 10 } },
          y: { stacked: true, beginAtZero: true, ticks: { callback: shortSgd }, grid: { color: "#eef0f3" } },
        },
      },
    });
  }

  function drawCharts(root) {
    if (!window.Chart) { return; }
    var canvases = root.querySelectorAll ? root.querySelectorAll("canvas[data-chart]") : [];
    Array.prototype.forEach.call(canvases, function (canvas) {
      var existing = window.Chart.getChart(canvas);
      if (existing) { existing.destroy(); }
      var data = readData(canvas);
      if (!data) { return; }
      if (data.kind === "trend") { trendChart(canvas, data); } else { barChart(canvas, data); }
    });
  }

  /* --- Filter menus: the count on a menu follows its ticked boxes ------------------------ */

  function countTicks(event) {
    var menu = event.target.closest ? event.target.closest("details.dropdown") : null;
    if (!menu || event.target.type !== "checkbox") { return; }
    var summary = menu.querySelector("summary");
    var ticked = menu.querySelectorAll("input[type=checkbox]:checked").length;
    var badge = summary.querySelector(".count");
    if (!ticked) {
      if (badge) { badge.remove(); }
      return;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "count";
      summary.appendChild(document.createTextNode(" "));
      summary.appendChild(badge);
    }
    badge.textContent = String(ticked);
  }


  /* --- Filter menus: one open at a time; Esc, a click outside or a choice closes them ------ */

  function openMenus() {
    return Array.prototype.slice.call(document.querySelectorAll("details.dropdown[open]"));
  }

  function closeMenus(except) {
    openMenus().forEach(function (menu) { if (menu !== except) { menu.open = false; } });
  }

  function onMenuKey(event) {
    if (event.key !== "Escape") { return; }
    var menu = event.target.closest ? event.target.closest("details.dropdown[open]") : null;
    var open = menu ? [menu] : openMenus();
    if (!open.length) { return; }
    open.forEach(function (item) { item.open = false; });
    open[0].querySelector("summary").focus(); // back to the menu's button
    event.preventDefault();
  }

  function onMenuClick(event) {
    var menu = event.target.closest ? event.target.closest("details.dropdown") : null;
    closeMenus(menu); // a click outside closes every menu, one inside closes the others
  }

  function onMenuChoice(event) {
    var menu = event.target.closest ? event.target.closest("details.dropdown[open]") : null;
    if (menu && event.target.type === "checkbox") {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  }

  /* --- The board's filters on a phone: folded behind a "Filters" button ------------------ */

  function onFiltersToggle(event) {
    var button = event.target.closest ? event.target.closest(".filters-toggle") : null;
    if (!button) { return; }
    var form = button.closest("form");
    var shown = form.classList.toggle("show-filters");
    button.setAttribute("aria-expanded", shown ? "true" : "false");
  }

  /* --- htmx requests: clean addresses, aria-busy while a list updates --------------------- */

  function cleanParameters(event) {
    // A shared or pushed address carries only the filters set: no empty values, no page=1.
    if (event.detail.verb !== "get" || !event.detail.formData) { return; }
    var data = event.detail.formData;
    var kept = [];
    data.forEach(function (value, key) {
      var text = typeof value === "string" ? value.trim() : value;
      if (text === "" || (key === "page" && text === "1")) { return; }
      kept.push([key, value]);
    });
    Array.from(new Set(Array.from(data.keys()))).forEach(function (key) { data.delete(key); });
    kept.forEach(function (pair) { data.append(pair[0], pair[1]); });
  }

  // A search box waits for a pause in typing before it asks; a click on Next or a column in
  // that pause sends the whole form (search included) at once. The box's late request would
  // then undo the click (page 1 again): it is dropped when a newer one for the same list left.
  var lastTyped = new WeakMap();
  var lastAsked = {};

  function noteTyping(event) { lastTyped.set(event.target, Date.now()); }

  function dropSuperseded(event) {
    var elt = event.detail.elt;
    var list = event.detail.target ? event.detail.target.id : "";
    if (!list) { return; }
    var typed = lastTyped.get(elt);
    if (elt.matches("input[type=search][hx-include]") && typed && (lastAsked[list] || 0) > typed) {
      event.preventDefault(); // never asked: the list already shows this search
      return;
    }
    if (elt.closest("form") || elt.hasAttribute("hx-include")) {
      lastAsked[list] = Date.now(); // a request that carries the form's fields
    }
  }

  function markBusy(event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("aria-busy")) { target.setAttribute("aria-busy", "true"); }
  }

  function markDone(event) {
    var target = event.detail.target;
    if (target && target.isConnected && target.hasAttribute("aria-busy")) {
      target.setAttribute("aria-busy", "false");
    }
  }

  /* --- The deal's edit form -------------------------------------------------------------- */

  function formatMoney(input) {
    var raw = input.value.replace(/[,\s]/g, "");
    if (!/^\d+(\.\d{0,2})?$/.test(raw)) { return; } // leave anything else for the server to explain
    var parts = raw.split(".");
    var whole = parts[0].replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = ((parts[1] || "") + "00").slice(0, 2);
    input.value = whole + "." + cents;
  }

  function onMoneyBlur(event) {
    if (event.target.matches && event.target.matches("input[data-money]")) { formatMoney(event.target); }
  }

  function onStageChange(event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[name=stage]")) { return; }
    var offer = select.parentNode.querySelector("[data-stage-default]");
    var probability = document.getElementById("edit-probability");
    if (!offer || !probability) { return; }
    var option = select.options[select.selectedIndex];
    var chance = option ? option.getAttribute("data-probability") : null;
    if (chance === null || chance === probability.value.trim()) {
      offer.hidden = true;
      return;
    }
    offer.querySelector("[data-stage-default-text]").textContent =
      "Zoho's probability for " + option.value + " is " + chance + "%.";
    var use = offer.querySelector("[data-stage-default-use]");
    use.textContent = "Use " + chance + "%";
    use.setAttribute("data-probability", chance);
    offer.hidden = false;
  }

  function onUseDefault(event) {
    var button = event.target.closest ? event.target.closest("[data-stage-default-use]") : null;
    if (!button) { return; }
    var probability = document.getElementById("edit-probability");
    probability.value = button.getAttribute("data-probability");
    button.closest("[data-stage-default]").hidden = true;
    probability.focus();
  }

  function focusFirstError(root) {
    var scope = root && root.querySelector ? root : document;
    var invalid = scope.querySelector(".edit-form [aria-invalid=true], form [aria-invalid=true]");
    if (invalid) { invalid.focus(); }
  }

  function onSaving(event) {
    var form = event.target.closest ? event.target.closest(".edit-form") : null;
    var button = form ? form.querySelector("button[data-busy-label]") : null;
    if (button && !button.disabled) {
      button.setAttribute("data-label", button.textContent);
      button.textContent = button.getAttribute("data-busy-label");
      if (!window.htmx) { button.disabled = true; } // a plain post: htmx's hx-disabled-elt otherwise
    }
  }

  function onSaved(event) {
    var button = event.detail.elt && event.detail.elt.querySelector
      ? event.detail.elt.querySelector("button[data-busy-label][data-label]") : null;
    if (button && button.isConnected) { button.textContent = button.getAttribute("data-label"); }
  }

  /* --- Live sync progress over the WebSocket ------------------------------------------- */

  function setText(panel, name, value) {
    var node = panel.querySelector('[data-count="' + name + '"]');
    if (node && value !== null && value !== undefined) {
      node.textContent = Number(value).toLocaleString("en-GB");
    }
  }

  function showProgress(run) {
    var panel = document.getElementById("sync-progress");
    if (!panel || panel.getAttribute("data-run-id") !== String(run.id)) { return false; }
    ["fetched", "created", "updated", "deleted", "skipped", "failed", "pages"].forEach(function (name) {
      setText(panel, name, run[name]);
    });
    var bar = panel.querySelector("progress");
    if (bar && run.progress_percent !== null && run.progress_percent !== undefined) {
      bar.value = run.progress_percent;
      bar.textContent = run.progress_percent + "%";
      var label = panel.querySelector("[data-percent]");
      if (label) { label.textContent = run.progress_percent + "%"; }
    }
    return true;
  }

  function onRunEvent(run) {
    var shown = run.status === "running" && showProgress(run);
    if (!shown) {
      // A run started, or ended: let the page fetch what it shows about runs.
      window.htmx.trigger(document.body, "pulse:sync-changed", run);
    }
    if (run.status !== "running") {
      window.htmx.trigger(document.body, "pulse:sync-finished", run);
    }
  }

  function listen(path) {
    var retry = 1000;
    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new window.WebSocket(scheme + window.location.host + path);
      socket.onopen = function () { retry = 1000; };
      socket.onmessage = function (message) {
        try { onRunEvent(JSON.parse(message.data)); } catch (error) { /* not an event */ }
      };
      socket.onclose = function (event) {
        if (event.code === 4401) { return; } // logged out: nothing to listen to
        window.setTimeout(connect, retry);
        retry = Math.min(retry * 2, 30000);
      };
    }
    connect();
  }

  function start() {
    drawCharts(document);
    document.addEventListener("change", countTicks);
    document.addEventListener("change", onMenuChoice);
    document.addEventListener("change", onStageChange);
    document.addEventListener("keydown", onMenuKey);
    document.addEventListener("click", onMenuClick);
    document.addEventListener("click", onFiltersToggle);
    document.addEventListener("click", onUseDefault);
    document.addEventListener("focusout", onMoneyBlur);
    document.addEventListener("submit", onSaving);
    focusFirstError(document);
    if (window.htmx) {
      window.htmx.onLoad(function (element) {
        if (element !== document.body) {
          drawCharts(element);
          focusFirstError(element);
        }
      });
      document.addEventListener("input", noteTyping, true);
      document.body.addEventListener("htmx:confirm", dropSuperseded);
      document.body.addEventListener("htmx:configRequest", cleanParameters);
      document.body.addEventListener("htmx:beforeRequest", markBusy);
      document.body.addEventListener("htmx:afterRequest", markDone);
      document.body.addEventListener("htmx:afterRequest", onSaved);
    }
    var socketPath = document.body.getAttribute("data-sync-socket");
    if (socketPath && window.WebSocket && window.htmx) { listen(socketPath); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* Saved views: the save form keeps the board's filters as they are now. Filters change the
 * address without a page load (htmx pushes it), so the query is read from the address when
 * the form is sent; without JavaScript every change is a page load and the server's value is
 * already current. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var field = form && form.querySelector ? form.querySelector("[data-current-query]") : null;
    if (field) {
      field.value = window.location.search.replace(/^\?/, "");
    }
  });
})();
