"""Hardware and model catalogs: the shipped TOML files, user overlays, and the measured ``cpu``.

- :mod:`.load`: :func:`load_catalog` and the merged :class:`Catalog` (lookup by key or alias).
- :mod:`.entries`: one catalog table turned into a validated spec, every number sourced.
- :mod:`.probe`: the ``cpu`` entry, measured on this machine and cached.

The spec types (``HardwareSpec``, ``ModelSpec``) are in :mod:`specscope.predict.specs`.
"""

from specscope.catalog.load import Catalog, load_catalog, shipped_catalog_dir

__all__ = ["Catalog", "load_catalog", "shipped_catalog_dir"]
