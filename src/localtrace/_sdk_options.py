"""The langsmith ``Client``'s options that change what a traced run stores: hiding inputs,
outputs and metadata, the anonymizer, and the tracing sampling rate.

A localtrace ``Client`` stands in for the SDK's, so it must apply them where the SDK's does:
to every post and patch it is handed (``create_run``, ``update_run``, ``batch_ingest_runs``),
before anything is queued. Same keywords, same environment variables
(``LANGSMITH_HIDE_INPUTS``/``_OUTPUTS``/``_METADATA`` = ``true``,
``LANGSMITH_TRACING_SAMPLING_RATE``), same rules: ``True`` stores ``{}``, a function stores
what it returns, the anonymizer applies to inputs, outputs, metadata and the error text, and a
trace is sampled in or out as a whole by its trace id (the SDK's deterministic hash, so a
trace split across processes or SDKs is kept or dropped everywhere alike).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from . import _json
from .errors import InvalidArgumentError

Hide = bool | Callable[[dict[str, Any]], dict[str, Any]] | None
"""``hide_inputs`` / ``hide_outputs`` / ``hide_metadata``: ``True`` hides all, a function
returns what to keep, ``None`` reads the environment variable."""

logger = logging.getLogger("localtrace")

_MODULUS = 1_000_000
"""The sampling hash's bucket count (as the SDK's ``_sampling``)."""


def _env(name: str) -> str | None:
    """``LANGSMITH_<name>``, else the older ``LANGCHAIN_<name>`` (the SDK reads both)."""
    return os.environ.get(f"LANGSMITH_{name}") or os.environ.get(f"LANGCHAIN_{name}")


def _hide(value: Hide, env: str) -> bool | Callable[[dict[str, Any]], dict[str, Any]]:
    if value is None:
        return _env(env) == "true"
    return value


def sampling_rate(rate: float | None) -> float | None:
    """The rate given, else ``LANGSMITH_TRACING_SAMPLING_RATE``; ``None`` keeps every trace."""
    text = str(rate) if rate is not None else _env("TRACING_SAMPLING_RATE")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise InvalidArgumentError(
            "tracing_sampling_rate",
            text,
            "not a number between 0 and 1",
            "set LANGSMITH_TRACING_SAMPLING_RATE (or tracing_sampling_rate=) to e.g. 0.1",
        )
    return value


class Options:
    """What the SDK's ``_run_transform`` and ``_filter_for_sampling`` do to each run."""

    def __init__(
        self,
        *,
        hide_inputs: Hide,
        hide_outputs: Hide,
        hide_metadata: Hide,
        anonymizer: Callable[[dict[str, Any]], dict[str, Any]] | None,
        tracing_sampling_rate: float | None,
    ) -> None:
        self.hide_inputs = _hide(hide_inputs, "HIDE_INPUTS")
        self.hide_outputs = _hide(hide_outputs, "HIDE_OUTPUTS")
        self.hide_metadata = _hide(hide_metadata, "HIDE_METADATA")
        self.anonymizer = anonymizer
        self.rate = sampling_rate(tracing_sampling_rate)
        self.hiding = bool(
            self.hide_inputs or self.hide_outputs or self.hide_metadata or self.anonymizer
        )
        """Whether any run is changed (when not, runs pass through untouched: no cost)."""

    # -- hiding ------------------------------------------------------------------------------
    def _payload(self, run: dict[str, Any], field: str, value: Any, hide: Any) -> Any:
        if hide is True:
            return {}
        if hide is False and self.anonymizer is None:
            return value
        try:
            if self.anonymizer is not None:
                # through JSON first, as the SDK does: the anonymizer sees what is stored
                return self.anonymizer(json.loads(_json.dumps(value)))
            return hide(value)
        except Exception as exc:  # fail closed: never store what was meant to be hidden
            logger.warning(
                "localtrace: hiding the %s of run %s failed (%s: %s); stored them empty: "
                "fix the hide function or anonymizer",
                field,
                run.get("id"),
                type(exc).__name__,
                exc,
            )
            return {}

    def hidden(self, run: Any) -> Any:
        """The run as the SDK's client would send it (a copy when anything changes; a run
        model becomes its dict)."""
        if not self.hiding:
            return run
        if not isinstance(run, dict):
            dump = getattr(run, "model_dump", None)
            if not callable(dump):
                return run  # not a run the writer takes either: it refuses it, naming why
            run = dump()
        run = dict(run)
        for name, hide in (("inputs", self.hide_inputs), ("outputs", self.hide_outputs)):
            if run.get(name) is not None:
                run[name] = self._payload(run, name, run[name], hide)
        if run.get("error") is not None and self.anonymizer is not None:
            scrubbed = self._payload(run, "error", {"error": run["error"]}, False)
            text = scrubbed.get("error") if isinstance(scrubbed, dict) else None
            run["error"] = text if text is not None else "(hidden)"  # the run still failed
        extra = run.get("extra")
        if isinstance(extra, dict) and extra.get("metadata") is not None:
            metadata = self._payload(run, "metadata", extra["metadata"], self.hide_metadata)
            run["extra"] = {**extra, "metadata": metadata}
        return run

    # -- sampling ----------------------------------------------------------------------------
    def sampled(self, run: Any) -> bool:
        """Whether the run's trace is kept (every trace when no rate is set)."""
        rate = self.rate
        if rate is None or rate >= 1:
            return True
        if rate <= 0:
            return False
        key = _sampling_key(run)
        if key is None:
            return True
        import xxhash  # installed with langsmith, whose setting this is

        digest = xxhash.xxh3_128(str(key).lower().encode("utf-8")).intdigest()
        return (digest % _MODULUS) / _MODULUS < rate

    def keep(self, runs: Iterable[Any], pre_sampled: bool = False) -> Iterable[Any]:
        """The runs of sampled traces (all of them when ``pre_sampled``), hidden as configured;
        ``runs`` itself when neither applies."""
        if not self.hiding and (self.rate is None or pre_sampled):
            return runs
        return [self.hidden(run) for run in runs if pre_sampled or self.sampled(run)]


def _field(run: Any, name: str) -> Any:
    if isinstance(run, dict):
        return run.get(name)
    return getattr(run, name, None)


def _sampling_key(run: Any) -> Any:
    """The trace id; a patch may omit it: the root id in its dotted_order, else its own id."""
    trace_id = _field(run, "trace_id")
    if trace_id is not None:
        return trace_id
    dotted = _field(run, "dotted_order")
    if dotted and "Z" in dotted:
        return dotted.split(".", 1)[0].split("Z", 1)[1]
    return _field(run, "id")
