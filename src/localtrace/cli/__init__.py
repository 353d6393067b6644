"""The ``localtrace`` command line: every command opens a Client and calls public methods.

``app`` holds the ``main`` group, the shared options and the core commands; each other module
here adds the commands of one area to ``main`` when it is imported below.
"""

from . import agents as _agents  # noqa: F401  (registers thread, mcp)
from . import evaluation as _evaluation  # noqa: F401  (registers datasets, experiments, compare)
from . import otel as _otel  # noqa: F401  (registers `localtrace db repair`)
from . import prices as _prices  # noqa: F401  (registers `localtrace prices`)
from . import sql  # noqa: F401  (registers `localtrace sql`)
from . import transfer as _transfer  # noqa: F401  (push, pull, merge, db prune/retention)
from . import ui as _ui  # noqa: F401  (registers `localtrace ui`)
from .app import main

__all__ = ["main"]
