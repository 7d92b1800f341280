/* Wording: a port of specscope.analysis.narrative (names for prose, ratio wording, one
 * paragraph per target and the opening paragraph).
 */
(function (ns) {
  'use strict';

  const {
    fmtConcurrency, fmtFactor, fmtInteractivity, fmtPercent, fmtTieFactor, fmtTokS, fmtUsd, general,
  } = ns;

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

  Object.assign(ns, {
    displayName, ratioWording, unreachableSentence, heldSentence, reaches, describeTarget,
    describeOpening,
  });
})(globalThis.specscope = globalThis.specscope || {});
