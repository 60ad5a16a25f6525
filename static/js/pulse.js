/* Pipeline Pulse in the browser: charts drawn from the page's own data, and live sync news.
 *
 * No inline scripts and no eval (a strict Content-Security-Policy can apply): charts read a
 * <script type="application/json"> block the server rendered with json_script, and every
 * figure a chart shows is also in the table or links beside it. Live sync news comes over the
 * /ws/sync/ WebSocket when the server has a shared channel layer (Redis); otherwise pages poll
 * with htmx and this file only draws charts.
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
    if (window.htmx) {
      window.htmx.onLoad(function (element) { if (element !== document.body) { drawCharts(element); } });
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
