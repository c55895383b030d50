// The analytics dashboard's behaviour: bars, tabs, the period picker, the chart (uPlot)
// and the "right now" figure refreshed every 30 seconds. Served from Troth's own origin;
// the page works without it, only plainer.
(function () {
  "use strict";

  var REFRESH_MS = 30000;
  var metric = "visitors";
  var chart = null;

  function each(selector, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  function drawBars() {
    each("[data-share]", function (bar) {
      var share = Math.max(0, Math.min(100, parseFloat(bar.dataset.share) || 0));
      bar.style.width = share + "%";
    });
  }

  function setUpTabs() {
    each("[data-tabs]", function (panel) {
      var tabs = panel.querySelectorAll("[data-tab]");
      if (!tabs.length) return;
      function show(name) {
        each("[data-tab]", function (tab) {
          tab.setAttribute("aria-selected", tab.dataset.tab === name ? "true" : "false");
        }, panel);
        each("[data-tab-panel]", function (body) {
          body.hidden = body.dataset.tabPanel !== name;
        }, panel);
      }
      each("[data-tab]", function (tab) {
        tab.addEventListener("click", function () { show(tab.dataset.tab); });
      }, panel);
      show(tabs[0].dataset.tab);
    });
  }

  function setUpControls() {
    var form = document.querySelector("[data-controls]");
    if (!form) return;
    var period = form.querySelector("[data-period]");
    var range = form.querySelector("[data-custom-range]");
    function showRange() { range.hidden = period.value !== "custom"; }
    showRange();
    period.addEventListener("change", function () {
      showRange();
      if (period.value !== "custom") form.submit();
    });
    each("[data-autosubmit]", function (field) {
      field.addEventListener("change", function () { form.submit(); });
    }, form);
  }

  function cssColour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function formatValue(key, value) {
    if (value == null) return "";
    if (key === "bounce_rate") return Math.round(value) + "%";
    if (key === "visit_duration") {
      var s = Math.round(value);
      return s >= 60 ? Math.floor(s / 60) + "m " + (s % 60) + "s" : s + "s";
    }
    if (key === "views_per_visit") return value.toFixed(2);
    return value >= 10000 ? (value / 1000).toFixed(1) + "k" : String(Math.round(value));
  }

  function chartOptions(data, width) {
    var accent = cssColour("--accent", "#1f5fbf");
    var muted = cssColour("--muted", "#5b616b");
    var border = cssColour("--border", "#d8dbe0");
    var few = data.days.length < 3;
    var axis = { stroke: muted, grid: { stroke: border, width: 1 }, ticks: { stroke: border } };
    var series = [
      {},
      {
        label: "This period", stroke: accent, width: 2, fill: accent + "22",
        points: { show: few, size: 8 },
        value: function (u, v) { return formatValue(metric, v); },
      },
    ];
    if (data.previous) {
      series.push({
        label: "Previous period", stroke: muted, width: 1.5, dash: [6, 4],
        points: { show: few, size: 6 },
        value: function (u, v) { return formatValue(metric, v); },
      });
    }
    return {
      width: width,
      height: width < 500 ? 200 : 260,
      series: series,
      scales: {
        x: {
          time: true,
          range: function (u, min, max) {
            return min === max ? [min - 43200, max + 43200] : [min, max];
          },
        },
        y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } },
      },
      axes: [
        Object.assign({}, axis),
        Object.assign({}, axis, {
          size: 56,
          values: function (u, ticks) { return ticks.map(function (t) { return formatValue(metric, t); }); },
        }),
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
  }

  function chartData(data) {
    var xs = data.days.map(function (day) { return Date.parse(day + "T00:00:00Z") / 1000; });
    var rows = [xs, data.current[metric]];
    if (data.previous) {
      var before = data.previous[metric].slice(0, xs.length);
      while (before.length < xs.length) before.push(null);
      rows.push(before);
    }
    return rows;
  }

  function drawChart() {
    var box = document.getElementById("chart");
    if (!box || typeof uPlot === "undefined") return;
    var data = JSON.parse(box.dataset.chart);
    if (chart) chart.destroy();
    chart = new uPlot(chartOptions(data, box.clientWidth || 600), chartData(data), box);
    box.setAttribute("aria-label", "Daily " + (data.labels[metric] || metric).toLowerCase());
  }

  function setUpChart() {
    var box = document.getElementById("chart");
    if (!box) return;
    drawChart();
    each("[data-metric]", function (button) {
      button.addEventListener("click", function () {
        metric = button.dataset.metric;
        each("[data-metric]", function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
        drawChart();
      });
    });
    if (typeof ResizeObserver !== "undefined") {
      var width = box.clientWidth;
      new ResizeObserver(function () {
        if (chart && box.clientWidth !== width) {
          width = box.clientWidth;
          chart.setSize({ width: width, height: width < 500 ? 200 : 260 });
        }
      }).observe(box);
    }
  }

  function setUpRealtime() {
    var holder = document.querySelector("[data-realtime-url]");
    var figure = document.querySelector("[data-realtime]");
    if (!holder || !figure) return;
    setInterval(function () {
      fetch(holder.dataset.realtimeUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) { if (body) figure.textContent = String(body.visitors); })
        .catch(function () { /* keep the last figure; the next tick tries again */ });
    }, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawBars();
    setUpTabs();
    setUpControls();
    setUpChart();
    setUpRealtime();
  });
})();
