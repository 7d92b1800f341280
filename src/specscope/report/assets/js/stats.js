/* Intervals: a port of specscope.analysis.stats (the 95 % t quantile at fractional degrees of
 * freedom, the log-ratio interval, the fixed-interactivity uncertainty and its interval).
 * An uncertainty is { relSe, df }, as Python's Uncertainty(rel_se, df).
 */
(function (ns) {
  'use strict';

  // t(0.975, ν) at any real ν ≥ 1: the same algorithm as specscope.analysis.stats.t_critical_95
  // (see its docstrings for the formulas), so that page and Python agree to 1e-9.
  const Z975 = 1.959963984540054;

  function tCritical95(df) {
    if (df === Infinity) return Z975;
    let t = Z975;
    for (let i = 0; i < 60; i += 1) {
      const [tail, density] = tTailAndDensity(t, df);
      const step = (tail - 0.025) / density;
      t += step;
      if (Math.abs(step) <= 1e-12 * t) break;
    }
    return t;
  }

  function tTailAndDensity(t, nu) {
    const a = 0.5 * nu;
    const s = nu + t * t;
    const x = nu / s;
    const y = t * t / s;
    const logBeta = 0.5 * Math.log(Math.PI) - logGammaHalfRatio(a);
    const logX = y < 0.5 ? Math.log1p(-y) : Math.log(x);
    const front = Math.exp(a * logX + 0.5 * Math.log(y) - logBeta);
    const tail = y > 0.05
      ? 0.5 * front * betaContinuedFraction(a, 0.5, x) / a
      : 0.5 - 0.5 * front * betaContinuedFraction(0.5, a, y) / 0.5;
    const logDensity = -0.5 * (nu + 1.0) * Math.log1p(t * t / nu) - 0.5 * Math.log(nu) - logBeta;
    return [tail, Math.exp(logDensity)];
  }

  function logGammaHalfRatio(z) {
    let shift = 0.0;
    while (z < 16.0) {
      shift -= Math.log1p(0.5 / z);
      z += 1.0;
    }
    return shift + z * Math.log1p(0.5 / z) + 0.5 * Math.log(z) - 0.5 +
      stirlingRemainder(z + 0.5) - stirlingRemainder(z);
  }

  function stirlingRemainder(w) {
    const w2 = w * w;
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * w2)) / w2) / w2) / w2) / w;
  }

  function betaContinuedFraction(a, b, x) {
    const guard = (v) => (Math.abs(v) >= 1e-300 ? v : 1e-300);
    let c = 1.0;
    let d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let result = d;
    for (let m = 1; m <= 300; m += 1) {
      const m2 = 2.0 * m;
      let factor = 1.0;
      for (const coefficient of [
        m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
        -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
      ]) {
        d = 1.0 / guard(1.0 + coefficient * d);
        c = guard(1.0 + coefficient / c);
        factor = c * d;
        result *= factor;
      }
      if (Math.abs(factor - 1.0) < 1e-16) break;
    }
    return result;
  }

  function logRatioCi95(a, relA, dfA, b, relB, dfB) {
    const ratio = a / b;
    const variance = relA ** 2 + relB ** 2;
    if (variance === 0) return [ratio, ratio];
    let denominator = 0.0;
    for (const [rel, df] of [[relA, dfA], [relB, dfB]]) {
      if (rel > 0) denominator += rel ** 4 / df;
    }
    const dfWelch = variance ** 2 / denominator;
    const spread = tCritical95(dfWelch) * Math.sqrt(variance);
    return [ratio * Math.exp(-spread), ratio * Math.exp(spread)];
  }

  function fixedInteractivityUncertainty(n, meanY, sdY, meanX, sdX, covXY, elasticity) {
    // analysis.stats.fixed_interactivity_uncertainty: with elasticity ε = 0 sd/(mean·√n);
    // else √((ry² + ε²·rx² + 2ε·rxy)/n); n − 1 df.
    const ry = sdY / meanY;
    if (elasticity === 0.0) return { relSe: ry / Math.sqrt(n), df: n - 1 };
    const rx = sdX / meanX;
    const rxy = covXY / (meanX * meanY);
    const variance = Math.max(ry * ry + elasticity * elasticity * rx * rx + 2.0 * elasticity * rxy, 0.0);
    return { relSe: Math.sqrt(variance / n), df: n - 1 };
  }

  function between(a, b, w) {
    // analysis.stats.Uncertainty.between: linear from a (w = 0) to b (w = 1).
    return { relSe: (1.0 - w) * a.relSe + w * b.relSe, df: (1.0 - w) * a.df + w * b.df };
  }

  function interval(unc, value) {
    // analysis.stats.Uncertainty.interval.
    const half = tCritical95(unc.df) * unc.relSe * value;
    return [Math.max(0, value - half), value + half];
  }

  Object.assign(ns, {
    tCritical95, logRatioCi95, fixedInteractivityUncertainty, between, interval,
  });
})(globalThis.specscope = globalThis.specscope || {});
