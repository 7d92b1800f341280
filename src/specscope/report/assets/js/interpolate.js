/* The Steffen monotone cubic through a frontier's knots: a port of
 * specscope.analysis.interpolate (MonotoneCubic, curve_at, bracket, elasticity). A curve is
 * { x, y, m, xMin, xMax } (knots, knot slopes and range).
 */
(function (ns) {
  'use strict';

  function steffenSlopes(xs, ys) {
    const n = xs.length;
    if (n < 2) return new Array(n).fill(0);
    const h = [];
    const s = [];
    for (let i = 0; i < n - 1; i += 1) {
      h.push(xs[i + 1] - xs[i]);
      s.push((ys[i + 1] - ys[i]) / h[i]);
    }
    if (n === 2) return [s[0], s[0]];
    const m = new Array(n);
    for (let i = 1; i < n - 1; i += 1) {
      const h0 = h[i - 1];
      const h1 = h[i];
      const s0 = s[i - 1];
      const s1 = s[i];
      const p = (s0 * h1 + s1 * h0) / (h0 + h1);
      const sign0 = s0 < 0 ? -1.0 : 1.0;
      const sign1 = s1 < 0 ? -1.0 : 1.0;
      m[i] = (sign0 + sign1) * Math.min(Math.min(Math.abs(s0), Math.abs(s1)), 0.5 * Math.abs(p));
    }
    m[0] = (3.0 * s[0] - m[1]) / 2.0;
    m[n - 1] = (3.0 * s[n - 2] - m[n - 2]) / 2.0;
    return m;
  }

  function monotoneCubic(x, y) {
    // Knots sorted by x, duplicate x merged at the mean of their y (as MonotoneCubic does).
    const order = x.map((_, i) => i).sort((a, b) => (x[a] - x[b]) || (a - b));
    const xs = [];
    const ys = [];
    let i = 0;
    while (i < order.length) {
      let j = i;
      let sum = 0;
      while (j < order.length && x[order[j]] === x[order[i]]) {
        sum += y[order[j]];
        j += 1;
      }
      xs.push(x[order[i]]);
      ys.push(j - i === 1 ? y[order[i]] : sum / (j - i));
      i = j;
    }
    const m = steffenSlopes(xs, ys);
    return { x: xs, y: ys, m: m, xMin: xs[0], xMax: xs[xs.length - 1] };
  }

  function searchRight(xs, v) {
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function curveValue(curve, target) {
    const xs = curve.x;
    const ys = curve.y;
    const m = curve.m;
    const flat = Math.min(Math.max(target, xs[0]), xs[xs.length - 1]);
    if (xs.length === 1) return ys[0];
    const k = Math.min(Math.max(searchRight(xs, flat) - 1, 0), xs.length - 2);
    const h = xs[k + 1] - xs[k];
    const t = (flat - xs[k]) / h;
    const t2 = t * t;
    const t3 = t2 * t;
    const h00 = 2.0 * t3 - 3.0 * t2 + 1.0;
    const h10 = t3 - 2.0 * t2 + t;
    const h01 = -2.0 * t3 + 3.0 * t2;
    const h11 = t3 - t2;
    if (flat === xs[k]) return ys[k];
    if (flat === xs[k + 1]) return ys[k + 1];
    return h00 * ys[k] + h10 * h * m[k] + h01 * ys[k + 1] + h11 * h * m[k + 1];
  }

  function curveAt(curve, target) {
    const below = target < curve.xMin;
    const above = target > curve.xMax;
    const x = below ? curve.xMin : above ? curve.xMax : target;
    return {
      value: curveValue(curve, x), x: x, clamped: below || above, clampedBelow: below,
      clampedAbove: above, atKnot: curve.x.indexOf(x) >= 0,
    };
  }

  function bracket(curve, target) {
    const xs = curve.x;
    if (xs.length === 1) return [0, 0, 0.0];
    const xt = Math.min(Math.max(target, xs[0]), xs[xs.length - 1]);
    const k = Math.min(Math.max(searchRight(xs, xt) - 1, 0), xs.length - 2);
    return [k, k + 1, (xt - xs[k]) / (xs[k + 1] - xs[k])];
  }

  function elasticity(curve, k) {
    // analysis.interpolate.MonotoneCubic.elasticity: −slope·x/y at knot k, floored at 0.
    const y = curve.y[k];
    if (y <= 0.0) return 0.0;
    return Math.max(0.0, -curve.m[k] * curve.x[k] / y);
  }

  Object.assign(ns, { steffenSlopes, monotoneCubic, curveValue, curveAt, bracket, elasticity });
})(globalThis.specscope = globalThis.specscope || {});
