/* The frontier chart: every series of the view's slice, its curve, error bars and targets.
 *
 * Part of the page script: report/html.py joins the files of js/page/ in their fixed order
 * inside one function, after the math modules, so they share one scope.
 */

// ------------------------------------------------------------------------------------------
// Chart.

function metricValue(tput, econ) {
  if (state.metric === 'cost') return usdPerMtok(tput, econ.usd_per_gpu_hour);
  if (state.metric === 'power') return tokSPerMw(tput, econ.kw_per_gpu);
  return tput;
}

function fmtMetric(value) {
  if (state.metric === 'cost') return fmtUsd(value) + '/M tokens';
  if (state.metric === 'power') return fixed(value, 0, true) + ' tok/s/MW';
  return fixed(value, 1, true) + ' tok/s/GPU';
}

function chartSeries() {
  // Every series of the views that share this view's model, hardware, precision, sequence and
  // workload.
  const view = currentView();
  const ids = [];
  for (const v of VIEWS) {
    if (v.model === view.model && v.hardware === view.hardware && v.precision === view.precision &&
        v.sequence === view.sequence && v.workload === view.workload) {
      for (const id of [v.spec, v.offs]) {
        if (ids.indexOf(id) < 0) ids.push(id);
      }
    }
  }
  ids.sort((a, b) => {
    const rank = (id) => (id === view.spec ? 0 : id === view.offs ? 1 : 2);
    return rank(a) - rank(b) || a - b;
  });
  return ids;
}

function hoverText(series, i) {
  const op = series.op;
  const cfg = series.cfgs[op.cfg[i]];
  const lines = ['<b>' + escapeForPlotly(displayName(series.label)) + '</b>'];
  const parts = ['engine ' + escapeForPlotly(cfg.engine)];
  if (cfg.g !== null) parts.push('g ' + cfg.g);
  if (cfg.tp !== null) parts.push('tp ' + cfg.tp);
  if (cfg.ep !== null && cfg.ep > 1) parts.push('ep ' + cfg.ep);
  if (cfg.pp !== null && cfg.pp > 1) parts.push('pp ' + cfg.pp);
  parts.push(cfg.gpus + (cfg.gpus === 1 ? ' GPU' : ' GPUs') + (cfg.disagg ? ' (disaggregated)' : ''));
  lines.push(parts.join(' · '));
  lines.push('concurrency ' + (op.c[i] === null ? 'n/a' : fmtConcurrency(op.c[i])) +
    (op.al[i] === null ? '' : ' · acceptance length ' + fixed(op.al[i], 2)));
  lines.push(fixed(op.x[i], 1) + ' tok/s/user · ' + fmtMetric(metricValue(op.y[i], state.econ)));
  if (op.n[i] > 1) {
    const ci = interval(pointUncertainty(series, i), op.y[i]);
    lines.push('mean of ' + op.n[i] + ' repeats · 95 % CI ' + fixed(ci[0], 1, true) + '–' + fixed(ci[1], 1, true) + ' tok/s/GPU');
  }
  const disturbed = op.hd.length ? op.hd[i] : 0;
  const remeasured = op.hr.length ? op.hr[i] : 0;
  const of = (k) => (op.n[i] > 1 ? k + ' of ' + op.n[i] + ' repeats' : '');
  if (remeasured) {
    lines.push('↻ re-measured: other processes disturbed the first window' +
      (of(remeasured) ? ' (' + of(remeasured) + ')' : ''));
  }
  if (disturbed) {
    lines.push('⚠ measured while other processes were busy' +
      (of(disturbed) ? ' (' + of(disturbed) + ')' : ''));
  }
  if (series.front.indexOf(i) >= 0) lines.push('on the frontier');
  return lines.join('<br>');
}

function hostRing(series) {
  // Operating points with a disturbed window get a dark ring (see the host-load line).
  const op = series.op;
  if (!op.hd.length) return { width: 0 };
  return { width: op.hd.map((k) => (k > 0 ? 2 : 0)), color: '#222' };
}

function sampleCurve(curve) {
  const xs = [];
  const ys = [];
  if (curve.x.length === 1) return [curve.x.slice(), curve.y.slice()];
  for (let k = 0; k < curve.x.length - 1; k += 1) {
    const steps = 24;
    for (let j = 0; j < steps; j += 1) {
      const x = curve.x[k] + (curve.x[k + 1] - curve.x[k]) * j / steps;
      xs.push(x);
      ys.push(curveValue(curve, x));
    }
  }
  xs.push(curve.xMax);
  ys.push(curve.y[curve.y.length - 1]);
  return [xs, ys];
}

function errorBars(series) {
  const op = series.op;
  if (!op.n.some((n) => n > 1)) return null;
  const plus = [];
  const minus = [];
  for (let i = 0; i < op.x.length; i += 1) {
    const unc = pointUncertainty(series, i);
    if (unc === null) {
      plus.push(0);
      minus.push(0);
      continue;
    }
    const ci = interval(unc, op.y[i]);
    const y = metricValue(op.y[i], state.econ);
    const a = metricValue(Math.max(ci[0], 1e-9), state.econ);
    const b = metricValue(ci[1], state.econ);
    plus.push(Math.max(a, b) - y);
    minus.push(y - Math.min(a, b));
  }
  return { type: 'data', symmetric: false, array: plus, arrayminus: minus, thickness: 1, width: 3 };
}

function renderChart(res) {
  const view = currentView();
  const traces = [];
  let other = 0;
  for (const id of chartSeries()) {
    const series = SERIES[id];
    const current = id === view.spec || id === view.offs;
    let color;
    if (id === view.spec) color = PALETTE.spec;
    else if (id === view.offs) color = PALETTE.off;
    else {
      color = PALETTE.others[other % PALETTE.others.length];
      other += 1;
    }
    const name = escapeForPlotly(displayName(series.label));
    const group = 'series' + id;
    const op = series.op;
    const text = op.x.map((_, i) => hoverText(series, i));
    const points = {
      type: 'scatter', mode: 'markers', name: name, legendgroup: group,
      x: op.x, y: op.y.map((y) => metricValue(y, state.econ)), text: text,
      hovertemplate: '%{text}<extra></extra>',
      marker: {
        color: color, size: current ? 8 : 6, opacity: current ? 0.9 : 0.45,
        symbol: series.off ? 'circle' : 'diamond', line: hostRing(series),
      },
    };
    const bars = errorBars(series);
    if (bars) points.error_y = Object.assign(bars, { color: color });
    traces.push(points);
    const curve = (current ? view.sides[id === view.spec ? 'spec' : 'off'] : prepareSide(series)).throughput;
    const [cx, cy] = sampleCurve(curve);
    traces.push({
      type: 'scatter', mode: 'lines', name: name + ' frontier', legendgroup: group, showlegend: false,
      x: cx, y: cy.map((y) => metricValue(y, state.econ)), hoverinfo: 'skip',
      line: { color: color, width: current ? 3 : 1.5, dash: series.off ? 'dash' : 'solid' },
      opacity: current ? 1 : 0.6,
    });
  }
  const tx = [];
  const ty = [];
  const tcolor = [];
  const ttext = [];
  for (const t of res) {
    for (const [side, color, label] of [['spec', PALETTE.spec, view.cmp.spec.label], ['off', PALETTE.off, view.cmp.off.label]]) {
      const s = t[side];
      tx.push(s.interactivity);
      ty.push(metricValue(s.throughput_per_gpu, state.econ));
      tcolor.push(color);
      ttext.push('<b>' + escapeForPlotly(displayName(label)) + '</b> at target ' + fmtInteractivity(t.interactivity) +
        ' tok/s/user<br>' + fmtMetric(metricValue(s.throughput_per_gpu, state.econ)) +
        (!reaches(s) ? '<br>cannot reach this target: its fastest point, not compared'
          : s.clamped ? '<br>held at the frontier edge' : ''));
    }
  }
  traces.push({
    type: 'scatter', mode: 'markers', name: 'at the targets', x: tx, y: ty, text: ttext,
    hovertemplate: '%{text}<extra></extra>',
    marker: { symbol: 'x-thin-open', size: 16, color: tcolor, line: { width: 3, color: tcolor } },
  });
  const shapes = [{
    type: 'rect', xref: 'x', yref: 'paper', x0: view.cmp.band[0], x1: view.cmp.band[1], y0: 0, y1: 1,
    fillcolor: 'rgba(0,0,0,0.06)', line: { width: 0 }, layer: 'below',
  }];
  for (const t of res) {
    shapes.push({
      type: 'line', xref: 'x', yref: 'paper', x0: t.interactivity, x1: t.interactivity, y0: 0, y1: 1,
      line: { color: '#666', width: 1, dash: 'dot' },
    });
  }
  const layout = {
    margin: { l: 80, r: 20, t: 30, b: 60 },
    xaxis: { title: { text: 'Interactivity (tok/s/user)' }, zeroline: false },
    yaxis: { title: { text: METRICS[state.metric].axis }, zeroline: false, rangemode: 'tozero' },
    legend: { orientation: 'h', y: -0.18 },
    hovermode: 'closest',
    shapes: shapes,
    annotations: [{
      xref: 'x', yref: 'paper', x: (view.cmp.band[0] + view.cmp.band[1]) / 2, y: 1.0, yanchor: 'bottom',
      showarrow: false, text: 'band', font: { color: '#555', size: 11 },
    }],
    font: { family: 'system-ui, sans-serif' },
  };
  const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['select2d', 'lasso2d'] };
  Plotly.react($('chart'), traces, layout, config);
}
