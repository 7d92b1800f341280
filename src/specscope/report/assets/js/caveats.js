/* The caveats that depend on the targets or the prices (as specscope.analysis.compare writes
 * them), redrawn when the page changes either, and the ones that do not (Python's, kept).
 */
(function (ns) {
  'use strict';

  const { displayName, reaches, fmtFactor, fmtInteractivity, general } = ns;

  function targetCaveats(t, cmp) {
    const out = [];
    const band = cmp.band;
    if (t.requested !== t.interactivity) {
      out.push('target ' + fmtInteractivity(t.requested) + ' tok/s/user lies outside the band ' +
        fmtInteractivity(band[0]) + '–' + fmtInteractivity(band[1]) + ' and was clamped to ' +
        fmtInteractivity(t.interactivity) + '.');
    }
    for (const [label, side] of [[cmp.spec.label, t.spec], [cmp.off.label, t.off]]) {
      if (side.clamped && reaches(side)) {  // one that cannot reach is said in the narrative
        const edge = side.clamped_above ? 'above' : 'below';
        out.push('at ' + fmtInteractivity(t.interactivity) + ' tok/s/user ' + displayName(label) +
          ' is ' + edge + ' its frontier and was held at its edge, ' +
          fmtInteractivity(side.interactivity) + ' tok/s/user (not extrapolated).');
      }
    }
    return out;
  }

  function ratioCiCaveat(t, cmp) {
    const ratio = t.spec.throughput_per_gpu / t.off.throughput_per_gpu;
    let [lo, hi] = t.throughput.factor_ci;
    if (t.spec.throughput_per_gpu < t.off.throughput_per_gpu) [lo, hi] = [1.0 / hi, 1.0 / lo];
    return 'at ' + fmtInteractivity(t.interactivity) + ' tok/s/user the throughput ratio ' +
      displayName(cmp.spec.label) + '/' + displayName(cmp.off.label) + ' is ' + fmtFactor(ratio) +
      ' (95 % CI ' + fmtFactor(lo) + '–' + fmtFactor(hi) +
      ' from repeats; the cost ratio is its inverse).';
  }

  function economicsCaveats(econ) {
    const out = [];
    if (econ.power_source === 'preset') {
      out.push('power efficiency (tok/s/MW) uses ' + general(econ.kw_per_gpu) +
        ' kW per GPU all-in from preset ' + econ.preset + ' (' + econ.date + '), not measured power.');
    } else if (econ.power_source === 'override') {
      out.push('power efficiency (tok/s/MW) uses ' + general(econ.kw_per_gpu) + ' kW per GPU as given.');
    } else {
      out.push('power efficiency (tok/s/MW) uses measured power: ' + general(econ.kw_per_gpu) +
        ' kW per GPU.');
    }
    if (econ.overridden.indexOf('usd_per_gpu_hour') >= 0) {
      out.push('cost uses $' + general(econ.usd_per_gpu_hour) + '/GPU-hour as given by the user.');
    } else {
      out.push('cost uses $' + general(econ.usd_per_gpu_hour) + '/GPU-hour from preset ' +
        econ.preset + ' (' + econ.date + ').');
    }
    return out;
  }

  function concurrencyCaveats(results, view) {
    const out = [];
    const anyInterpolated = results.some((t) => [t.spec, t.off].some(
      (a) => a.concurrency !== null && a.concurrency_interpolated));
    if (anyInterpolated) {
      out.push('concurrency between measured load levels is read off the frontier\'s curve: an ' +
        'estimate of the load needed, not a measured one.');
    }
    for (const side of [view.sides.spec, view.sides.off]) {
      if (side.concurrency === null) {
        out.push(displayName(side.series.label) + ': some frontier points have no recorded ' +
          'concurrency, so none is given.');
      }
    }
    return out;
  }

  function dynamicCaveats(results, view, econ) {
    const out = [];
    for (const t of results) {
      out.push(...targetCaveats(t, view.cmp));
      if (t.throughput && t.throughput.factor_ci) out.push(ratioCiCaveat(t, view.cmp));
    }
    out.push(...concurrencyCaveats(results, view));
    out.push(...economicsCaveats(econ));
    return out;
  }

  function staticCaveats(view) {
    // Python's caveats less the ones that depend on the targets or the prices (redrawn here).
    const generated = new Set(dynamicCaveats(view.cmp.targets, view, view.cmp.economics).map(sentenceCase));
    return view.cmp.caveats.filter((c) => !generated.has(sentenceCase(c)));
  }

  function sentenceCase(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  Object.assign(ns, { dynamicCaveats, staticCaveats, sentenceCase });
})(globalThis.specscope = globalThis.specscope || {});
