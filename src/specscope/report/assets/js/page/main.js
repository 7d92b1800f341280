/* The header, the wiring of the controls, and the start of the page.
 *
 * Part of the page script: report/html.py joins the files of js/page/ in their fixed order
 * inside one function, after the math modules, so they share one scope.
 */

// ------------------------------------------------------------------------------------------
// Wiring.

function renderHeader() {
  const view = currentView();
  const cmp = view.cmp;
  const title = cmp.model + ' on ' + cmp.hardware + ' ' + cmp.precision + ': ' + displayName(cmp.spec.label) +
    ' vs ' + displayName(cmp.off.label);
  $('title').textContent = title;
  const workload = cmp.workload ? ' · workload ' + cmp.workload : '';
  document.title = title + ' · ' + cmp.sequence + workload + ' · specscope';
  $('subtitle').textContent = 'Sequence ' + cmp.sequence + ' (ISL ' + cmp.isl + ', OSL ' + cmp.osl +
    ')' + (cmp.workload ? ', workload ' + cmp.workload : '') + '. ' + view.headline + '.';
  // The answers of the adaptive sweep that measured these points (Comparison.adaptive).
  const adaptive = $('adaptive');
  clear(adaptive);
  for (const line of cmp.adaptive || []) adaptive.appendChild(el('li', line));
  adaptive.hidden = !(cmp.adaptive || []).length;
  const crumbs = $('crumbs');
  clear(crumbs);
  if (DATA.pages.length > 1) {
    const a = el('a', 'All comparisons');
    a.href = 'index.html';
    crumbs.appendChild(a);
  }
  $('footer').textContent = 'Written by specscope. Numbers at the default targets come from ' +
    'specscope compare; edited targets and prices are recomputed in this page with the same ' +
    'arithmetic. This page works offline.';
}

function renderAll() {
  renderHeader();
  renderControls();
  renderEconControls();
  renderResults();
  renderAcceptance();
  renderWorkloadAcceptance();
  renderExplain();
}

function onControl(key) {
  return () => {
    const value = $('ctl-' + key).value;
    if (key === 'model' || key === 'hardware') {
      const view = currentView();
      let hardware = key === 'hardware' ? value : view.hardware;
      if (key === 'model') {
        const options = pagesList().filter((p) => p.model === value).map((p) => p.hardware);
        if (options.indexOf(hardware) < 0) hardware = options[0];
      }
      navigateTo(key === 'model' ? value : view.model, hardware);
      return;
    }
    const index = pickView(key, value);
    if (index >= 0) setView(index, true);
  };
}

function init() {
  for (const form of document.querySelectorAll('form')) {
    form.addEventListener('submit', (event) => event.preventDefault());
  }
  setView(state.view, false);
  readUrl();
  for (const key of ['model', 'hardware'].concat(CONTROL_KEYS)) {
    $('ctl-' + key).addEventListener('change', onControl(key));
  }
  $('ctl-metric').addEventListener('change', () => {
    state.metric = $('ctl-metric').value;
    renderResults();
  });
  $('ctl-preset').addEventListener('change', () => {
    const econ = presetEcon($('ctl-preset').value, currentView());
    if (econ) state.econ = econ;
    renderEconControls();
    renderResults();
  });
  for (const id of ['ctl-usd', 'ctl-kw']) {
    $(id).addEventListener('change', () => {
      const usd = Number($('ctl-usd').value);
      const kw = Number($('ctl-kw').value);
      if (!(usd > 0) || !(kw > 0)) {
        renderEconControls();
        return;
      }
      state.econ = customEcon(currentView(), usd, kw, state.econ.preset);
      renderEconControls();
      renderResults();
    });
  }
  $('add-target').addEventListener('click', () => {
    const band = currentView().cmp.band;
    state.targets.push(Math.round((band[0] + band[1]) / 2));
    renderResults();
  });
  $('reset-targets').addEventListener('click', () => {
    state.targets = currentView().cmp.targets.map((t) => t.requested);
    renderResults();
  });
  $('explain-conc').addEventListener('change', renderExplain);
  for (const id of ['lev-value', 'lev-kind', 'lev-g', 'lev-c']) {
    $(id).addEventListener('input', renderLeviathan);
    $(id).addEventListener('change', renderLeviathan);
  }
  window.addEventListener('hashchange', () => {
    readUrl();
    renderAll();
  });
  renderAll();
  renderLeviathan();
  document.body.dataset.ready = 'true';
}

// For tests and for readers who want the numbers: the pure functions of the math modules, and
// the views they are applied to.
specscope.views = VIEWS;

init();
