"""Offline evaluation benchmark: ``langsmith.evaluate`` into a localtrace file vs. keeping nothing.

Runs the same evaluation (a trivial target, two trivial evaluators, N examples) two ways, turn
about, and prints the median wall time of each and their ratio:

* localtrace: ``evaluate(..., client=localtrace.Client(file))`` with ``data`` the dataset's
  name: examples read from the file, the experiment, every target run and every evaluator
  result written to it (flushed, so durable);
* baseline: the same call with a client that reads the same examples but drops every write
  (runs, feedback): the SDK's own cost of running and tracing the evaluation. Like localtrace, it
  turns evaluator results into ``create_feedback`` arguments on the evaluating thread (the SDK's
  own loop), not on the SDK's executor thread.

Target: ratio <= 1.3. The load average is printed with the figures (the machine is shared).

Usage: python bench/evaluate.py [--examples 1000] [--repeat 5] [--quick]
(--quick: 1000 examples, 3 rounds; the full run already takes well under two minutes quiet)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

import langsmith  # noqa: E402

import localtrace  # noqa: E402


def target(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"answer": inputs["q"] * 2}


def exact(outputs: dict[str, Any], reference_outputs: dict[str, Any]) -> bool:
    return bool(outputs["answer"] == reference_outputs["answer"])


def length(outputs: dict[str, Any]) -> int:
    return len(str(outputs["answer"]))


class NoOpClient(localtrace.Client):
    """Reads examples like a localtrace client; every run and piece of feedback is dropped."""

    def create_run(self, *args: Any, **kwargs: Any) -> None:
        return None

    def update_run(self, *args: Any, **kwargs: Any) -> None:
        return None

    def batch_ingest_runs(self, *args: Any, **kwargs: Any) -> None:
        return None

    def multipart_ingest(self, *args: Any, **kwargs: Any) -> None:
        return None

    def create_feedback(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def _log_evaluation_feedback(
        self,
        evaluator_response: Any,
        run: Any = None,
        source_info: Any = None,
        project_id: Any = None,
        *,
        _executor: Any = None,
    ) -> Any:
        # The SDK's own loop over the results, calling the no-op create_feedback on this thread
        # (as localtrace does: no hand-off to the SDK's executor in either figure).
        sdk: Any = langsmith.Client
        return sdk._log_evaluation_feedback(self, evaluator_response, run, source_info, project_id)


def timed(kind: type[localtrace.Client], path: Path, n: int) -> float:
    """Seconds for one evaluation of ``n`` examples through a client of class ``kind``."""
    client = kind(path)
    dataset = client.create_dataset("bench")
    client.create_examples(
        dataset_id=dataset.id,
        examples=[{"inputs": {"q": q}, "outputs": {"answer": q * 2}} for q in range(n)],
    )
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the SDK prints a LangSmith URL
        langsmith.evaluate(target, data="bench", evaluators=[exact, length], client=client)
    client.flush()
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1000 examples, 3 rounds")
    args = parser.parse_args()
    if args.quick:
        args.examples, args.repeat = 1000, 3
    load = os.getloadavg()
    ours: list[float] = []
    base: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.repeat):
            base.append(timed(NoOpClient, Path(folder) / f"noop-{round_}.db", args.examples))
            ours.append(
                timed(localtrace.Client, Path(folder) / f"evals-{round_}.db", args.examples)
            )
    a, b = statistics.median(ours), statistics.median(base)
    print(f"evaluate over {args.examples} examples, 2 evaluators (median of {args.repeat}):")
    print(f"  load average before/after: {load[0]:.2f} / {os.getloadavg()[0]:.2f}")
    print(
        f"  localtrace file: {a:.2f} s   no-op client: {b:.2f} s   ratio {a / b:.2f} (target <= 1.3)"
    )


if __name__ == "__main__":
    main()
