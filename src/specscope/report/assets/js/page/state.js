/* The comparison page: its data, state and helpers, the link (URL fragment) and the prices.
 *
 * Reads the page data from the JSON element with id "data" (never as code), draws it with
 * Plotly, and recomputes what the user changes (targets, price, power) with the math modules
 * (window.specscope: the arithmetic of specscope.analysis.compare, the wording of
 * specscope.analysis.narrative). Every string that comes from data reaches the DOM through
 * textContent, or, for Plotly (which reads a few HTML-like tags in labels), after escaping &, <
 * and >.
 *
 * Part of the page script: report/html.py joins the files of js/page/ in their fixed order
 * inside one function, after the math modules, so they share one scope.
 */

const {
  beats, compareAt, curveValue, describeOpening, displayName, dynamicCaveats, fixed, fmtConcurrency,
  fmtFactor, fmtInteractivity, fmtUsd, interval, isTie, leviathan, pointUncertainty, prepareSide,
  prepareViews, reaches, sentenceCase, staticCaveats, tokSPerMw, usdPerMtok,
} = specscope;

// ------------------------------------------------------------------------------------------
// Page state.

const DATA = JSON.parse(document.getElementById('data').textContent);
const SERIES = DATA.series;
const VIEWS = prepareViews(DATA);

const PALETTE = {
  spec: '#D55E00', off: '#0072B2',
  others: ['#E69F00', '#56B4E9', '#009E73', '#CC79A7', '#000000', '#F0E442'],
};
const METRICS = {
  throughput: { axis: 'Throughput (tok/s/GPU)', short: 'tok/s/GPU' },
  cost: { axis: 'Cost ($/M tokens)', short: '$/M tokens' },
  power: { axis: 'tok/s/MW', short: 'tok/s/MW' },
};

const state = {
  view: DATA.default_view,
  metric: 'throughput',
  targets: [],
  econ: null,
};

function $(id) {
  return document.getElementById(id);
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function escapeForPlotly(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function currentView() {
  return VIEWS[state.view];
}

function defaultEcon(view) {
  return Object.assign({}, view.cmp.economics);
}

function sameEcon(a, b) {
  return a.usd_per_gpu_hour === b.usd_per_gpu_hour && a.kw_per_gpu === b.kw_per_gpu &&
    a.preset === b.preset && a.power_source === b.power_source &&
    a.overridden.join(',') === b.overridden.join(',');
}

function results() {
  // The comparison at each target: Python's where nothing changed, else recomputed here.
  const view = currentView();
  const pythonEcon = sameEcon(state.econ, view.cmp.economics);
  return state.targets.map((requested, i) => {
    const py = view.cmp.targets[i];
    if (pythonEcon && py && py.requested === requested) {
      return Object.assign({ source: 'python' }, py);
    }
    const t = compareAt(view, requested, state.econ);
    t.source = 'page';
    return t;
  });
}

// ------------------------------------------------------------------------------------------
// URL state: everything a shared link needs, in the fragment.

function writeUrl() {
  const view = currentView();
  const params = new URLSearchParams();
  params.set('model', view.model);
  params.set('hw', view.hardware);
  params.set('prec', view.precision);
  params.set('seq', view.sequence);
  if (view.workload) params.set('wl', view.workload);
  params.set('method', view.method);
  params.set('engine', view.engine);
  params.set('metric', state.metric);
  params.set('t', state.targets.map((t) => String(t)).join(','));
  if (!sameEcon(state.econ, view.cmp.economics)) {
    params.set('preset', state.econ.preset);
    params.set('usd', String(state.econ.usd_per_gpu_hour));
    params.set('kw', String(state.econ.kw_per_gpu));
  }
  const hash = '#' + params.toString();
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

function readUrl() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const wanted = {
    model: params.get('model'), hardware: params.get('hw'), precision: params.get('prec'),
    sequence: params.get('seq'), workload: params.get('wl'), method: params.get('method'),
    engine: params.get('engine'),
  };
  // A link without view keys keeps the page's own pair (views need not list it first).
  const asked = Object.keys(wanted).some((k) => wanted[k] !== null);
  const match = VIEWS.findIndex((v) => Object.keys(wanted).every((k) => wanted[k] === null || v[k] === wanted[k]));
  if (asked && match >= 0) state.view = match;
  const metric = params.get('metric');
  if (metric && Object.prototype.hasOwnProperty.call(METRICS, metric)) state.metric = metric;
  setView(state.view, false);
  const t = params.get('t');
  if (t) {
    const values = t.split(',').map(Number).filter((v) => Number.isFinite(v));
    if (values.length) state.targets = values;
  }
  const usd = Number(params.get('usd'));
  const kw = Number(params.get('kw'));
  if (params.get('preset') && usd > 0 && kw > 0) {
    const preset = params.get('preset');
    const fromPreset = presetEcon(preset, currentView());
    if (fromPreset && fromPreset.usd_per_gpu_hour === usd && fromPreset.kw_per_gpu === kw) {
      state.econ = fromPreset;
    } else {
      state.econ = customEcon(currentView(), usd, kw, params.get('preset'));
    }
  }
}

// ------------------------------------------------------------------------------------------
// Economics.

function presetEcon(name, view) {
  const hw = view.cmp.economics.hardware;
  if (name === view.cmp.economics.preset && view.cmp.economics.overridden.length === 0) {
    return defaultEcon(view);
  }
  const preset = DATA.presets.find((p) => p.name === name);
  if (!preset || !preset.hw[hw]) return null;
  return {
    preset: preset.name, hardware: hw, usd_per_gpu_hour: preset.hw[hw][0],
    kw_per_gpu: preset.hw[hw][1], source: preset.source, date: preset.date, overridden: [],
    power_source: 'preset', tier: preset.tier, note: preset.note,
  };
}

function customEcon(view, usd, kw, basePreset) {
  // Mirrors economics.resolve_economics: both values overridden → preset "custom".
  const base = presetEcon(basePreset, view) || state.econ || defaultEcon(view);
  const overridden = [];
  if (usd !== base.usd_per_gpu_hour) overridden.push('usd_per_gpu_hour');
  if (kw !== base.kw_per_gpu) overridden.push('kw_per_gpu');
  if (overridden.length === 2 || base.preset === 'custom') {
    return {
      preset: 'custom', hardware: base.hardware, usd_per_gpu_hour: usd, kw_per_gpu: kw,
      source: 'user override (--usd-per-gpu-hour, --kw-per-gpu)', date: 'n/a',
      overridden: ['usd_per_gpu_hour', 'kw_per_gpu'], power_source: 'override',
    };
  }
  return Object.assign({}, base, {
    usd_per_gpu_hour: usd, kw_per_gpu: kw, overridden: overridden,
    power_source: overridden.indexOf('kw_per_gpu') >= 0 ? 'override' : base.power_source,
  });
}

function renderEconControls() {
  const view = currentView();
  const select = $('ctl-preset');
  clear(select);
  const hw = view.cmp.economics.hardware;
  const names = [];
  const compared = view.cmp.economics;
  if (!DATA.presets.some((p) => p.name === compared.preset)) {
    names.push([compared.preset, compared.preset + ' (as compared)']);
  }
  for (const p of DATA.presets) {
    if (p.hw[hw]) names.push([p.name, p.name + ' — ' + p.tier]);
  }
  if (state.econ.preset === 'custom' && !names.some((n) => n[0] === 'custom')) {
    names.push(['custom', 'custom']);
  }
  for (const [value, text] of names) {
    const option = el('option', text);
    option.value = value;
    select.appendChild(option);
  }
  select.value = state.econ.preset;
  $('ctl-usd').value = String(state.econ.usd_per_gpu_hour);
  $('ctl-kw').value = String(state.econ.kw_per_gpu);
  const e = state.econ;
  const parts = [e.preset];
  if (e.tier) parts.push(e.tier);
  parts.push('dated ' + e.date);
  parts.push('source: ' + e.source);
  if (e.overridden.length) parts.push('overridden: ' + e.overridden.join(', '));
  if (e.note) parts.push(e.note);
  $('econ-source').textContent = parts.join(' · ');
}
