// The help desk's Reports page: weekly trend charts with the vendored plotly.js (no CDN).
// Each chart is a <div data-chart="ID"> whose data is the JSON in <script id="ID">.
(function () {
  const palette = ["#2f6f62", "#e0a526", "#3b82c4", "#b3261e"];

  function draw() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      const source = document.getElementById(box.dataset.chart);
      if (!source || box.dataset.drawn) return;
      const data = JSON.parse(source.textContent);
      if (!data.x.length) { box.hidden = true; return; }
      const traces = data.traces.map(function (t, i) {
        return t.type === "bar"
          ? { name: t.name, x: data.x, y: t.y, type: "bar", marker: { color: palette[i] } }
          : { name: t.name, x: data.x, y: t.y, type: "scatter", mode: "lines+markers",
              connectgaps: false, line: { color: palette[i] } };
      });
      const layout = {
        autosize: true, height: 300, hovermode: "x unified",
        margin: { l: 48, r: 12, t: 12, b: 40 }, legend: { orientation: "h", y: -0.22 },
        font: { family: "system-ui, sans-serif", size: 12 },
        paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
        yaxis: { rangemode: "tozero", automargin: true, title: { text: data.unit || "" } },
        xaxis: { automargin: true, type: "date" },
      };
      window.Plotly.newPlot(box, traces, layout, { responsive: true, displayModeBar: false });
      box.dataset.drawn = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
