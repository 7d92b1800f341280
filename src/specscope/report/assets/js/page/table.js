/* The table at the targets, the narrative and the caveats.
 *
 * Part of the page script: report/html.py joins the files of js/page/ in their fixed order
 * inside one function, after the math modules, so they share one scope.
 */

// ------------------------------------------------------------------------------------------
// Table, narrative, caveats.

const ROWS = [
  { key: 'throughput', title: 'Throughput (tok/s/GPU)', field: 'throughput_per_gpu', ratio: 'throughput',
    fmt: (v) => fixed(v, 1, true) },
  { key: 'cost', title: 'Cost ($/M tokens)', field: 'usd_per_mtok', ratio: 'cost', fmt: fmtUsd },
  { key: 'power', title: 'tok/s/MW', field: 'tok_s_per_mw', ratio: 'power', fmt: (v) => fixed(v, 0, true) },
];

function numberCell(value, text, attrs) {
  const td = el('td', text);
  td.dataset.value = value === null || value === undefined ? '' : String(value);
  for (const key of Object.keys(attrs)) td.dataset[key] = attrs[key];
  return td;
}

function sideRow(label, color) {
  // A table row headed by one side's colour swatch and name.
  const tr = el('tr');
  const th = el('th');
  th.scope = 'row';
  const swatch = el('span', null, 'swatch');
  swatch.style.background = color;
  th.appendChild(swatch);
  th.appendChild(document.createTextNode(displayName(label)));
  tr.appendChild(th);
  return tr;
}

function renderTable(res) {
  const view = currentView();
  const cmp = view.cmp;
  const table = $('cmp-table');
  clear(table);
  const caption = el('caption', displayName(cmp.spec.label) + ' against ' + displayName(cmp.off.label) +
    ' at matched interactivity');
  table.appendChild(caption);
  if (!res.length) {
    const body = el('tbody');
    const tr = el('tr');
    const td = el('td', cmp.refusal || 'No target: add one to compare.', 'refusal');
    td.id = 'cmp-refusal';
    tr.appendChild(td);
    body.appendChild(tr);
    table.appendChild(body);
    return;
  }
  const thead = el('thead');
  const head = el('tr');
  head.appendChild(el('th', 'Target interactivity (tok/s/user)'));
  res.forEach((t, i) => {
    const th = el('th');
    th.scope = 'col';
    const input = el('input', null, 'target');
    input.type = 'number';
    input.step = 'any';
    input.min = String(cmp.band[0]);
    input.max = String(cmp.band[1]);
    input.value = String(state.targets[i]);
    input.id = 'target-' + i;
    input.setAttribute('aria-label', 'Target ' + (i + 1) + ' interactivity in tok/s/user');
    const outside = t.requested !== t.interactivity || Boolean(t.refusal);
    if (outside) {
      input.classList.add('out');
      input.setAttribute('aria-invalid', 'true');
    }
    input.addEventListener('change', () => {
      const value = Number(input.value);
      if (input.value.trim() === '' || !Number.isFinite(value)) {
        input.value = String(state.targets[i]);
        return;
      }
      state.targets[i] = value;
      renderResults();
      const again = $('target-' + i);
      if (again) again.focus();
    });
    th.appendChild(input);
    if (t.requested !== t.interactivity) {
      th.appendChild(el('span', 'outside the band ' + fmtInteractivity(cmp.band[0]) + '–' +
        fmtInteractivity(cmp.band[1]) + '; compared at ' + fmtInteractivity(t.interactivity), 'flag'));
    }
    for (const [side, label] of [['spec', cmp.spec.label], ['off', cmp.off.label]]) {
      if (!reaches(t[side])) {
        th.appendChild(el('span', displayName(label) + ' cannot reach it (its best is ' +
          fmtInteractivity(t[side].interactivity) + ')', 'flag'));
      } else if (t[side].clamped) {
        th.appendChild(el('span', displayName(label) + ' held at its frontier edge (' +
          fmtInteractivity(t[side].interactivity) + ')', 'flag'));
      }
    }
    head.appendChild(th);
  });
  thead.appendChild(head);
  table.appendChild(thead);
  const tbody = el('tbody');
  const sides = [['spec', cmp.spec.label, PALETTE.spec], ['off', cmp.off.label, PALETTE.off]];
  for (const row of ROWS) {
    const group = el('tr', null, 'group');
    const gth = el('th', row.title);
    gth.colSpan = res.length + 1;
    gth.scope = 'colgroup';
    group.appendChild(gth);
    tbody.appendChild(group);
    for (const [side, label, color] of sides) {
      const tr = sideRow(label, color);
      res.forEach((t, i) => {
        const ok = reaches(t[side]);
        const value = ok ? t[side][row.field] : null;
        const wins = t[row.ratio] !== null && t[row.ratio].winner === side;
        const td = numberCell(value, null, { metric: row.key, side: side, target: String(i) });
        td.appendChild(el('span', ok ? row.fmt(value) : 'cannot reach', 'num'));
        if (wins) {
          td.appendChild(el('span', ' ✓', 'mark'));
          td.classList.add('win');
          td.title = 'better';
        }
        if (ok && row.key === 'throughput' && t[side].throughput_ci) {
          const ci = t[side].throughput_ci;
          td.appendChild(el('span', '95 % CI ' + fixed(ci[0], 1, true) + '–' + fixed(ci[1], 1, true), 'ci'));
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    }
    const ratioRow = el('tr');
    const rth = el('th', 'Ratio');
    rth.scope = 'row';
    ratioRow.appendChild(rth);
    res.forEach((t, i) => {
      const r = t[row.ratio];
      if (r === null) {
        const td = numberCell(null, 'not compared: ' + t.refusal, { metric: row.key + '-ratio', target: String(i) });
        td.classList.add('ratio', 'refused');
        ratioRow.appendChild(td);
        return;
      }
      const who = r.winner === 'tie' ? displayName(cmp.spec.label) + ' vs ' + displayName(cmp.off.label)
        : displayName(r.winner === 'spec' ? cmp.spec.label : cmp.off.label);
      const td = numberCell(r.factor, who + ' ' + r.wording, { metric: row.key + '-ratio', target: String(i) });
      td.classList.add('ratio');
      if (r.factor_ci) {
        td.appendChild(el('span', '95 % CI ' + fmtFactor(r.factor_ci[0]) + '–' + fmtFactor(r.factor_ci[1]), 'ci'));
      } else if (r.factor_ci_note) {
        td.title = r.factor_ci_note;
      }
      ratioRow.appendChild(td);
    });
    tbody.appendChild(ratioRow);
  }
  const cgroup = el('tr', null, 'group');
  const cth = el('th', 'Concurrency (requests in flight; ~ = read off the curve)');
  cth.colSpan = res.length + 1;
  cgroup.appendChild(cth);
  tbody.appendChild(cgroup);
  for (const [side, label, color] of sides) {
    const tr = sideRow(label, color);
    res.forEach((t, i) => {
      const c = reaches(t[side]) ? t[side].concurrency : null;
      const text = !reaches(t[side]) ? 'cannot reach' : c === null ? 'n/a' : (t[side].concurrency_interpolated ? '~' : '') + fmtConcurrency(c);
      tr.appendChild(numberCell(c, text, { metric: 'concurrency', side: side, target: String(i) }));
    });
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
}

function renderNarrative(res) {
  const view = currentView();
  const box = $('narrative');
  clear(box);
  const opening = el('p', describeOpening(view.cmp, state.econ, res));
  if (view.cmp.refusal && !res.length) opening.className = 'refusal';
  box.appendChild(opening);
  res.forEach((t, i) => {
    const p = el('p', t.narrative);
    p.dataset.target = String(i);
    box.appendChild(p);
  });
}

function renderCaveats(res) {
  const view = currentView();
  const list = $('caveats');
  clear(list);
  const items = staticCaveats(view).concat(dynamicCaveats(res, view, state.econ));
  for (const text of Array.from(new Set(items.map(sentenceCase)))) {
    list.appendChild(el('li', text));
  }
  const cmp = view.cmp;
  const band = 'Band: ' + fmtInteractivity(cmp.band[0]) + '–' + fmtInteractivity(cmp.band[1]) +
    ' tok/s/user (' + (cmp.band_overlaps ? 'the overlap of both series\' measured interactivity'
      : 'the union: the two series do not overlap') + '). Curves: ' + displayName(cmp.spec.label) +
    ' holds ' + cmp.spec.engines.join(', ') + ' (' + cmp.spec.n_points + ' points, ' +
    cmp.spec.n_frontier + ' on the frontier' +
    (cmp.spec.draft_depths.length ? ', g = ' + cmp.spec.draft_depths.join(', ') : '') + '); ' +
    displayName(cmp.off.label) + ' holds ' + cmp.off.engines.join(', ') + ' (' + cmp.off.n_points +
    ' points, ' + cmp.off.n_frontier + ' on the frontier).';
  $('band').textContent = band;
  const host = $('host-note');
  const ringed = [view.spec, view.offs].some((id) => SERIES[id].op.hd.length > 0);
  host.textContent = !view.host ? '' : view.host + '.' +
    (ringed ? ' Ringed points in the chart (⚠ in their hover) had a disturbed window.' : '');
  host.hidden = !view.host;
}

function renderResults() {
  const res = results();
  renderTable(res);
  renderNarrative(res);
  renderCaveats(res);
  renderChart(res);
  writeUrl();
  window.specscopeState = { results: res, econ: state.econ, metric: state.metric, view: state.view };
}
