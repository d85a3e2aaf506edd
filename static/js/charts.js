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

  var DAY = 86400000;

  function spaced(at) {
    /* The days to label, at least a twelfth of the axis apart (the last one kept). */
    var gap = (at[at.length - 1] - at[0]) / 12;
    var kept = [];
    at.slice().reverse().forEach(function (v) {
      if (!kept.length || kept[kept.length - 1] - v >= gap) { kept.push(v); }
    });
    return kept.reverse();
  }

  function onDays(spec, found) {
    /* A time axis: each label an ISO date, placed by its distance in days from the first;
       the labels are the ticks; points with no value are left out. */
    var base = Date.parse(spec.labels[0]);
    var at = spec.labels.map(function (label) { return (Date.parse(label) - base) / DAY; });
    found.data.datasets.forEach(function (d, n) {
      var raw = spec.datasets[n];
      var keep = [];
      raw.data.forEach(function (v, i) { if (number(v) !== null) { keep.push(i); } });
      d.data = keep.map(function (i) { return { x: at[i], y: number(raw.data[i]) }; });
      ["pointBackgroundColor", "pointBorderColor", "pointStyle"].forEach(function (key) {
        if (Array.isArray(d[key])) { d[key] = keep.map(function (i) { return d[key][i]; }); }
      });
      d.pointRadius = raw.points ? 5 : d.pointRadius;
    });
    delete found.data.labels;
    found.options.scales.x = {
      type: "linear", min: at[0], max: at[at.length - 1], grid: { display: false },
      afterBuildTicks: function (scale) { scale.ticks = spaced(at).map(function (v) { return { value: v }; }); },
      ticks: { autoSkip: false, callback: function (value) {
        return new Date(base + value * DAY).toISOString().slice(0, 10);
      } }
    };
    return found;
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
          // A dataset whose points each have their own tone is explained beside the chart:
          // one legend swatch could not match them.
          legend: { display: spec.legend, position: "bottom",
                    labels: { filter: function (item, data) {
                      return !spec.datasets[item.datasetIndex].points || spec.kind === "bar";
                    } } },
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
    var spec = JSON.parse(island.textContent);
    var found = config(spec);
    if (spec.x === "days" && spec.labels.length) { found = onDays(spec, found); }
    var chart = new window.Chart(canvas, found);
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
