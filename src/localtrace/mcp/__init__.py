"""``localtrace mcp``: the trace file as tools for coding agents (Model Context Protocol).

Built on the official ``mcp`` SDK (``pip install "localtrace[mcp]"``). ``build_server(path)``
returns the FastMCP server; ``localtrace mcp`` runs it over stdio, or streamable HTTP on
loopback with ``--http``. See docs/mcp.md.
"""

from .server import build_server, serve

__all__ = ["build_server", "serve"]
