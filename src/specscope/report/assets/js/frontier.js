/* The Pareto frontier: a port of specscope.analysis.frontier.
 */
(function (ns) {
  'use strict';

  function paretoFrontier(xs, ys) {
    // Indices of the Pareto-optimal points (both higher-is-better), by x ascending, among the
    // points with positive, finite values (as compare's frontier is).
    const idx = [];
    for (let i = 0; i < xs.length; i += 1) {
      if (Number.isFinite(xs[i]) && Number.isFinite(ys[i]) && xs[i] > 0 && ys[i] > 0) idx.push(i);
    }
    idx.sort((a, b) => (xs[b] - xs[a]) || (ys[b] - ys[a]) || (a - b));
    const kept = [];
    let best = -Infinity;
    for (const i of idx) {
      if (ys[i] > best) kept.push(i);
      best = Math.max(best, ys[i]);
    }
    return kept.reverse();
  }

  Object.assign(ns, { paretoFrontier });
})(globalThis.specscope = globalThis.specscope || {});
