/* specscope comparison page.
 *
 * Reads the page data from the JSON element with id "data" (never as code), draws
 * it with Plotly, and recomputes what the user changes (targets, price, power) with the same
 * arithmetic as specscope.analysis.compare and the same wording as specscope.analysis.narrative.
 * Every string that comes from data reaches the DOM through textContent, or, for Plotly (which
 * reads a few HTML-like tags in labels), after escaping &, < and >.
 */
(function () {
  'use strict';

  // ------------------------------------------------------------------------------------------
  // Number formatting identical to Python's format(): exact decimal expansion, half-even ties.

  function exactParts(ax) {
    // The exact decimal digits of a non-negative double, split at the point.
    if (ax >= 1e21) {
      return [BigInt(ax).toString(), ''];
    }
    const text = ax.toFixed(100);
    const dot = text.indexOf('.');
    return [text.slice(0, dot), text.slice(dot + 1)];
  }

  function increment(digits) {
    const out = digits.split('');
    let i = out.length - 1;
    while (i >= 0) {
      if (out[i] === '9') {
        out[i] = '0';
        i -= 1;
      } else {
        out[i] = String(Number(out[i]) + 1);
        return out.join('');
      }
    }
    return '1' + out.join('');
  }

  function roundsUp(kept, rest) {
    if (!rest || rest[0] < '5') return false;
    if (rest[0] > '5' || /[1-9]/.test(rest.slice(1))) return true;
    return Number(kept[kept.length - 1] || '0') % 2 === 1;
  }

  function shortestParts(ax) {
    // The digits of Python's repr() (= JavaScript's shortest round-trip form), split at the point.
    const text = String(ax);
    const at = text.indexOf('e');
    const mantissa = at < 0 ? text : text.slice(0, at);
    const exponent = at < 0 ? 0 : Number(text.slice(at + 1));
    const dot = mantissa.indexOf('.');
    let ip = dot < 0 ? mantissa : mantissa.slice(0, dot);
    let fp = dot < 0 ? '' : mantissa.slice(dot + 1);
    if (exponent > 0) {
      fp = fp.padEnd(exponent, '0');
      ip += fp.slice(0, exponent);
      fp = fp.slice(exponent);
    } else if (exponent < 0) {
      ip = ip.padStart(1 - exponent, '0');
      fp = ip.slice(ip.length + exponent) + fp;
      ip = ip.slice(0, ip.length + exponent);
    }
    return [ip, fp];
  }

  function halfUp(x, decimals) {
    // Python narrative._half_up: Decimal(repr(x)) quantized with ROUND_HALF_UP.
    if (!Number.isFinite(x)) return nonFinite(x);
    const negative = x < 0 || Object.is(x, -0);
    const [ip, fp] = shortestParts(Math.abs(x));
    let digits = ip + fp.slice(0, decimals).padEnd(decimals, '0');
    const rest = fp.slice(decimals);
    if (rest && rest[0] >= '5') digits = increment(digits);
    return (negative ? '-' : '') + placePoint(digits, decimals, false);
  }

  function placePoint(digits, decimals, grouped) {
    let intPart = digits.slice(0, digits.length - decimals).replace(/^0+(?=\d)/, '');
    if (intPart === '') intPart = '0';
    if (grouped) intPart = intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return intPart + (decimals > 0 ? '.' + digits.slice(digits.length - decimals) : '');
  }

  function nonFinite(x) {
    return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  }

  function fixed(x, decimals, grouped) {
    // Python f"{x:.{decimals}f}" (or f"{x:,.{decimals}f}" when grouped).
    if (!Number.isFinite(x)) return nonFinite(x);
    const negative = x < 0 || Object.is(x, -0);
    const [ip, fp] = exactParts(Math.abs(x));
    const kept = fp.slice(0, decimals).padEnd(decimals, '0');
    let digits = ip + kept;
    if (roundsUp(digits, fp.slice(decimals))) digits = increment(digits);
    return (negative ? '-' : '') + placePoint(digits, decimals, grouped);
  }

  function general(x) {
    // Python f"{x:g}" (six significant digits, trailing zeros dropped).
    const precision = 6;
    if (!Number.isFinite(x)) return nonFinite(x);
    if (x === 0) return Object.is(x, -0) ? '-0' : '0';
    const negative = x < 0;
    const [ip, fp] = exactParts(Math.abs(x));
    const all = ip + fp;
    const lead = all.search(/[1-9]/);
    let exponent = ip.length - 1 - lead;
    const significant = all.slice(lead);
    let kept = significant.slice(0, precision).padEnd(precision, '0');
    if (roundsUp(kept, significant.slice(precision))) {
      kept = increment(kept);
      if (kept.length > precision) {
        kept = kept.slice(0, precision);
        exponent += 1;
      }
    }
    let text;
    if (exponent >= -4 && exponent < precision) {
      let intPart;
      let frac;
      if (exponent >= 0) {
        intPart = kept.slice(0, exponent + 1);
        frac = kept.slice(exponent + 1);
      } else {
        intPart = '0';
        frac = '0'.repeat(-exponent - 1) + kept;
      }
      frac = frac.replace(/0+$/, '');
      text = frac ? intPart + '.' + frac : intPart;
    } else {
      const tail = kept.slice(1).replace(/0+$/, '');
      const sign = exponent < 0 ? '-' : '+';
      text = kept[0] + (tail ? '.' + tail : '') + 'e' + sign + String(Math.abs(exponent)).padStart(2, '0');
    }
    return (negative ? '-' : '') + text;
  }

  // ------------------------------------------------------------------------------------------
  // Wording: a port of specscope.analysis.narrative.

  const METHOD_NAMES = {
    off: 'Off', none: 'Off', mtp: 'MTP', eagle: 'EAGLE', eagle3: 'EAGLE-3', ngram: 'n-gram',
    draft_model: 'draft model', synthetic: 'synthetic acceptance',
  };

  function displayName(label) {
    const at = label.indexOf(' (');
    const method = at < 0 ? label : label.slice(0, at);
    const rest = at < 0 ? '' : label.slice(at);
    const name = Object.prototype.hasOwnProperty.call(METHOD_NAMES, method) ? METHOD_NAMES[method] : method;
    return name + rest;
  }

  function fmtUsd(usd) {
    if (!Number.isFinite(usd)) return 'n/a';
    if (usd >= 100) return '$' + fixed(usd, 0, true);
    if (usd >= 10) return '$' + fixed(usd, 1);
    if (usd >= 0.01 || usd === 0) return '$' + fixed(usd, 3);
    return '$' + fixed(usd, 2 - Math.floor(Math.log10(usd)));
  }

  function fmtTokS(tokS) {
    if (tokS >= 100) return fixed(tokS, 0, true);
    if (tokS >= 10) return fixed(tokS, 1);
    return fixed(tokS, 2);
  }

  function fmtInteractivity(x) {
    // narrative.fmt_interactivity: short values as given (139.99), long ones to 3 figures.
    if (!Number.isFinite(x)) return 'n/a';
    if (Number.isInteger(x)) return x === 0 ? '0' : fixed(x, 0, true);
    const [ip, fp] = shortestParts(Math.abs(x));
    if ((ip + fp).replace(/^0+/, '').length <= 6) return (x < 0 ? '-' : '') + placePoint(ip + fp, fp.length, true);
    if (Math.abs(x) >= 100) return fixed(x, 0, true);
    if (Math.abs(x) >= 10) return fixed(x, 1);
    return fixed(x, 2);
  }

  function fmtConcurrency(c) {
    const text = Number.isInteger(c) || c >= 10 ? halfUp(c, 0) : halfUp(c, 1);
    return text.replace(/^(-?\d+)/, (whole) => whole.replace(/\B(?=(\d{3})+(?!\d))/g, ','));
  }

  function fmtPercent(percent) {
    if (percent < 10) return halfUp(percent, 1) + ' %';
    const whole = halfUp(percent, 0);
    if (percent < 100 && 100 <= Number(whole)) {
      const one = halfUp(percent, 1);
      return Number(one) < 100 ? one + ' %' : '> 99.9 %';
    }
    return whole + ' %';
  }

  function fmtFactor(factor) {
    if (factor === null || !Number.isFinite(factor)) return '∞×';
    if (factor < 10) return halfUp(factor, 2) + '×';
    if (factor < 100) return halfUp(factor, 1) + '×';
    return halfUp(factor, 0) + '×';
  }

  function fmtTieFactor(factor) {
    // narrative.fmt_tie_factor: cut (not rounded) to 3 decimals.
    const [ip, fp] = shortestParts(factor);
    return ip + '.' + fp.slice(0, 3).padEnd(3, '0') + '×';
  }

  function ratioWording(kind, factor, percent, tie) {
    if (tie) {
      const shown = fmtTieFactor(factor);
      return {
        cost: 'costs the same to within 1 % (' + shown + ')',
        throughput: 'delivers the same tok/s/GPU to within 1 % (' + shown + ')',
        power: 'delivers the same tok/s/MW to within 1 % (' + shown + ')',
      }[kind];
    }
    if (kind === 'cost') return 'costs ' + fmtPercent(percent) + ' less (' + fmtFactor(factor) + ' cheaper)';
    const unit = kind === 'throughput' ? 'tok/s/GPU' : 'tok/s/MW';
    return 'delivers ' + fmtPercent(percent) + ' more ' + unit + ' (' + fmtFactor(factor) + ')';
  }

  function costSentence(t, specName, offName) {
    const specUsd = fmtUsd(t.spec.usd_per_mtok);
    const offUsd = fmtUsd(t.off.usd_per_mtok);
    if (t.cost.winner === 'tie') {
      return specName + ' and ' + offName + ' cost the same to within 1 % (' + specUsd + ' and ' +
        offUsd + ' per million tokens).';
    }
    const specWins = t.cost.winner === 'spec';
    const winner = specWins ? specName : offName;
    const loser = specWins ? offName : specName;
    const winUsd = specWins ? specUsd : offUsd;
    const loseUsd = specWins ? offUsd : specUsd;
    return winner + ' ' + t.cost.wording + ' than ' + loser + ': ' + winUsd + ' against ' + loseUsd +
      ' per million tokens.';
  }

  function throughputSentence(t, specName, offName) {
    const both = 'One GPU serves ' + fmtTokS(t.spec.throughput_per_gpu) + ' tok/s with ' + specName +
      ' and ' + fmtTokS(t.off.throughput_per_gpu) + ' tok/s with ' + offName;
    if (t.throughput.winner === 'tie') return both + ', the same to within 1 %.';
    const winner = t.throughput.winner === 'spec' ? specName : offName;
    return both + '; ' + winner + ' ' + t.throughput.wording + '.';
  }

  function load(name, side) {
    if (side.concurrency === null || side.concurrency === undefined) return name + ' not recorded';
    if (side.concurrency_interpolated) return name + ' about ' + fmtConcurrency(side.concurrency);
    return name + ' ' + fmtConcurrency(side.concurrency) + ' (measured)';
  }

  function concurrencySentence(t, specName, offName) {
    let sentence = 'Requests in flight needed to hold that pace: ' + load(specName, t.spec) + ', ' +
      load(offName, t.off);
    if ([t.spec, t.off].some((s) => s.concurrency !== null && s.concurrency_interpolated)) {
      sentence += " (the 'about' figures are estimates between measured load levels)";
    }
    return sentence + '.';
  }

  function clampSentence(t) {
    // A side held at its edge is said once, in heldSentence; this is only the moved target.
    if (t.requested === t.interactivity) return '';
    return 'Caution: ' + fmtInteractivity(t.requested) + ' tok/s/user was asked, outside the ' +
      'compared band, so the comparison is made at ' + fmtInteractivity(t.interactivity) + '.';
  }

  function prosePair(specLabel, offLabel) {
    // Names for prose; when both curves hold the same engines they are said once (third value).
    const specName = displayName(specLabel);
    const offName = displayName(offLabel);
    const split = (name) => {
      const at = name.indexOf(' (');
      return at < 0 ? [name, ''] : [name.slice(0, at), name.slice(at + 2)];
    };
    const [specMethod, specRest] = split(specName);
    const [offMethod, offRest] = split(offName);
    if (specRest && specRest === offRest) return [specMethod, offMethod, ' (' + specRest];
    return [specName, offName, ''];
  }

  function interactivityRange(range) {
    return fmtInteractivity(range[0]) + '–' + fmtInteractivity(range[1]);
  }

  function noOverlapSentence(specLabel, specRange, offLabel, offRange) {
    // Why a comparison without a shared interactivity makes no targets (narrative.no_overlap_sentence).
    return displayName(specLabel) + ' reaches ' + interactivityRange(specRange) + ' tok/s/user, ' +
      displayName(offLabel) + ' ' + interactivityRange(offRange) + ': they never run at the same ' +
      'interactivity, so there is nothing to compare at matched interactivity.';
  }

  function unreachableSentence(at, spec, off, specName, offName) {
    // Which side(s) cannot reach the target, and their best (narrative.unreachable_sentence).
    const parts = [];
    for (const [name, side] of [[specName, spec], [offName, off]]) {
      if (!side.reaches) {
        parts.push(displayName(name) + ' cannot reach ' + fmtInteractivity(at) + ' tok/s/user (its best is ' +
          fmtInteractivity(side.interactivity) + ')');
      }
    }
    return parts.join('; ') + ', so nothing is compared at this target.';
  }

  function heldSentence(name, side) {
    return name + ' runs faster than asked, so it is held at its slowest measured point (not ' +
      'extrapolated), ' + fmtInteractivity(side.interactivity) + ' tok/s/user, where it delivers ' + fmtTokS(side.throughput_per_gpu) + ' tok/s/GPU at ' +
      fmtUsd(side.usd_per_mtok) + ' per million tokens.';
  }

  function reaches(side) {
    return side.reaches !== false;
  }

  function describeTarget(t, specLabel, offLabel) {
    const [specName, offName, engines] = prosePair(specLabel, offLabel);
    const head = 'Target ' + fmtInteractivity(t.interactivity) + ' tok/s/user' + engines + '.';
    if (!t.cost || !t.throughput || !reaches(t.spec) || !reaches(t.off)) {
      return head + ' ' + unreachableSentence(t.interactivity, t.spec, t.off, specName, offName);
    }
    const held = [];
    for (const [name, side] of [[specName, t.spec], [offName, t.off]]) {
      if (side.clamped_below) held.push(heldSentence(name, side));
    }
    return [
      head,
      ...held,
      costSentence(t, specName, offName),
      throughputSentence(t, specName, offName),
      concurrencySentence(t, specName, offName),
      clampSentence(t),
    ].filter((s) => s).join(' ');
  }

  function describeOpening(cmp, econ, targets) {
    const specName = displayName(cmp.spec.label);
    const offName = displayName(cmp.off.label);
    // A comparison that made no targets says why (Python's describe_comparison); one whose user
    // added targets on the page opens as any other.
    const shown = targets === undefined ? cmp.targets : targets;
    if (cmp.refusal && !shown.length) {
      return specName + ' against ' + offName + ' for ' + cmp.model + ' on ' + cmp.hardware + ' (' +
        cmp.precision + ', ' + cmp.sequence + '). ' + cmp.refusal;
    }
    const band = fmtInteractivity(cmp.band[0]) + '–' + fmtInteractivity(cmp.band[1]) + ' tok/s/user';
    const cover = cmp.band_overlaps
      ? 'over the ' + band + ' range both curves cover'
      : 'over ' + band + ', although the two curves do not overlap in interactivity';
    return specName + ' against ' + offName + ' for ' + cmp.model + ' on ' + cmp.hardware + ' (' +
      cmp.precision + ', ' + cmp.sequence + '), matched at equal interactivity ' + cover +
      '. Prices: $' + general(econ.usd_per_gpu_hour) + '/GPU-hour and ' + general(econ.kw_per_gpu) +
      ' kW/GPU (' + econ.preset + ', ' + econ.date + ').';
  }

  // ------------------------------------------------------------------------------------------
  // Arithmetic: ports of analysis.frontier, analysis.interpolate, analysis.stats, analysis.compare.

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

  function usdPerMtok(tokS, usdPerGpuHour) {
    if (tokS <= 0) return Infinity;
    return usdPerGpuHour / (tokS * 3600.0) * 1e6;
  }

  function tokSPerMw(tokS, kwPerGpu) {
    return tokS * 1000.0 / kwPerGpu;
  }

  function isTie(a, b) {
    // specscope.tie.is_tie: larger / smaller below 1.01, on the unrounded values.
    return Math.max(a, b) / Math.min(a, b) < 1.01;
  }

  function beats(a, b) {
    // specscope.tie.beats: a at least 1 % above b.
    return a / b >= 1.01;
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

  function pointUncertainty(series, i, elasticity) {
    // analysis.stats.OperatingPoints.uncertainty → fixed_interactivity_uncertainty: with
    // elasticity ε = 0 sd/(mean·√n); else √((ry² + ε²·rx² + 2ε·rxy)/n); n − 1 df; null for
    // one repeat.
    const op = series.op;
    const n = op.n[i];
    if (n < 2) return null;
    const ry = op.sd[i] / op.y[i];
    const eps = elasticity || 0.0;
    if (eps === 0.0) return { relSe: ry / Math.sqrt(n), df: n - 1 };
    const rx = op.sdx[i] / op.x[i];
    const rxy = op.cxy[i] / (op.x[i] * op.y[i]);
    const variance = Math.max(ry * ry + eps * eps * rx * rx + 2.0 * eps * rxy, 0.0);
    return { relSe: Math.sqrt(variance / n), df: n - 1 };
  }

  function elasticity(curve, k) {
    // analysis.interpolate.MonotoneCubic.elasticity: −slope·x/y at knot k, floored at 0.
    const y = curve.y[k];
    if (y <= 0.0) return 0.0;
    return Math.max(0.0, -curve.m[k] * curve.x[k] / y);
  }

  function interval(unc, value) {
    // analysis.stats.Uncertainty.interval.
    const half = tCritical95(unc.df) * unc.relSe * value;
    return [Math.max(0, value - half), value + half];
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
    return { relSe: (1.0 - w) * u0.relSe + w * u1.relSe, df: (1.0 - w) * u0.df + w * u1.df };
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

  // ------------------------------------------------------------------------------------------
  // Leviathan model for the explain panel (SPEC.md section 3).

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

  const GAMMA_SEARCH_LIMIT = 1000000;  // theory.leviathan.GAMMA_SEARCH_LIMIT

  function speedupRises(a, c, g) {
    // theory.leviathan._speedup_rises: S(g + 1) > S(g), decided in logs.
    if (a === 0) return false;
    if (c === 0) return true;
    return (g + 1) * Math.log(a) + Math.log1p(g * c) > Math.log(c) + Math.log(expectedTokens(a, g));
  }

  function bestGamma(a, c) {
    // theory.leviathan.best_gamma: S is unimodal in g, so bisect for its peak (no fixed cap
    // short of GAMMA_SEARCH_LIMIT), then for the smallest g within 1e-12 of the peak.
    const sAt = (k) => expectedTokens(a, k) / (1 + k * c);
    let peak = 1;
    if (speedupRises(a, c, 1)) {
      let low = 1;
      let high = GAMMA_SEARCH_LIMIT;
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
    return { gamma: high, speedup: sAt(high), atLimit: peak === GAMMA_SEARCH_LIMIT && speedupRises(a, c, peak) };
  }

  // ------------------------------------------------------------------------------------------
  // Page state.

  const DATA = JSON.parse(document.getElementById('data').textContent);
  const SERIES = DATA.series;
  const VIEWS = DATA.views;
  for (const s of SERIES) {
    s.op.sd = s.op.sd || [];
    s.op.sdx = s.op.sdx || [];
    s.op.cxy = s.op.cxy || [];
  }
  for (const v of VIEWS) {
    v.sides = { spec: prepareSide(SERIES[v.spec]), off: prepareSide(SERIES[v.offs]) };
  }

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

  // ------------------------------------------------------------------------------------------
  // Chart.

  function metricValue(tput, econ) {
    if (state.metric === 'cost') return usdPerMtok(tput, econ.usd_per_gpu_hour);
    if (state.metric === 'power') return tokSPerMw(tput, econ.kw_per_gpu);
    return tput;
  }

  function fmtMetric(value) {
    if (state.metric === 'cost') return fmtUsd(value) + '/M tokens';
    if (state.metric === 'power') return fixed(value, 0, true) + ' tok/s/MW';
    return fixed(value, 1, true) + ' tok/s/GPU';
  }

  function chartSeries() {
    // Every series of the views that share this view's model, hardware, precision, sequence and
    // workload.
    const view = currentView();
    const ids = [];
    for (const v of VIEWS) {
      if (v.model === view.model && v.hardware === view.hardware && v.precision === view.precision &&
          v.sequence === view.sequence && v.workload === view.workload) {
        for (const id of [v.spec, v.offs]) {
          if (ids.indexOf(id) < 0) ids.push(id);
        }
      }
    }
    ids.sort((a, b) => {
      const rank = (id) => (id === view.spec ? 0 : id === view.offs ? 1 : 2);
      return rank(a) - rank(b) || a - b;
    });
    return ids;
  }

  function hoverText(series, i) {
    const op = series.op;
    const cfg = series.cfgs[op.cfg[i]];
    const lines = ['<b>' + escapeForPlotly(displayName(series.label)) + '</b>'];
    const parts = ['engine ' + escapeForPlotly(cfg.engine)];
    if (cfg.g !== null) parts.push('g ' + cfg.g);
    if (cfg.tp !== null) parts.push('tp ' + cfg.tp);
    if (cfg.ep !== null && cfg.ep > 1) parts.push('ep ' + cfg.ep);
    if (cfg.pp !== null && cfg.pp > 1) parts.push('pp ' + cfg.pp);
    parts.push(cfg.gpus + (cfg.gpus === 1 ? ' GPU' : ' GPUs') + (cfg.disagg ? ' (disaggregated)' : ''));
    lines.push(parts.join(' · '));
    lines.push('concurrency ' + (op.c[i] === null ? 'n/a' : fmtConcurrency(op.c[i])) +
      (op.al[i] === null ? '' : ' · acceptance length ' + fixed(op.al[i], 2)));
    lines.push(fixed(op.x[i], 1) + ' tok/s/user · ' + fmtMetric(metricValue(op.y[i], state.econ)));
    if (op.n[i] > 1) {
      const ci = interval(pointUncertainty(series, i), op.y[i]);
      lines.push('mean of ' + op.n[i] + ' repeats · 95 % CI ' + fixed(ci[0], 1, true) + '–' + fixed(ci[1], 1, true) + ' tok/s/GPU');
    }
    const disturbed = op.hd.length ? op.hd[i] : 0;
    const remeasured = op.hr.length ? op.hr[i] : 0;
    const of = (k) => (op.n[i] > 1 ? k + ' of ' + op.n[i] + ' repeats' : '');
    if (remeasured) {
      lines.push('↻ re-measured: other processes disturbed the first window' +
        (of(remeasured) ? ' (' + of(remeasured) + ')' : ''));
    }
    if (disturbed) {
      lines.push('⚠ measured while other processes were busy' +
        (of(disturbed) ? ' (' + of(disturbed) + ')' : ''));
    }
    if (series.front.indexOf(i) >= 0) lines.push('on the frontier');
    return lines.join('<br>');
  }

  function hostRing(series) {
    // Operating points with a disturbed window get a dark ring (see the host-load line).
    const op = series.op;
    if (!op.hd.length) return { width: 0 };
    return { width: op.hd.map((k) => (k > 0 ? 2 : 0)), color: '#222' };
  }

  function sampleCurve(curve) {
    const xs = [];
    const ys = [];
    if (curve.x.length === 1) return [curve.x.slice(), curve.y.slice()];
    for (let k = 0; k < curve.x.length - 1; k += 1) {
      const steps = 24;
      for (let j = 0; j < steps; j += 1) {
        const x = curve.x[k] + (curve.x[k + 1] - curve.x[k]) * j / steps;
        xs.push(x);
        ys.push(curveValue(curve, x));
      }
    }
    xs.push(curve.xMax);
    ys.push(curve.y[curve.y.length - 1]);
    return [xs, ys];
  }

  function errorBars(series) {
    const op = series.op;
    if (!op.n.some((n) => n > 1)) return null;
    const plus = [];
    const minus = [];
    for (let i = 0; i < op.x.length; i += 1) {
      const unc = pointUncertainty(series, i);
      if (unc === null) {
        plus.push(0);
        minus.push(0);
        continue;
      }
      const ci = interval(unc, op.y[i]);
      const y = metricValue(op.y[i], state.econ);
      const a = metricValue(Math.max(ci[0], 1e-9), state.econ);
      const b = metricValue(ci[1], state.econ);
      plus.push(Math.max(a, b) - y);
      minus.push(y - Math.min(a, b));
    }
    return { type: 'data', symmetric: false, array: plus, arrayminus: minus, thickness: 1, width: 3 };
  }

  function renderChart(res) {
    const view = currentView();
    const traces = [];
    let other = 0;
    for (const id of chartSeries()) {
      const series = SERIES[id];
      const current = id === view.spec || id === view.offs;
      let color;
      if (id === view.spec) color = PALETTE.spec;
      else if (id === view.offs) color = PALETTE.off;
      else {
        color = PALETTE.others[other % PALETTE.others.length];
        other += 1;
      }
      const name = escapeForPlotly(displayName(series.label));
      const group = 'series' + id;
      const op = series.op;
      const text = op.x.map((_, i) => hoverText(series, i));
      const points = {
        type: 'scatter', mode: 'markers', name: name, legendgroup: group,
        x: op.x, y: op.y.map((y) => metricValue(y, state.econ)), text: text,
        hovertemplate: '%{text}<extra></extra>',
        marker: {
          color: color, size: current ? 8 : 6, opacity: current ? 0.9 : 0.45,
          symbol: series.off ? 'circle' : 'diamond', line: hostRing(series),
        },
      };
      const bars = errorBars(series);
      if (bars) points.error_y = Object.assign(bars, { color: color });
      traces.push(points);
      const curve = (current ? view.sides[id === view.spec ? 'spec' : 'off'] : prepareSide(series)).throughput;
      const [cx, cy] = sampleCurve(curve);
      traces.push({
        type: 'scatter', mode: 'lines', name: name + ' frontier', legendgroup: group, showlegend: false,
        x: cx, y: cy.map((y) => metricValue(y, state.econ)), hoverinfo: 'skip',
        line: { color: color, width: current ? 3 : 1.5, dash: series.off ? 'dash' : 'solid' },
        opacity: current ? 1 : 0.6,
      });
    }
    const tx = [];
    const ty = [];
    const tcolor = [];
    const ttext = [];
    for (const t of res) {
      for (const [side, color, label] of [['spec', PALETTE.spec, view.cmp.spec.label], ['off', PALETTE.off, view.cmp.off.label]]) {
        const s = t[side];
        tx.push(s.interactivity);
        ty.push(metricValue(s.throughput_per_gpu, state.econ));
        tcolor.push(color);
        ttext.push('<b>' + escapeForPlotly(displayName(label)) + '</b> at target ' + fmtInteractivity(t.interactivity) +
          ' tok/s/user<br>' + fmtMetric(metricValue(s.throughput_per_gpu, state.econ)) +
          (!reaches(s) ? '<br>cannot reach this target: its fastest point, not compared'
            : s.clamped ? '<br>held at the frontier edge' : ''));
      }
    }
    traces.push({
      type: 'scatter', mode: 'markers', name: 'at the targets', x: tx, y: ty, text: ttext,
      hovertemplate: '%{text}<extra></extra>',
      marker: { symbol: 'x-thin-open', size: 16, color: tcolor, line: { width: 3, color: tcolor } },
    });
    const shapes = [{
      type: 'rect', xref: 'x', yref: 'paper', x0: view.cmp.band[0], x1: view.cmp.band[1], y0: 0, y1: 1,
      fillcolor: 'rgba(0,0,0,0.06)', line: { width: 0 }, layer: 'below',
    }];
    for (const t of res) {
      shapes.push({
        type: 'line', xref: 'x', yref: 'paper', x0: t.interactivity, x1: t.interactivity, y0: 0, y1: 1,
        line: { color: '#666', width: 1, dash: 'dot' },
      });
    }
    const layout = {
      margin: { l: 80, r: 20, t: 30, b: 60 },
      xaxis: { title: { text: 'Interactivity (tok/s/user)' }, zeroline: false },
      yaxis: { title: { text: METRICS[state.metric].axis }, zeroline: false, rangemode: 'tozero' },
      legend: { orientation: 'h', y: -0.18 },
      hovermode: 'closest',
      shapes: shapes,
      annotations: [{
        xref: 'x', yref: 'paper', x: (view.cmp.band[0] + view.cmp.band[1]) / 2, y: 1.0, yanchor: 'bottom',
        showarrow: false, text: 'band', font: { color: '#555', size: 11 },
      }],
      font: { family: 'system-ui, sans-serif' },
    };
    const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['select2d', 'lasso2d'] };
    Plotly.react($('chart'), traces, layout, config);
  }

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
        const tr = el('tr');
        const th = el('th');
        th.scope = 'row';
        const swatch = el('span', null, 'swatch');
        swatch.style.background = color;
        th.appendChild(swatch);
        th.appendChild(document.createTextNode(displayName(label)));
        tr.appendChild(th);
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
      const tr = el('tr');
      const th = el('th');
      th.scope = 'row';
      const swatch = el('span', null, 'swatch');
      swatch.style.background = color;
      th.appendChild(swatch);
      th.appendChild(document.createTextNode(displayName(label)));
      tr.appendChild(th);
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

  function staticCaveats(view) {
    // Python's caveats less the ones that depend on the targets or the prices (redrawn here).
    const generated = new Set(dynamicCaveats(view.cmp.targets, view, view.cmp.economics).map(sentenceCase));
    return view.cmp.caveats.filter((c) => !generated.has(sentenceCase(c)));
  }

  function sentenceCase(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
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

  // ------------------------------------------------------------------------------------------
  // Acceptance panel.

  function renderAcceptance() {
    const view = currentView();
    const rows = view.acc;
    const table = $('acc-table');
    clear(table);
    const chart = $('acc-chart');
    if (!rows.length) {
      $('acc-empty').textContent = 'The store has no acceptance counters for ' +
        displayName(view.cmp.spec.label) + '.';
      chart.hidden = true;
      Plotly.purge(chart);
      return;
    }
    $('acc-empty').textContent = 'AL = 1 + accepted / verify steps (bonus token included); ' +
      'p_k = share of verify steps whose k-th draft token was accepted.';
    chart.hidden = false;
    const width = Math.max(0, ...rows.map((r) => r.per_position.length));
    const head = el('tr');
    for (const h of ['Engine', 'g', 'Points', 'AL', 'Rate r']) head.appendChild(el('th', h));
    for (let k = 1; k <= width; k += 1) head.appendChild(el('th', 'p' + k));
    const thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    const tbody = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      tr.appendChild(el('td', r.engine, 'label'));
      tr.appendChild(el('td', r.draft_depth === null ? '?' : r.draft_depth));
      tr.appendChild(el('td', r.n_points));
      tr.appendChild(el('td', r.acceptance_length === null ? 'n/a' : fixed(r.acceptance_length, 2)));
      tr.appendChild(el('td', r.draft_acceptance_rate === null ? 'n/a' : fixed(r.draft_acceptance_rate, 3)));
      for (let k = 0; k < width; k += 1) {
        tr.appendChild(el('td', k < r.per_position.length ? fixed(r.per_position[k], 3) : ''));
      }
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);
    const engines = unique(rows.map((r) => r.engine));
    const traces = [];
    engines.forEach((engine, e) => {
      const mine = rows.filter((r) => r.engine === engine && r.draft_depth !== null && r.acceptance_length !== null);
      traces.push({
        type: 'scatter', mode: 'lines+markers', name: 'AL · ' + escapeForPlotly(engine),
        x: mine.map((r) => r.draft_depth), y: mine.map((r) => r.acceptance_length),
        marker: { color: PALETTE.others[e % PALETTE.others.length], size: 9 }, xaxis: 'x', yaxis: 'y',
        hovertemplate: 'g %{x}: AL %{y:.2f}<extra>' + escapeForPlotly(engine) + '</extra>',
      });
    });
    rows.filter((r) => r.per_position.length).forEach((r, i) => {
      traces.push({
        type: 'bar', name: 'p_k · ' + escapeForPlotly(r.engine) + ' g=' + r.draft_depth,
        x: r.per_position.map((_, k) => k + 1), y: r.per_position, xaxis: 'x2', yaxis: 'y2',
        marker: { color: PALETTE.others[(i + engines.length) % PALETTE.others.length] },
        hovertemplate: 'position %{x}: %{y:.3f}<extra>' + escapeForPlotly(r.engine) + ' g=' + r.draft_depth + '</extra>',
      });
    });
    const layout = {
      margin: { l: 60, r: 20, t: 20, b: 50 },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { title: { text: 'Draft depth g' }, dtick: 1, domain: [0, 0.45] },
      yaxis: { title: { text: 'Acceptance length AL (tokens/step)' }, rangemode: 'tozero' },
      xaxis2: { title: { text: 'Draft position k' }, dtick: 1, domain: [0.55, 1] },
      yaxis2: { title: { text: 'Accepted share p_k' }, range: [0, 1], anchor: 'x2' },
      barmode: 'group',
      legend: { orientation: 'h', y: -0.25 },
    };
    Plotly.react(chart, traces, layout, { displaylogo: false, responsive: true });
  }

  function renderWorkloadAcceptance() {
    // The method's acceptance on every workload (Python's sums), this view's workload marked.
    const view = currentView();
    const cmp = view.cmp;
    const rows = cmp.acceptance_by_workload;
    const box = $('acc-workloads');
    const table = $('acc-workloads-table');
    clear(table);
    box.hidden = !rows.length;
    if (!rows.length) return;
    $('acc-workloads-note').textContent = 'Acceptance of ' + displayName(cmp.spec.spec_method) +
      ' on every workload measured for this model, hardware, precision and engine (every ' +
      'sequence summed; AL = 1 + accepted / verify steps, r = accepted / drafted).';
    const head = el('tr');
    for (const h of ['Engine', 'g', 'Workload', 'Points', 'Verify steps', 'Drafted', 'Accepted', 'AL', 'Rate r']) {
      const th = el('th', h);
      th.scope = 'col';
      head.appendChild(th);
    }
    const thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    const count = (n) => (n === null ? 'n/a' : fixed(n, 0, true));
    const tbody = el('tbody');
    for (const r of rows) {
      const current = r.workload === cmp.workload;
      const tr = el('tr', null, current ? 'current' : '');
      tr.dataset.workload = r.workload;
      tr.appendChild(el('td', r.engine, 'label'));
      tr.appendChild(el('td', r.draft_depth === null ? '?' : r.draft_depth));
      tr.appendChild(el('td', workloadName(r.workload) + (current ? ' (this page)' : ''), 'label'));
      tr.appendChild(el('td', r.n_points));
      tr.appendChild(el('td', count(r.drafts)));
      tr.appendChild(el('td', count(r.draft_tokens)));
      tr.appendChild(el('td', count(r.accepted_tokens)));
      tr.appendChild(el('td', r.acceptance_length === null ? 'n/a' : fixed(r.acceptance_length, 2)));
      tr.appendChild(el('td', r.draft_acceptance_rate === null ? 'n/a' : fixed(r.draft_acceptance_rate, 3)));
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);
  }

  // ------------------------------------------------------------------------------------------
  // Explain panel.

  function renderExplain() {
    const view = currentView();
    const rows = view.explain;
    const select = $('explain-conc');
    const chart = $('explain-chart');
    const table = $('explain-table');
    clear(table);
    if (!rows.length) {
      $('explain-empty').textContent = 'No measured g-sweep: the explain table needs spec points with ' +
        'a draft depth and acceptance counters, and Off points at the same engine and concurrency.';
      $('explain-conc-label').hidden = true;
      chart.hidden = true;
      Plotly.purge(chart);
      $('explain-best').textContent = '';
      return;
    }
    $('explain-empty').textContent = 'Measured speedup S = spec ÷ off tok/s/user at the same ' +
      'concurrency; c_eff = (AL ÷ S − 1) ÷ g; speculation pays while c_eff is below the break-even ' +
      'c* = (AL − 1) ÷ g.';
    $('explain-conc-label').hidden = false;
    chart.hidden = false;
    const keys = unique(rows.map((r) => r.engine + '|' + r.concurrency));
    const previous = select.value;
    clear(select);
    for (const key of keys) {
      const [engine, conc] = key.split('|');
      const option = el('option', engine + ' · ' + conc);
      option.value = key;
      select.appendChild(option);
    }
    select.value = keys.indexOf(previous) >= 0 ? previous : keys[0];
    const [engine, conc] = select.value.split('|');
    const mine = rows.filter((r) => r.engine === engine && String(r.concurrency) === conc);
    const head = el('tr');
    for (const h of ['g', 'AL', 'Spec tok/s/user', 'Off tok/s/user', 'Speedup S', 'c_eff', 'Break-even c*', 'Pays?']) {
      head.appendChild(el('th', h));
    }
    const thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    const tbody = el('tbody');
    let best = mine[0];
    for (const r of mine) {
      if (r.speedup > best.speedup) best = r;
    }
    for (const r of mine) {
      const tr = el('tr');
      tr.appendChild(el('td', r.draft_depth + (r === best ? ' (best)' : '')));
      tr.appendChild(el('td', fixed(r.acceptance_length, 2)));
      tr.appendChild(el('td', fixed(r.spec_interactivity, 1)));
      tr.appendChild(el('td', fixed(r.off_interactivity, 1)));
      tr.appendChild(el('td', fixed(r.speedup, 2) + '×'));
      tr.appendChild(el('td', fixed(r.c_eff, 3)));
      tr.appendChild(el('td', fixed(r.c_break_even, 3)));
      tr.appendChild(el('td', beats(r.speedup, 1) ? 'yes' : isTie(r.speedup, 1) ? 'tie' : 'no'));
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);
    $('explain-best').textContent = 'Best measured g at ' + engine + ', concurrency ' + conc + ': g = ' +
      best.draft_depth + ' (S = ' + fixed(best.speedup, 2) + '×).';
    const traces = [
      {
        type: 'scatter', mode: 'lines+markers', name: 'measured c_eff', x: mine.map((r) => r.draft_depth),
        y: mine.map((r) => r.c_eff), marker: { color: PALETTE.spec, size: 9 }, line: { color: PALETTE.spec },
      },
      {
        type: 'scatter', mode: 'lines', name: 'break-even c* = (AL − 1)/g', x: mine.map((r) => r.draft_depth),
        y: mine.map((r) => r.c_break_even), line: { color: '#000000', dash: 'dash' },
      },
      {
        type: 'bar', name: 'speedup S', x: mine.map((r) => r.draft_depth), y: mine.map((r) => r.speedup),
        yaxis: 'y2', marker: { color: 'rgba(0,114,178,0.35)' },
      },
    ];
    const layout = {
      margin: { l: 60, r: 60, t: 20, b: 50 },
      xaxis: { title: { text: 'Draft depth g' }, dtick: 1 },
      yaxis: { title: { text: 'Cost ratio c (draft ÷ verify pass)' }, rangemode: 'tozero' },
      yaxis2: { title: { text: 'Speedup S (×)' }, overlaying: 'y', side: 'right', rangemode: 'tozero' },
      legend: { orientation: 'h', y: -0.25 },
    };
    Plotly.react(chart, traces, layout, { displaylogo: false, responsive: true });
  }

  function renderLeviathan() {
    const value = Number($('lev-value').value);
    const kind = $('lev-kind').value;
    const g = Math.round(Number($('lev-g').value));
    const c = Number($('lev-c').value);
    const out = $('lev-out');
    const problems = [];
    if (!(g >= 1 && g <= 64)) problems.push('g must be a whole number from 1 to 64');
    if (!(c >= 0)) problems.push('c must be ≥ 0');
    if (kind === 'a' && !(value >= 0 && value <= 1)) problems.push('a must lie in [0, 1]');
    if (kind === 'r' && !(value >= 0 && value <= 1)) problems.push('r must lie in [0, 1]');
    if (kind === 'al' && !(value >= 1 && value <= g + 1)) problems.push('AL must lie in [1, g + 1]');
    if (problems.length) {
      out.textContent = problems.join('; ') + '.';
      return;
    }
    const r = leviathan(value, kind, g, c);
    const change = r.s - 1;
    const verdict = isTie(r.s, 1) ? 'a tie' : fixed(Math.abs(change) * 100, 0) + ' % ' + (change > 0 ? 'faster' : 'slower');
    const given = kind === 'a' ? 'a = ' + fixed(value, 3) : (kind === 'r' ? 'r = ' + fixed(value, 3) : 'AL = ' + fixed(value, 2)) +
      ' → a = ' + fixed(r.a, 3);
    out.textContent = given + ': E = ' + fixed(r.e, 2) + ' tokens per step; S = E ÷ (1 + g·c) = ' + fixed(r.s, 2) +
      '× (' + verdict + '); break-even c* = ' + fixed(r.cStar, 3) + (c < r.cStar ? ' (c is below it: speculation pays)'
        : ' (c is at or above it: speculation does not pay)') + '; best g for this a and c = ' + r.bestG +
      ' (S = ' + fixed(r.bestS, 2) + '×' + (r.atLimit ? ', still rising at the search limit' : '') + ').';
  }

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

  // For tests and for readers who want the numbers: pure functions only, no state.
  window.specscope = {
    compareAt: compareAt, describeTarget: describeTarget, describeOpening: describeOpening,
    paretoFrontier: paretoFrontier, monotoneCubic: monotoneCubic, curveAt: curveAt,
    fixed: fixed, general: general, fmtUsd: fmtUsd, fmtInteractivity: fmtInteractivity,
    fmtPercent: fmtPercent, fmtFactor: fmtFactor, fmtTieFactor: fmtTieFactor, halfUp: halfUp,
    fmtConcurrency: fmtConcurrency, leviathan: leviathan, views: VIEWS,
    tCritical95: tCritical95,
    dynamicCaveats: dynamicCaveats, staticCaveats: staticCaveats,
  };

  init();
})();
