"""Calibrated profiles at the edges: their TOML files, and fitting them to runs in the store.

- :mod:`.profiles`: save and load a :class:`~specscope.predict.profile.CalibratedProfile`.
- :mod:`.runs`: read a run's points from the store, fit them, save the profile.

The fit itself is pure and lives in :mod:`specscope.predict.calibrate`.
"""
