"""The application layer: one module per command (compare, report, predict, sweep, bench, demo),
each a function that takes typed options (:mod:`specscope.app.options`) and returns a typed
result. The CLI parses flags into those options, calls the function and prints the result.

Nothing is imported here: the CLI loads only what the command it runs needs.
"""
