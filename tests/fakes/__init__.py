"""Fake servers for fault injection in tests (not engines; never used by specscope itself)."""
