/* The report page's math modules against Python's golden vectors (node --test).
 *
 * Run through tests/unit/test_report_js_math.py, which writes the vectors and names their file
 * in SPECSCOPE_GOLDEN; the file also lists the modules in the page's order (report/html.py).
 */
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');

const REL = 1e-9;

function revive(key, value) {
  // Python writes inf, -inf and nan as { nonfinite: 'inf' | '-inf' | 'nan' }.
  if (value !== null && typeof value === 'object' && Object.keys(value).length === 1 &&
      typeof value.nonfinite === 'string') {
    return { inf: Infinity, '-inf': -Infinity, nan: NaN }[value.nonfinite];
  }
  return value;
}

if (!process.env.SPECSCOPE_GOLDEN) {
  throw new Error('SPECSCOPE_GOLDEN is not set: run tests/unit/test_report_js_math.py, which ' +
    'writes the golden vectors');
}
const golden = JSON.parse(fs.readFileSync(process.env.SPECSCOPE_GOLDEN, 'utf8'), revive);
for (const path of golden.modules) require(path);
const S = globalThis.specscope;

function near(actual, expected, where, rel = REL) {
  // Deep equality, numbers to a relative tolerance (non-finite ones exactly).
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (!Number.isFinite(expected) || !Number.isFinite(actual)) {
      assert.ok(Object.is(actual, expected), `${where}: ${actual} != ${expected}`);
      return;
    }
    const scale = Math.max(Math.abs(actual), Math.abs(expected));
    assert.ok(Math.abs(actual - expected) <= rel * scale,
      `${where}: ${actual} != ${expected} (relative ${rel})`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: ${JSON.stringify(actual)} is not a list`);
    assert.equal(actual.length, expected.length, `${where}: length`);
    expected.forEach((e, i) => near(actual[i], e, `${where}[${i}]`, rel));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${where}: ${actual} is not an object`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${where}: keys`);
    for (const key of Object.keys(expected)) near(actual[key], expected[key], `${where}.${key}`, rel);
    return;
  }
  assert.equal(actual, expected, where);
}

test('t quantile at fractional degrees of freedom', () => {
  for (const [df, t] of golden.stats.t95) near(S.tCritical95(df), t, `tCritical95(${df})`);
  assert.equal(Math.round(S.tCritical95(1.925) * 100) / 100, 4.47);
});

test('log-ratio intervals', () => {
  for (const [args, ci] of golden.stats.log_ratio_ci) near(S.logRatioCi95(...args), ci, `logRatioCi95(${args})`);
});

test('fixed-interactivity uncertainty, its interval and interpolation', () => {
  const pair = (u) => [u.relSe, u.df];
  for (const [args, u] of golden.stats.fixed_uncertainty) {
    near(pair(S.fixedInteractivityUncertainty(...args)), u, `fixedInteractivityUncertainty(${args})`);
  }
  for (const [[relSe, df, value], ci] of golden.stats.intervals) {
    near(S.interval({ relSe: relSe, df: df }, value), ci, `interval(${relSe}, ${df}, ${value})`);
  }
  for (const [[a, b, w], u] of golden.stats.between) {
    const got = S.between({ relSe: a[0], df: a[1] }, { relSe: b[0], df: b[1] }, w);
    near(pair(got), u, `between(${a}, ${b}, ${w})`);
  }
});

test('Steffen monotone cubic: knots, slopes, values, brackets and elasticities', () => {
  for (const c of golden.curves) {
    const where = `curve ${JSON.stringify(c.x)}`;
    const curve = S.monotoneCubic(c.x, c.y);
    near(curve.x, c.knots_x, `${where} knots x`);
    near(curve.y, c.knots_y, `${where} knots y`);
    near(curve.m, c.slopes, `${where} slopes`);
    c.targets.forEach((target, i) => {
      near(S.curveValue(curve, target), c.values[i], `${where} at ${target}`);
      const hit = S.curveAt(curve, target);
      near({
        value: hit.value, x: hit.x, clamped: hit.clamped, clamped_below: hit.clampedBelow,
        clamped_above: hit.clampedAbove, at_knot: hit.atKnot,
      }, c.at[i], `${where} curveAt ${target}`);
      near(S.bracket(curve, target), c.brackets[i], `${where} bracket ${target}`);
    });
    c.elasticities.forEach((e, k) => near(S.elasticity(curve, k), e, `${where} elasticity ${k}`));
  }
});

test('Pareto frontier of the positive, finite points', () => {
  for (const f of golden.frontiers) assert.deepEqual(S.paretoFrontier(f.x, f.y), f.front);
});

test('the comparison at every target of the sample data, as compare gives it', () => {
  for (const c of golden.comparisons) {
    const views = S.prepareViews(c.data);
    const view = views[c.data.default_view];
    const cmp = view.cmp;
    assert.ok(cmp.targets.length >= 3, c.name);
    for (const t of cmp.targets) {
      near(S.compareAt(view, t.requested, cmp.economics), t, `${c.name} at ${t.requested}`);
    }
    // The series' frontiers are the ones Python embedded.
    for (const series of c.data.series) {
      assert.deepEqual(S.paretoFrontier(series.op.x, series.op.y), series.front, c.name);
    }
    // The caveats the page redraws for targets and prices are ones Python wrote.
    const written = new Set(cmp.caveats.map(S.sentenceCase));
    const redrawn = S.dynamicCaveats(cmp.targets, view, cmp.economics).map(S.sentenceCase);
    assert.deepEqual(redrawn.filter((text) => !written.has(text)), [], c.name);
    assert.equal(S.describeOpening(cmp, cmp.economics), c.opening, c.name);
  }
});

test('number formats equal Python format() and narrative', () => {
  const f = golden.formats;
  for (const [v, d, plain, grouped, general] of f.fixed) {
    assert.equal(S.fixed(v, d, false), plain, `fixed(${v}, ${d})`);
    assert.equal(S.fixed(v, d, true), grouped, `fixed(${v}, ${d}, grouped)`);
    assert.equal(S.general(v), general, `general(${v})`);
  }
  for (const [v, d, text] of f.half_up) assert.equal(S.halfUp(v, d), text, `halfUp(${v}, ${d})`);
  const single = [
    ['usd', S.fmtUsd], ['tok_s', S.fmtTokS], ['interactivity', S.fmtInteractivity],
    ['concurrency', S.fmtConcurrency], ['percent', S.fmtPercent], ['factor', S.fmtFactor],
    ['tie_factor', S.fmtTieFactor], ['display_name', S.displayName],
  ];
  for (const [key, fn] of single) {
    for (const [v, text] of f[key]) assert.equal(fn(v), text, `${key}(${v})`);
  }
  for (const [args, text] of f.ratio_wording) assert.equal(S.ratioWording(...args), text, `${args}`);
});

test('the tie rule', () => {
  for (const [a, b, tie, wins] of golden.ties) {
    assert.equal(S.isTie(a, b), tie, `isTie(${a}, ${b})`);
    assert.equal(S.beats(a, b), wins, `beats(${a}, ${b})`);
  }
});

test('Leviathan model: E(a, g), the best g and the prediction', () => {
  const t = golden.theory;
  for (const [a, g, e] of t.expected_tokens) near(S.expectedTokens(a, g), e, `E(${a}, ${g})`);
  for (const [a, c, [gamma, speedup, atLimit]] of t.best_gamma) {
    const best = S.bestGamma(a, c);
    assert.equal(best.gamma, gamma, `bestGamma(${a}, ${c})`);
    near(best.speedup, speedup, `bestGamma(${a}, ${c}) speedup`, 1e-12);
    assert.equal(best.atLimit, atLimit, `bestGamma(${a}, ${c}) at limit`);
  }
  for (const [args, expected] of t.leviathan) near(S.leviathan(...args), expected, `leviathan(${args})`);
});
