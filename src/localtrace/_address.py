"""Agent addresses: where the langsmith SDK sends a run that names an agent and an environment
(``langsmith.agent_address(id, environment)``, ``LANGSMITH_AGENT_ID``) instead of a project.

On the wire an address is the text ``lrn:agents/{id}/environments/{environment}`` (the SDK's
``address`` field, with no ``session_name``); LangSmith files such runs under the agent's
environment. Locally that is a project named by the address itself: the runs of one agent
environment stay together, apart from the default project, and ``sessions.resolve`` finds it.
"""

from __future__ import annotations

import re
from typing import Any

AGENT_ID = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")
"""An agent id, as the SDK's ``agent_address`` checks it."""

ENVIRONMENTS = ("local", "development", "staging", "production")

_LRN = re.compile(r"lrn:agents/([^/]+)/environments/([^/]+)")


def agent_lrn(agent_id: Any, environment: Any) -> str | None:
    """The address text of an agent environment, or ``None`` if either part is not valid."""
    if not isinstance(agent_id, str) or not AGENT_ID.fullmatch(agent_id):
        return None
    env = environment.strip().lower() if isinstance(environment, str) else None
    if env not in ENVIRONMENTS:
        return None
    return f"lrn:agents/{agent_id}/environments/{env}"


def project_of_address(value: Any) -> str | None:
    """The project name of a run's ``address`` (the wire text, or the SDK's
    ``{"kind": "AGENT", "id": ..., "environment": ...}``); ``None`` when it is not an agent
    address."""
    if isinstance(value, str):
        found = _LRN.fullmatch(value.strip())
        return agent_lrn(*found.groups()) if found else None
    if isinstance(value, dict) and str(value.get("kind", "AGENT")).upper() == "AGENT":
        return agent_lrn(value.get("id"), value.get("environment"))
    return None


__all__ = ["AGENT_ID", "ENVIRONMENTS", "agent_lrn", "project_of_address"]
