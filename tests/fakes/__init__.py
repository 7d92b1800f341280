"""Fake servers for fault injection in tests, and a throwaway engine plug-in (toy_engine); never
used by specscope itself."""
