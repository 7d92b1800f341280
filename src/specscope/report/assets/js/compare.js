/* The comparison at a matched interactivity: a port of specscope.analysis.compare (one side
 * read off its frontier, the ratios and their interval), on the page data of report/payload.py.
 */
(function (ns) {
  'use strict';

  const {
    bracket, curveAt, curveValue, elasticity, monotoneCubic, between, fixedInteractivityUncertainty,
    interval, logRatioCi95, isTie, describeTarget, displayName, ratioWording,
    unreachableSentence,
  } = ns;

  function usdPerMtok(tokS, usdPerGpuHour) {
    if (tokS <= 0) return Infinity;
    return usdPerGpuHour / (tokS * 3600.0) * 1e6;
  }

  function tokSPerMw(tokS, kwPerGpu) {
    return tokS * 1000.0 / kwPerGpu;
  }

  function makeRatio(kind, specValue, offValue) {
    const large = Math.max(specValue, offValue);
    const small = Math.min(specValue, offValue);
    const factor = small > 0 ? large / small : Infinity;
    const tie = small > 0 ? isTie(large, small) : false;
    let percent;
    let specWins;
    if (kind === 'cost') {
      percent = large > 0 ? (1.0 - small / large) * 100.0 : 0.0;
      specWins = specValue < offValue;
    } else {
      percent = (factor - 1.0) * 100.0;
      specWins = specValue > offValue;
    }
    const winner = tie ? 'tie' : specWins ? 'spec' : 'off';
    return { winner: winner, factor: factor, percent: percent, wording: ratioWording(kind, factor, percent, tie) };
  }

  function prepareSide(series) {
    // The frontier curve of one series, from the operating points the page holds.
    const op = series.op;
    const front = series.front;
    const x = front.map((i) => op.x[i]);
    const y = front.map((i) => op.y[i]);
    const c = front.map((i) => op.c[i]);
    const hasConc = c.every((v) => v !== null && Number.isFinite(v));
    return {
      series: series,
      front: front,
      throughput: monotoneCubic(x, y),
      concurrency: hasConc ? monotoneCubic(x, c) : null,
      hasRepeats: op.n.some((n) => n > 1),
    };
  }

  function prepareViews(data) {
    // The page data's views (report/payload.py), each given its two sides' curves.
    for (const s of data.series) {
      s.op.sd = s.op.sd || [];
      s.op.sdx = s.op.sdx || [];
      s.op.cxy = s.op.cxy || [];
    }
    for (const v of data.views) {
      v.sides = { spec: prepareSide(data.series[v.spec]), off: prepareSide(data.series[v.offs]) };
    }
    return data.views;
  }

  function pointUncertainty(series, i, eps) {
    // analysis.stats.OperatingPoints.uncertainty: operating point i's, null for one repeat.
    const op = series.op;
    const n = op.n[i];
    if (n < 2) return null;
    return fixedInteractivityUncertainty(n, op.y[i], op.sd[i], op.x[i], op.sdx[i], op.cxy[i],
      eps || 0.0);
  }

  function uncertainty(side, x, clamped) {
    // analysis.compare._uncertainty: a measured point's own, or linearly interpolated between
    // two; read at a fixed x each carries its interactivity noise (not when held, clamped).
    if (!side.hasRepeats) return null;
    const curve = side.throughput;
    const atKnot = (k) => pointUncertainty(side.series, side.front[k], clamped ? 0.0 : elasticity(curve, k));
    const [k0, k1, w] = bracket(curve, x);
    if (w <= 0.0 || w >= 1.0) return atKnot(w >= 1.0 ? k1 : k0);
    const u0 = atKnot(k0);
    const u1 = atKnot(k1);
    if (u0 === null || u1 === null) return null;
    return between(u0, u1, w);
  }

  function sideAt(side, target, econ) {
    const hit = curveAt(side.throughput, target);
    const tput = hit.value;
    const conc = side.concurrency === null ? null : curveValue(side.concurrency, hit.x);
    const unc = uncertainty(side, hit.x, hit.clamped);
    return [{
      interactivity: hit.x,
      throughput_per_gpu: tput,
      usd_per_mtok: usdPerMtok(tput, econ.usd_per_gpu_hour),
      tok_s_per_mw: tokSPerMw(tput, econ.kw_per_gpu),
      concurrency: conc,
      concurrency_interpolated: !hit.atKnot,
      clamped: hit.clamped,
      clamped_below: hit.clampedBelow,
      clamped_above: hit.clampedAbove,
      throughput_ci: unc === null ? null : interval(unc, tput),
      reaches: !hit.clampedAbove,
    }, unc];
  }

  function factorInterval(s, sUnc, o, oUnc, cmp) {
    // analysis.compare._factor_interval: [interval, note].
    if (sUnc === null || oUnc === null) {
      const single = [[cmp.spec.label, sUnc], [cmp.off.label, oUnc]]
        .filter(([, unc]) => unc === null).map(([label]) => displayName(label));
      return [null, 'no interval: ' + single.join(' and ') + ' ' + (single.length === 1 ? 'has' : 'have') +
        ' a single repeat at the measured point(s) it is read from (an interval needs at least 2 ' +
        'repeats on both sides)'];
    }
    const [lo, hi] = logRatioCi95(s.throughput_per_gpu, sUnc.relSe, sUnc.df,
      o.throughput_per_gpu, oUnc.relSe, oUnc.df);
    if (s.throughput_per_gpu >= o.throughput_per_gpu) return [[lo, hi], null];
    return [[1.0 / hi, 1.0 / lo], null];
  }

  function compareAt(view, requested, econ) {
    // One TargetComparison, as specscope.analysis.compare.compare builds it.
    const cmp = view.cmp;
    const band = cmp.band;
    // Below the band the target moves up to its low edge; above it a side cannot reach the
    // target and nothing is compared (no ratio, no winner), as in Python.
    const at = Math.max(requested, band[0]);
    const [s, sUnc] = sideAt(view.sides.spec, at, econ);
    const [o, oUnc] = sideAt(view.sides.off, at, econ);
    const refused = !(s.reaches && o.reaches);
    const [ci, note] = refused ? [null, null] : factorInterval(s, sUnc, o, oUnc, cmp);
    const ratio = (kind, specValue, offValue) => (refused ? null
      : Object.assign(makeRatio(kind, specValue, offValue), { factor_ci: ci, factor_ci_note: note }));
    const t = {
      interactivity: at,
      requested: requested,
      clamped: at !== requested || s.clamped || o.clamped,
      spec: s,
      off: o,
      cost: ratio('cost', s.usd_per_mtok, o.usd_per_mtok),
      throughput: ratio('throughput', s.throughput_per_gpu, o.throughput_per_gpu),
      power: ratio('power', s.tok_s_per_mw, o.tok_s_per_mw),
      narrative: '',
      refusal: refused ? unreachableSentence(at, s, o, cmp.spec.label, cmp.off.label) : null,
    };
    t.narrative = describeTarget(t, cmp.spec.label, cmp.off.label);
    return t;
  }

  Object.assign(ns, {
    usdPerMtok, tokSPerMw, makeRatio, prepareSide, prepareViews, pointUncertainty, compareAt,
  });
})(globalThis.specscope = globalThis.specscope || {});
