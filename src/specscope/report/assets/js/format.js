/* Number formatting for the report page, identical to Python's format() (exact decimal
 * expansion, half-even ties) and to the number formats of specscope.analysis.narrative
 * (fmt_usd, fmt_interactivity, fmt_percent, ...).
 *
 * Like every math module of the page, a plain script: it adds its functions to the namespace
 * globalThis.specscope (window.specscope in the page), and reads the ones it needs from there,
 * so html.py inlines the modules in dependency order and Node loads them with require() in
 * the same order (tests/js/math.test.js).
 */
(function (ns) {
  'use strict';

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

  Object.assign(ns, {
    fixed, general, halfUp, fmtUsd, fmtTokS, fmtInteractivity, fmtConcurrency, fmtPercent,
    fmtFactor, fmtTieFactor,
  });
})(globalThis.specscope = globalThis.specscope || {});
