"""The Leviathan speculative-decoding model, acceptance conversions, and explanations.

- :mod:`specscope.theory.leviathan`: E(a, g), speedup, implied / break-even / effective cost ratio,
  best draft depth (pure).
- :mod:`specscope.theory.acceptance`: alpha ↔ rate ↔ AL at a depth, per-position acceptance (pure).
- :mod:`specscope.theory.explain`: the CLI entry points ``explain_measurement`` and
  ``explain_sweep``; their result models in :mod:`.explanation`, their sentences in
  :mod:`.explain_prose`, the sweep CSV reader in :mod:`.sweep_csv`.
"""
