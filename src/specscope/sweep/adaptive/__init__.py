"""The adaptive sweep: decide the three answers of a sweep with a fraction of its points.

The recipe's grid (server config × workload × concurrency, up to ``max_repeats`` repeats) is the
candidate set. The decision core is pure: given the points measured so far
(:class:`~.model.Observation`), :func:`~.answers.answers` states

(a) the best spec config (draft depth g) at every concurrency of the grid,
(b) the concurrency where speculation stops paying (the first grid concurrency whose best spec
    config does not beat Off by the 1 % tie rule, at the same concurrency), and
(c) the spec/off throughput ratio (and its inverse, the $/M ratio) at target interactivities,
    along the two frontiers as ``compare`` builds them,

each with its 95 % interval and whether it is *decided*; :func:`~.propose.propose` picks the next
point where it most changes an answer that is still open, in this order:

1. a coarse ladder: Off and one spec config (the middle g of the first spec entry) at the
   lowest, middle and highest concurrency, two repeats each (this also measures the noise);
2. at every measured concurrency (an *anchor*), a hill climb over g per spec entry: walking
   from the best g either way, measure the first unmeasured g past every g not beaten with
   confidence; a g the best beats with confidence is dropped, and so are the g beyond it
   (S(g) is unimodal in the Leviathan model);
3. bracket and bisect the crossover: between the last anchor where spec pays and the first
   where it does not, measure the middle grid concurrency, until they are grid neighbours;
4. bisect between anchors whose best g differ, until they are grid neighbours (between two
   anchors with the same best g, that g is inferred);
5. add a repeat where an interval still straddles a decision on the best g (a contender's CI
   holds 1) or the crossover (an end's spec/off CI holds 1), the widest interval first;
6. refine a target's interpolation where its ratio is within 10 % of 1 and a side's bracketing
   points are not grid neighbours;
7. add a repeat where a target ratio's CI holds 1, the widest first.

A cell whose point failed (``left_out``) is never proposed again: the climb walks past it, a
crossover bisection that needs it is not made, and the answers rest on the other cells.

Assumptions (:func:`~.answers.assumptions` writes them into the decision log with the answers of
the run that rest on each): the spec/off ratio falls and the best g does not rise as concurrency
grows (one crossing, no comeback), as the roofline step model predicts; S(g) is
unimodal in g at a fixed concurrency; run-to-run noise is multiplicative and of one size across
points, so one pooled relative standard deviation (log scale, the degrees of freedom of all
repeated cells) serves cells measured once (a cell's own larger spread is used when it has one).
Every interval is a 95 % Student-t interval (``specscope.analysis.stats``); the tie rule is
``specscope.tie``. Intervals are recomputed at every look (no correction for repeated looks).

Where each part lives: ``model`` (the grid, observations, answers and their words), ``cells``
(cell statistics, pooled noise, comparisons), ``best_g`` (answer a), ``stop`` (answer b),
``targets`` (answer c and the default targets), ``answers`` (the three answers and the
assumptions they rest on), ``propose`` (the next point), ``run`` (against real servers through
the sweep runner), ``sim`` (against the step-model simulator).
"""
