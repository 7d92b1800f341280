/* The tie rule of specscope.tie: two positive values tie when the larger is less than 1 %
 * above the smaller, on the unrounded values.
 */
(function (ns) {
  'use strict';

  function isTie(a, b) {
    // specscope.tie.is_tie: larger / smaller below 1.01, on the unrounded values.
    return Math.max(a, b) / Math.min(a, b) < 1.01;
  }

  function beats(a, b) {
    // specscope.tie.beats: a at least 1 % above b.
    return a / b >= 1.01;
  }

  Object.assign(ns, { isTie, beats });
})(globalThis.specscope = globalThis.specscope || {});
