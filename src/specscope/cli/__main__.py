"""``python -m specscope.cli``: the ``specscope`` command."""

from specscope.cli import main

main()
