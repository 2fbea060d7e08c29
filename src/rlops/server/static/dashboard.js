// The dashboard's live parts: curves and logs that follow a running job, lists that refresh while something
// runs, the endpoint form and the tuning objective chart. Plain JavaScript over the REST API; charts by uPlot.
"use strict";
const rlops = (() => {
  const ACTIVE = ["InProgress", "Stopping"];
  const POLL_MS = 500;  // a point logged is drawn within about half a second of reaching the store
  const api = (path, options) => fetch(path, Object.assign({credentials: "same-origin"}, options));

  function chart(container, title, xLabel, series) {
    const element = document.createElement("div");
    element.className = "chart";
    element.dataset.metric = title;
    element.dataset.points = "0";
    container.appendChild(element);
    const width = Math.max(320, Math.min(560, container.clientWidth / 2 - 16));
    const plot = new uPlot({
      title, width, height: 220,
      scales: {x: {time: false}},
      legend: {show: series.length > 1},
      axes: [{label: xLabel}, {}],
      series: [{label: xLabel}].concat(series.map((label, i) => ({
        label, stroke: ["#1f77b4", "#d62728", "#2ca02c"][i % 3], width: 1.5,
        points: {show: false}}))),
    }, [[], ...series.map(() => [])], element);
    return {element, plot};
  }

  // A job's page: every metric drawn against seconds since the job started, the log tailed, the status kept.
  function jobPage(name) {
    const charts = document.getElementById("charts");
    const log = document.getElementById("log");
    const series = new Map();  // metric name -> {xs, ys, chart}
    let metricOffset = 0, logOffset = 0, start = null, ended = false;

    async function pollMetrics() {
      const answer = await api(`/api/jobs/${encodeURIComponent(name)}/metrics?offset=${metricOffset}`);
      if (!answer.ok) return;
      const data = await answer.json();
      metricOffset = data.offset;
      const touched = new Set();
      for (const point of data.points) {
        if (start === null) start = point.timestamp;
        let s = series.get(point.name);
        if (!s) {
          const empty = document.getElementById("no-metrics");
          if (empty) empty.remove();
          s = {xs: [], ys: [], chart: chart(charts, point.name, "seconds", [point.name])};
          series.set(point.name, s);
        }
        s.xs.push(point.timestamp - start);
        s.ys.push(point.value);
        touched.add(s);
      }
      for (const s of touched) {
        s.chart.plot.setData([s.xs, s.ys]);
        s.chart.element.dataset.points = String(s.xs.length);
      }
    }

    async function pollLog() {
      const answer = await api(`/api/jobs/${encodeURIComponent(name)}/log-tail?offset=${logOffset}`);
      if (!answer.ok) return true;
      const data = await answer.json();
      const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      if (data.offset < logOffset) log.textContent = "";  // the log started again
      log.textContent += data.text;
      logOffset = data.offset;
      if (atBottom) log.scrollTop = log.scrollHeight;
      const status = document.getElementById("job-status");
      status.textContent = data.status;
      status.className = `status ${data.status}`;
      document.getElementById("job-secondary").textContent = data.secondary_status;
      return !ACTIVE.includes(data.status) && data.text === "";
    }

    async function tick() {
      try {
        await pollMetrics();
        ended = await pollLog();
      } catch (error) {
        console.warn("rlops: poll failed", error);
      }
      if (!ended) setTimeout(tick, POLL_MS);
      else document.body.dataset.followed = "done";
    }
    tick();
  }

  // A list that reloads its rows every `ms` while any of them is running.
  function refreshWhileActive(selector, ms) {
    const active = () => [...document.querySelectorAll(`${selector} tbody tr[data-status]`)]
      .some(row => ACTIVE.includes(row.dataset.status));
    async function refresh() {
      try {
        const page = new DOMParser().parseFromString(await (await api(location.href)).text(), "text/html");
        const fresh = page.querySelector(`${selector} tbody`);
        if (fresh) document.querySelector(`${selector} tbody`).replaceWith(fresh);
      } catch (error) {
        console.warn("rlops: refresh failed", error);
      }
      setTimeout(refresh, active() ? ms : ms * 5);
    }
    setTimeout(refresh, ms);
  }

  // Each endpoint's form POSTs its observation through the server and shows the answer.
  function endpointForms() {
    for (const form of document.querySelectorAll("form.invoke")) {
      form.addEventListener("submit", async event => {
        event.preventDefault();
        const out = form.querySelector(".answer");
        out.textContent = "…";
        const answer = await api(`/api/endpoints/${encodeURIComponent(form.dataset.endpoint)}/call`, {
          method: "POST", headers: {"Content-Type": "application/json"},
          body: form.querySelector(".observation").value || "[]"});
        const text = await answer.text();
        let shown = text;
        try { shown = JSON.stringify(JSON.parse(text), null, 1); } catch (_) { /* not JSON: shown as it is */ }
        out.textContent = `${answer.status} ${shown}`;
        out.dataset.status = String(answer.status);
      });
    }
  }

  // A tuning job's objective against trial number, with the best so far.
  function objectiveChart(selector, curve, maximize, label) {
    const container = document.querySelector(selector);
    if (!curve.length) { container.innerHTML = '<p class="empty">No objective values yet.</p>'; return; }
    const xs = curve.map(p => p[0]), ys = curve.map(p => p[1]);
    const best = [];
    ys.forEach((y, i) => best.push(i === 0 ? y : (maximize ? Math.max(best[i - 1], y) : Math.min(best[i - 1], y))));
    const c = chart(container, label, "trial", [label, "best so far"]);
    c.plot.setData([xs, ys, best]);
    c.element.dataset.points = String(xs.length);
  }

  return {jobPage, refreshWhileActive, endpointForms, objectiveChart};
})();
