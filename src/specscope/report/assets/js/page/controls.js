/* The view controls: model, hardware, precision, sequence, workload, method, engine.
 *
 * Part of the page script: report/html.py joins the files of js/page/ in their fixed order
 * inside one function, after the math modules, so they share one scope.
 */

// ------------------------------------------------------------------------------------------
// Controls.

const CONTROL_KEYS = ['precision', 'sequence', 'workload', 'method', 'engine'];
const URL_KEYS = { precision: 'prec', sequence: 'seq', workload: 'wl', method: 'method', engine: 'engine' };

function workloadName(workload) {
  return workload || 'unnamed';
}

function sequenceOrder(a, b) {
  const va = VIEWS.find((v) => v.sequence === a) || {};
  const vb = VIEWS.find((v) => v.sequence === b) || {};
  return ((va.cmp ? va.cmp.isl : 0) - (vb.cmp ? vb.cmp.isl : 0)) ||
    ((va.cmp ? va.cmp.osl : 0) - (vb.cmp ? vb.cmp.osl : 0)) || (a < b ? -1 : a > b ? 1 : 0);
}

function fillSelect(select, values, current, label) {
  clear(select);
  for (const value of values) {
    const option = el('option', label ? label(value) : value);
    option.value = value;
    select.appendChild(option);
  }
  select.value = current;
  select.disabled = values.length < 2;
}

function unique(values) {
  return Array.from(new Set(values));
}

function pagesList() {
  // Every (model, hardware) this page can show in place or link to.
  const own = VIEWS.map((v) => ({ model: v.model, hardware: v.hardware }));
  return own.concat(DATA.pages.filter((p) => p.file));
}

function renderControls() {
  const view = currentView();
  const all = pagesList();
  fillSelect($('ctl-model'), unique(all.map((p) => p.model)).sort(), view.model);
  fillSelect($('ctl-hardware'), unique(all.filter((p) => p.model === view.model).map((p) => p.hardware)).sort(), view.hardware);
  let pool = VIEWS.filter((v) => v.model === view.model && v.hardware === view.hardware);
  for (const key of CONTROL_KEYS) {
    const values = unique(pool.map((v) => v[key]));
    values.sort(key === 'sequence' ? sequenceOrder : undefined);
    fillSelect($('ctl-' + key), values, view[key], key === 'workload' ? workloadName : undefined);
    pool = pool.filter((v) => v[key] === view[key]);
  }
  // Imports name no workload: the control appears only where some view has one.
  $('ctl-workload-label').hidden = VIEWS.every((v) => !v.workload);
  $('ctl-metric').value = state.metric;
}

function pickView(changedKey, value) {
  const view = currentView();
  const wanted = { model: view.model, hardware: view.hardware };
  for (const key of CONTROL_KEYS) wanted[key] = view[key];
  wanted[changedKey] = value;
  let pool = VIEWS.filter((v) => v.model === wanted.model && v.hardware === wanted.hardware);
  const order = ['model', 'hardware'].concat(CONTROL_KEYS);
  const fixedUpTo = order.indexOf(changedKey);
  for (let i = 2; i < order.length; i += 1) {
    const key = order[i];
    const exact = pool.filter((v) => v[key] === wanted[key]);
    if (exact.length) pool = exact;
    else if (i <= fixedUpTo) pool = [];
  }
  return pool.length ? VIEWS.indexOf(pool[0]) : -1;
}

function navigateTo(model, hardware) {
  // Another model or hardware: in place when this page holds it, else its own page.
  const view = currentView();
  const score = (p) => CONTROL_KEYS.reduce((acc, k) => acc + (p[k] === view[k] ? 1 : 0), 0);
  const local = VIEWS.filter((v) => v.model === model && v.hardware === hardware);
  if (local.length) {
    local.sort((a, b) => score(b) - score(a));
    setView(VIEWS.indexOf(local[0]), true);
    return;
  }
  const remote = DATA.pages.filter((p) => p.model === model && p.hardware === hardware && p.file);
  if (!remote.length) return;
  remote.sort((a, b) => score(b) - score(a));
  const target = remote[0];
  const params = new URLSearchParams();
  params.set('model', target.model);
  params.set('hw', target.hardware);
  for (const k of CONTROL_KEYS) {
    if (target[k]) params.set(URL_KEYS[k], target[k]);
  }
  params.set('metric', state.metric);
  location.href = target.file + '#' + params.toString();
}

function setView(index, render) {
  // Targets go back to the view's defaults; a price the user chose stays if the hardware does.
  const previous = state.econ ? VIEWS[state.view] : null;
  const next = VIEWS[index];
  const keepEcon = previous !== null && !sameEcon(state.econ, previous.cmp.economics) &&
    state.econ.hardware === next.cmp.economics.hardware;
  state.view = index;
  state.targets = next.cmp.targets.map((t) => t.requested);
  if (!keepEcon) state.econ = defaultEcon(next);
  if (render) renderAll();
}
