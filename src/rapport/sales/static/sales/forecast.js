// Draws the Forecast page's charts with the vendored plotly.js (no CDN). Each chart is a
// <div data-chart="ID"> whose data is the JSON in <script id="ID" type="application/json">;
// the revenue chart arrives later by htmx, so charts are drawn on load and after each swap.
(function () {
  const palette = ["#2f6f62", "#e0a526", "#8fb8ad", "#3b82c4", "#b3261e"];

  function layout(extra) {
    return Object.assign({
      autosize: true, height: 320, barmode: "group", hovermode: "x unified",
      margin: { l: 56, r: 12, t: 12, b: 40 },
      legend: { orientation: "h", y: -0.18 },
      font: { family: "system-ui, sans-serif", size: 12 },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      yaxis: { rangemode: "tozero", separatethousands: true, automargin: true },
      xaxis: { automargin: true },
    }, extra || {});
  }

  function bars(data) {
    return data.traces.map(function (t, i) {
      if (t.type === "goal") {
        return { name: t.name, x: data.x, y: t.y, type: "scatter", mode: "lines+markers",
                 line: { color: palette[4], dash: "dash", width: 2 }, connectgaps: false };
      }
      return { name: t.name, x: data.x, y: t.y, type: "bar", marker: { color: palette[i] } };
    });
  }

  function revenue(data) {
    const ahead = data.ahead;
    return [
      { name: "Orders", x: data.history.x, y: data.history.y, type: "scatter",
        mode: "lines+markers", line: { color: palette[0] } },
      { name: "80% low", x: ahead.x, y: ahead.lo, type: "scatter", mode: "lines",
        line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { name: "80% band", x: ahead.x, y: ahead.hi, type: "scatter", mode: "lines",
        line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(224,165,38,.25)" },
      { name: "Forecast", x: ahead.x, y: ahead.y, type: "scatter", mode: "lines+markers",
        line: { color: palette[1], dash: "dot" } },
    ];
  }

  function draw(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-chart]").forEach(function (box) {
      if (box.dataset.drawn) return;
      const source = document.getElementById(box.dataset.chart);
      if (!source) return;
      const data = JSON.parse(source.textContent);
      const traces = box.dataset.kind === "revenue" ? revenue(data) : bars(data);
      if (box.dataset.kind !== "revenue" && !data.x.length) { box.hidden = true; return; }
      window.Plotly.newPlot(box, traces, layout(), { responsive: true, displayModeBar: false });
      box.dataset.drawn = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
