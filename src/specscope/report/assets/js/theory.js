/* The Leviathan model for the explain panel (SPEC.md section 3): a port of
 * specscope.theory.leviathan (E(a, g), best g) with the acceptance conversions of
 * specscope.theory.acceptance.
 */
(function (ns) {
  'use strict';

  function expectedTokens(a, g) {
    // theory.leviathan.expected_tokens (expm1/log1p near a = 1).
    if (a >= 1) return g + 1;
    if (a === 0) return 1;
    if (a <= 0.5) return (1 - a ** (g + 1)) / (1 - a);
    return -Math.expm1((g + 1) * Math.log1p(-(1 - a))) / (1 - a);
  }

  function alphaFromAl(al, g) {
    if (al <= 1) return 0;
    if (al >= g + 1) return 1;
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 200; i += 1) {
      const mid = (lo + hi) / 2;
      if (expectedTokens(mid, g) < al) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  }

  function leviathan(value, kind, g, c) {
    let al;
    if (kind === 'a') al = expectedTokens(value, g);
    else if (kind === 'r') al = 1 + g * value;
    else al = value;
    const a = kind === 'a' ? value : alphaFromAl(al, g);
    const e = expectedTokens(a, g);
    const s = e / (1 + g * c);
    const best = bestGamma(a, c);
    return { a: a, al: al, e: e, s: s, cStar: (e - 1) / g, bestG: best.gamma, bestS: best.speedup,
      atLimit: best.atLimit };
  }

  const DRAFT_DEPTH_SEARCH_LIMIT = 1000000;  // theory.leviathan.DRAFT_DEPTH_SEARCH_LIMIT

  function speedupRises(a, c, g) {
    // theory.leviathan._speedup_rises: S(g + 1) > S(g), decided in logs.
    if (a === 0) return false;
    if (c === 0) return true;
    return (g + 1) * Math.log(a) + Math.log1p(g * c) > Math.log(c) + Math.log(expectedTokens(a, g));
  }

  function bestGamma(a, c) {
    // theory.leviathan.best_draft_depth: S is unimodal in g, so bisect for its peak (no fixed cap
    // short of DRAFT_DEPTH_SEARCH_LIMIT), then for the smallest g within 1e-12 of the peak.
    const sAt = (k) => expectedTokens(a, k) / (1 + k * c);
    let peak = 1;
    if (speedupRises(a, c, 1)) {
      let low = 1;
      let high = DRAFT_DEPTH_SEARCH_LIMIT;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (speedupRises(a, c, middle)) low = middle;
        else high = middle;
      }
      peak = high;
    }
    const floor = sAt(peak) * (1 - 1e-12);
    let low = 0;
    let high = peak;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (sAt(middle) >= floor) high = middle;
      else low = middle;
    }
    return { gamma: high, speedup: sAt(high), atLimit: peak === DRAFT_DEPTH_SEARCH_LIMIT && speedupRises(a, c, peak) };
  }

  Object.assign(ns, { expectedTokens, alphaFromAl, leviathan, bestGamma });
})(globalThis.specscope = globalThis.specscope || {});
