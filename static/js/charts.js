/* Draws every <canvas data-chart="ID"> from the JSON island <script type="application/json"
   id="ID"> beside it (built by compapp/charts.py), with the vendored Chart.js. No inline
   script or style anywhere: the content security policy allows only this site's files. */
(function () {
  "use strict";

  var PALETTE = ["#1f5fbf", "#0e9384", "#b54708", "#6941c6", "#c11574", "#067647", "#475467"];
  var TONES = {
    projected: "#b54708", final: "#067647", target: "#98a2b3", muted: "#98a2b3",
    bad: "#b42318", good: "#067647", accent: "#1f5fbf"
  };

  function colour(tone) {
    if (typeof tone === "number") { return PALETTE[tone % PALETTE.length]; }
    return TONES[tone] || PALETTE[0];
  }

  function translucent(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function number(value) {
    return value === null || value === undefined || value === "" ? null : Number(value);
  }

  var MONEY = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
  var MONEY_CENTS = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

  function formatter(kind, precise) {
    if (kind === "money") { return function (v) { return (precise ? MONEY_CENTS : MONEY).format(v); }; }
    if (kind === "percent") {
      return function (v) { return (v * 100).toFixed(precise ? 1 : 0) + "%"; };
    }
    if (kind === "days") { return function (v) { return (precise ? v.toFixed(1) : v) + " d"; }; }
    return function (v) { return Number.isInteger(v) ? String(v) : v.toFixed(precise ? 2 : 1); };
  }

  function dataset(spec, chartKind) {
    var kind = spec.kind || chartKind;
    var base = colour(spec.tone);
    var found = {
      type: kind,
      label: spec.label,
      data: spec.data.map(number),
      borderColor: base,
      backgroundColor: kind === "line" ? base : translucent(base, 0.75),
      borderWidth: kind === "line" ? 2 : 0,
      yAxisID: spec.axis === "y2" ? "y2" : "y",
      spanGaps: true,
      pointRadius: kind === "line" ? (spec.data.length > 12 ? 2 : 4) : 0,
      pointHoverRadius: 6
    };
    if (spec.dashed) { found.borderDash = [6, 4]; found.pointRadius = 0; }
    if (spec.stack) { found.stack = spec.stack; }
    if (spec.points && kind === "bar") {
      found.backgroundColor = spec.points.map(function (t) { return translucent(colour(t), 0.75); });
    } else if (spec.points) {
      found.pointBackgroundColor = spec.points.map(colour);
      found.pointBorderColor = spec.points.map(colour);
      found.pointStyle = spec.points.map(function (t) { return t === "projected" ? "rectRot" : "circle"; });
      found.pointRadius = 5;
    }
    return found;
  }

  function axis(kind, label, position, stacked) {
    var format = formatter(kind, false);
    return {
      position: position,
      stacked: stacked,
      beginAtZero: true,
      title: { display: Boolean(label), text: label },
      grid: { drawOnChartArea: position !== "right" },
      ticks: { callback: function (value) { return format(value); }, precision: kind === "count" ? 0 : undefined }
    };
  }

  function config(spec) {
    var hasY2 = spec.datasets.some(function (d) { return d.axis === "y2"; });
    var valueAxis = spec.horizontal ? "x" : "y";
    var scales = {};
    scales[spec.horizontal ? "y" : "x"] = { stacked: spec.stacked, grid: { display: false } };
    scales[valueAxis] = axis(spec.y, spec.yLabel, spec.horizontal ? "bottom" : "left", spec.stacked);
    if (hasY2) { scales.y2 = axis(spec.y2 || spec.y, spec.y2Label, "right", false); }
    var formats = { y: formatter(spec.y, true), y2: formatter(spec.y2 || spec.y, true) };
    return {
      type: spec.kind,
      data: { labels: spec.labels, datasets: spec.datasets.map(function (d) { return dataset(d, spec.kind); }) },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        interaction: { mode: "nearest", intersect: false },
        scales: scales,
        plugins: {
          legend: { display: spec.legend, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                var id = item.dataset.yAxisID === "y2" ? "y2" : "y";
                var value = spec.horizontal ? item.parsed.x : item.parsed.y;
                return item.dataset.label + ": " + (value === null ? "—" : formats[id](value));
              }
            }
          }
        }
      }
    };
  }

  function draw(canvas) {
    if (canvas.dataset.rendered === "true" || typeof window.Chart === "undefined") { return; }
    var island = document.getElementById(canvas.dataset.chart);
    if (!island) { return; }
    var chart = new window.Chart(canvas, config(JSON.parse(island.textContent)));
    canvas.dataset.rendered = chart ? "true" : "false";
  }

  function drawAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("canvas[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  // Content swapped in by htmx may bring charts of its own.
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
