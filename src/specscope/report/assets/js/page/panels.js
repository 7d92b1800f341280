/* The acceptance panels and the explain panel (measured g-sweep, Leviathan prediction).
 *
 * Part of the page script: report/html.py joins the files of js/page/ in their fixed order
 * inside one function, after the math modules, so they share one scope.
 */

// ------------------------------------------------------------------------------------------
// Acceptance panel.

function renderAcceptance() {
  const view = currentView();
  const rows = view.acc;
  const table = $('acc-table');
  clear(table);
  const chart = $('acc-chart');
  if (!rows.length) {
    $('acc-empty').textContent = 'The store has no acceptance counters for ' +
      displayName(view.cmp.spec.label) + '.';
    chart.hidden = true;
    Plotly.purge(chart);
    return;
  }
  $('acc-empty').textContent = 'AL = 1 + accepted / verify steps (bonus token included); ' +
    'p_k = share of verify steps whose k-th draft token was accepted.';
  chart.hidden = false;
  const width = Math.max(0, ...rows.map((r) => r.per_position.length));
  const head = el('tr');
  for (const h of ['Engine', 'g', 'Points', 'AL', 'Rate r']) head.appendChild(el('th', h));
  for (let k = 1; k <= width; k += 1) head.appendChild(el('th', 'p' + k));
  const thead = el('thead');
  thead.appendChild(head);
  table.appendChild(thead);
  const tbody = el('tbody');
  for (const r of rows) {
    const tr = el('tr');
    tr.appendChild(el('td', r.engine, 'label'));
    tr.appendChild(el('td', r.draft_depth === null ? '?' : r.draft_depth));
    tr.appendChild(el('td', r.n_points));
    tr.appendChild(el('td', r.acceptance_length === null ? 'n/a' : fixed(r.acceptance_length, 2)));
    tr.appendChild(el('td', r.draft_acceptance_rate === null ? 'n/a' : fixed(r.draft_acceptance_rate, 3)));
    for (let k = 0; k < width; k += 1) {
      tr.appendChild(el('td', k < r.per_position.length ? fixed(r.per_position[k], 3) : ''));
    }
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  const engines = unique(rows.map((r) => r.engine));
  const traces = [];
  engines.forEach((engine, e) => {
    const mine = rows.filter((r) => r.engine === engine && r.draft_depth !== null && r.acceptance_length !== null);
    traces.push({
      type: 'scatter', mode: 'lines+markers', name: 'AL · ' + escapeForPlotly(engine),
      x: mine.map((r) => r.draft_depth), y: mine.map((r) => r.acceptance_length),
      marker: { color: PALETTE.others[e % PALETTE.others.length], size: 9 }, xaxis: 'x', yaxis: 'y',
      hovertemplate: 'g %{x}: AL %{y:.2f}<extra>' + escapeForPlotly(engine) + '</extra>',
    });
  });
  rows.filter((r) => r.per_position.length).forEach((r, i) => {
    traces.push({
      type: 'bar', name: 'p_k · ' + escapeForPlotly(r.engine) + ' g=' + r.draft_depth,
      x: r.per_position.map((_, k) => k + 1), y: r.per_position, xaxis: 'x2', yaxis: 'y2',
      marker: { color: PALETTE.others[(i + engines.length) % PALETTE.others.length] },
      hovertemplate: 'position %{x}: %{y:.3f}<extra>' + escapeForPlotly(r.engine) + ' g=' + r.draft_depth + '</extra>',
    });
  });
  const layout = {
    margin: { l: 60, r: 20, t: 20, b: 50 },
    grid: { rows: 1, columns: 2, pattern: 'independent' },
    xaxis: { title: { text: 'Draft depth g' }, dtick: 1, domain: [0, 0.45] },
    yaxis: { title: { text: 'Acceptance length AL (tokens/step)' }, rangemode: 'tozero' },
    xaxis2: { title: { text: 'Draft position k' }, dtick: 1, domain: [0.55, 1] },
    yaxis2: { title: { text: 'Accepted share p_k' }, range: [0, 1], anchor: 'x2' },
    barmode: 'group',
    legend: { orientation: 'h', y: -0.25 },
  };
  Plotly.react(chart, traces, layout, { displaylogo: false, responsive: true });
}

function renderWorkloadAcceptance() {
  // The method's acceptance on every workload (Python's sums), this view's workload marked.
  const view = currentView();
  const cmp = view.cmp;
  const rows = cmp.acceptance_by_workload;
  const box = $('acc-workloads');
  const table = $('acc-workloads-table');
  clear(table);
  box.hidden = !rows.length;
  if (!rows.length) return;
  $('acc-workloads-note').textContent = 'Acceptance of ' + displayName(cmp.spec.spec_method) +
    ' on every workload measured for this model, hardware, precision and engine (every ' +
    'sequence summed; AL = 1 + accepted / verify steps, r = accepted / drafted).';
  const head = el('tr');
  for (const h of ['Engine', 'g', 'Workload', 'Points', 'Verify steps', 'Drafted', 'Accepted', 'AL', 'Rate r']) {
    const th = el('th', h);
    th.scope = 'col';
    head.appendChild(th);
  }
  const thead = el('thead');
  thead.appendChild(head);
  table.appendChild(thead);
  const count = (n) => (n === null ? 'n/a' : fixed(n, 0, true));
  const tbody = el('tbody');
  for (const r of rows) {
    const current = r.workload === cmp.workload;
    const tr = el('tr', null, current ? 'current' : '');
    tr.dataset.workload = r.workload;
    tr.appendChild(el('td', r.engine, 'label'));
    tr.appendChild(el('td', r.draft_depth === null ? '?' : r.draft_depth));
    tr.appendChild(el('td', workloadName(r.workload) + (current ? ' (this page)' : ''), 'label'));
    tr.appendChild(el('td', r.n_points));
    tr.appendChild(el('td', count(r.drafts)));
    tr.appendChild(el('td', count(r.draft_tokens)));
    tr.appendChild(el('td', count(r.accepted_tokens)));
    tr.appendChild(el('td', r.acceptance_length === null ? 'n/a' : fixed(r.acceptance_length, 2)));
    tr.appendChild(el('td', r.draft_acceptance_rate === null ? 'n/a' : fixed(r.draft_acceptance_rate, 3)));
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
}

// ------------------------------------------------------------------------------------------
// Explain panel.

function renderExplain() {
  const view = currentView();
  const rows = view.explain;
  const select = $('explain-conc');
  const chart = $('explain-chart');
  const table = $('explain-table');
  clear(table);
  if (!rows.length) {
    $('explain-empty').textContent = 'No measured g-sweep: the explain table needs spec points with ' +
      'a draft depth and acceptance counters, and Off points at the same engine and concurrency.';
    $('explain-conc-label').hidden = true;
    chart.hidden = true;
    Plotly.purge(chart);
    $('explain-best').textContent = '';
    return;
  }
  $('explain-empty').textContent = 'Measured speedup S = spec ÷ off tok/s/user at the same ' +
    'concurrency; c_eff = (AL ÷ S − 1) ÷ g; speculation pays while c_eff is below the break-even ' +
    'c* = (AL − 1) ÷ g.';
  $('explain-conc-label').hidden = false;
  chart.hidden = false;
  const keys = unique(rows.map((r) => r.engine + '|' + r.concurrency));
  const previous = select.value;
  clear(select);
  for (const key of keys) {
    const [engine, conc] = key.split('|');
    const option = el('option', engine + ' · ' + conc);
    option.value = key;
    select.appendChild(option);
  }
  select.value = keys.indexOf(previous) >= 0 ? previous : keys[0];
  const [engine, conc] = select.value.split('|');
  const mine = rows.filter((r) => r.engine === engine && String(r.concurrency) === conc);
  const head = el('tr');
  for (const h of ['g', 'AL', 'Spec tok/s/user', 'Off tok/s/user', 'Speedup S', 'c_eff', 'Break-even c*', 'Pays?']) {
    head.appendChild(el('th', h));
  }
  const thead = el('thead');
  thead.appendChild(head);
  table.appendChild(thead);
  const tbody = el('tbody');
  let best = mine[0];
  for (const r of mine) {
    if (r.speedup > best.speedup) best = r;
  }
  for (const r of mine) {
    const tr = el('tr');
    tr.appendChild(el('td', r.draft_depth + (r === best ? ' (best)' : '')));
    tr.appendChild(el('td', fixed(r.acceptance_length, 2)));
    tr.appendChild(el('td', fixed(r.spec_interactivity, 1)));
    tr.appendChild(el('td', fixed(r.off_interactivity, 1)));
    tr.appendChild(el('td', fixed(r.speedup, 2) + '×'));
    tr.appendChild(el('td', fixed(r.c_eff, 3)));
    tr.appendChild(el('td', fixed(r.c_break_even, 3)));
    tr.appendChild(el('td', beats(r.speedup, 1) ? 'yes' : isTie(r.speedup, 1) ? 'tie' : 'no'));
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  $('explain-best').textContent = 'Best measured g at ' + engine + ', concurrency ' + conc + ': g = ' +
    best.draft_depth + ' (S = ' + fixed(best.speedup, 2) + '×).';
  const traces = [
    {
      type: 'scatter', mode: 'lines+markers', name: 'measured c_eff', x: mine.map((r) => r.draft_depth),
      y: mine.map((r) => r.c_eff), marker: { color: PALETTE.spec, size: 9 }, line: { color: PALETTE.spec },
    },
    {
      type: 'scatter', mode: 'lines', name: 'break-even c* = (AL − 1)/g', x: mine.map((r) => r.draft_depth),
      y: mine.map((r) => r.c_break_even), line: { color: '#000000', dash: 'dash' },
    },
    {
      type: 'bar', name: 'speedup S', x: mine.map((r) => r.draft_depth), y: mine.map((r) => r.speedup),
      yaxis: 'y2', marker: { color: 'rgba(0,114,178,0.35)' },
    },
  ];
  const layout = {
    margin: { l: 60, r: 60, t: 20, b: 50 },
    xaxis: { title: { text: 'Draft depth g' }, dtick: 1 },
    yaxis: { title: { text: 'Cost ratio c (draft ÷ verify pass)' }, rangemode: 'tozero' },
    yaxis2: { title: { text: 'Speedup S (×)' }, overlaying: 'y', side: 'right', rangemode: 'tozero' },
    legend: { orientation: 'h', y: -0.25 },
  };
  Plotly.react(chart, traces, layout, { displaylogo: false, responsive: true });
}

function renderLeviathan() {
  const value = Number($('lev-value').value);
  const kind = $('lev-kind').value;
  const g = Math.round(Number($('lev-g').value));
  const c = Number($('lev-c').value);
  const out = $('lev-out');
  const problems = [];
  if (!(g >= 1 && g <= 64)) problems.push('g must be a whole number from 1 to 64');
  if (!(c >= 0)) problems.push('c must be ≥ 0');
  if (kind === 'a' && !(value >= 0 && value <= 1)) problems.push('a must lie in [0, 1]');
  if (kind === 'r' && !(value >= 0 && value <= 1)) problems.push('r must lie in [0, 1]');
  if (kind === 'al' && !(value >= 1 && value <= g + 1)) problems.push('AL must lie in [1, g + 1]');
  if (problems.length) {
    out.textContent = problems.join('; ') + '.';
    return;
  }
  const r = leviathan(value, kind, g, c);
  const change = r.s - 1;
  const verdict = isTie(r.s, 1) ? 'a tie' : fixed(Math.abs(change) * 100, 0) + ' % ' + (change > 0 ? 'faster' : 'slower');
  const given = kind === 'a' ? 'a = ' + fixed(value, 3) : (kind === 'r' ? 'r = ' + fixed(value, 3) : 'AL = ' + fixed(value, 2)) +
    ' → a = ' + fixed(r.a, 3);
  out.textContent = given + ': E = ' + fixed(r.e, 2) + ' tokens per step; S = E ÷ (1 + g·c) = ' + fixed(r.s, 2) +
    '× (' + verdict + '); break-even c* = ' + fixed(r.cStar, 3) + (c < r.cStar ? ' (c is below it: speculation pays)'
      : ' (c is at or above it: speculation does not pay)') + '; best g for this a and c = ' + r.bestG +
    ' (S = ' + fixed(r.bestS, 2) + '×' + (r.atLimit ? ', still rising at the search limit' : '') + ').';
}
