"""``python -m localtrace``: the same as the ``localtrace`` command (for a venv that is not
activated, where the script is not on PATH)."""

from .cli import main

main()
