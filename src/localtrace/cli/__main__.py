"""``python -m localtrace.cli``: the same as the ``localtrace`` command."""

from .app import main

main()
