"""A writer in a child process, so traced code does not pay for ingest under the GIL.

The in-process writer thread competes with the traced program for the GIL: every microsecond
it spends validating and writing runs is a microsecond the program waits. For a file store the
Client therefore hands runs to a child process instead. The parent only serialises each run
with the SDK's JSON rules (the same bytes the SDK would send to LangSmith) and appends it to a
buffer that goes down a pipe to the child's stdin; the child runs the ordinary ``Writer``.

Who writes to the pipe: the thread that submits, once the oldest buffered run has waited
``FEED_EVERY_S`` (or at once for a flush), with a non-blocking write that takes what the pipe has
room for; a feeder thread sends what is left (a pipe that was full, a burst that ended). A
program that keeps the GIL busy (which is what traced code does) could otherwise starve the
feeder and hold thousands of runs back until it stops: now they reach the child while the
program runs, so a ``flush()`` at the end waits only for the last few.

Protocol: one JSON document per line on stdin: ``["post"|"patch", run]`` (or, for a run whose
values nest near the limit, ``["post/fields"|"patch/fields", {field: JSON text}]``), or
``["flush", token]`` which the child answers on stdout with ``[token, problems, failure,
unavailable]`` once everything before it is committed (or the file refused it). EOF means
close: the child drains and exits.

Every problem travels on stdout, which a parent thread always reads: the child never logs a
refused run, and its stderr (tracebacks only) is drained into a short tail kept for messages,
so no pipe can fill up and block the child.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from .. import _fork, _json
from ..errors import (
    InvalidRunError,
    LocaltraceError,
    RunProblem,
    StoreError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from .feedback import KIND as FEEDBACK
from .normalize import RunProblemError, check_usage_numbers, with_attachment_bytes
from .writer import MAX_PROBLEMS, drain_at_exit, log_refused, run_id_of

logger = logging.getLogger("localtrace")

MAX_BUFFERED = 20_000
"""Runs waiting in the parent before ``submit`` blocks (memory stays bounded)."""

FEED_EVERY_S = 0.01
"""How long runs gather before one pipe write (a flush does not wait)."""

FEEDER_PERIOD_S = 0.05
"""How often the feeder looks for runs that no submit after them has sent (the end of a
burst), while submitting threads write to the pipe themselves: seldom, since every wake-up of
the feeder is a GIL hand-off the traced program pays for."""

PIPE_SIZE = 1 << 20
"""Capacity asked of the pipe to the child (Linux; the default 64 KiB holds only ~100 runs, so
most writes of a burst would find it full)."""


class ProcessWriter:
    """Same interface as ``Writer``; the work happens in a child process."""

    def __init__(self, path: str, default_project: str, *, pricing: bool = True) -> None:
        self._path = path
        self._default_project = default_project
        self._pricing = pricing
        self._closed = False
        self._fresh()
        _fork.reset_after_fork(self)

    def _fresh(self) -> None:
        """No child yet, nothing buffered (at creation, and in a forked child)."""
        self._buffer: collections.deque[bytes] = collections.deque()
        self._lock = threading.Lock()  # the buffer's; ``with self._lock`` costs no Python frame
        self._cond = threading.Condition(self._lock)  # the feeder waits on it
        self._room = threading.Condition(self._lock)  # submitters wait on it for a full buffer
        self._feeder_idle = False  # the feeder waits for a first line (a submit wakes it)
        self._acks: dict[int, list[Any]] = {}
        self._ack_cond = threading.Condition()
        self._next_token = 0
        self._pushed = 0  # run and feedback lines buffered so far
        self._settled = 0  # of those, how many a clean flush answer covers
        self._local_problems: list[RunProblem] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._feeder: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._dead = False
        self._dropped = 0  # posts and patches given up because the child had stopped
        self._stop_told = False  # a flush or close has raised that the child stopped
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._drainer: threading.Thread | None = None
        self._start_lock = threading.Lock()  # several threads may submit and flush at once
        self._urgent = False  # a flush or a filling buffer: the feeder writes without waiting
        self._first_at = 0.0  # when the oldest buffered line was buffered (monotonic)
        # Whoever holds ``_send_lock`` owns the pipe: takes lines from the buffer and writes
        # them, so lines reach the child in the order they were buffered. ``_unsent`` is the
        # tail of a write the pipe had no room for (written before any later line).
        self._send_lock = threading.Lock()
        self._unsent = b""
        self._fd = -1
        self._direct = False  # the pipe is non-blocking: submitting threads may write to it

    def after_fork(self) -> None:
        """In a forked child: the writer process and its answers are the parent's. This
        process lets go of its pipes (the writer process must see the end of its input when
        the parent closes) and starts its own writer at its first write (``_fork``)."""
        if self._proc is not None:
            _fork.keep(self._proc)
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                if stream is not None and not stream.closed:  # a closed client's are
                    _fork.release(stream.fileno())
        if not self._closed:
            self._fresh()

    # -- child lifecycle ---------------------------------------------------------------------
    def _start(self) -> None:
        if self._proc is not None:
            return
        with self._start_lock:
            if self._proc is None:
                self._spawn()

    def _spawn(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from localtrace._ingest.writer_process import main; main()",
                self._path,
                self._default_project,
                "pricing" if self._pricing else "no-pricing",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert self._proc.stdin is not None
        self._fd = self._proc.stdin.fileno()
        try:
            import fcntl

            fcntl.fcntl(self._fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        except (ImportError, AttributeError, OSError):
            pass  # a smaller pipe: more writes are left to the feeder
        if hasattr(select, "poll"):  # what the feeder waits with for a full pipe
            try:
                os.set_blocking(self._fd, False)
                self._direct = True
            except OSError:
                pass  # the feeder alone writes, blocking
        self._feeder = threading.Thread(target=self._feed, name="localtrace-feeder", daemon=True)
        self._reader = threading.Thread(target=self._read, name="localtrace-acks", daemon=True)
        self._drainer = threading.Thread(
            target=self._drain_stderr, name="localtrace-stderr", daemon=True
        )
        self._feeder.start()
        self._reader.start()
        self._drainer.start()
        self._atexit = drain_at_exit(self)

    def _feed(self) -> None:
        """Send what the submitting threads left: runs that waited ``FEED_EVERY_S`` with no
        submit after them, a flush, what a full pipe did not take; close the pipe at close."""
        assert self._proc is not None and self._proc.stdin is not None
        while True:
            with self._lock:
                while True:
                    if self._urgent or self._unsent:
                        break
                    if self._buffer:
                        wait = self._first_at + FEED_EVERY_S - time.monotonic()
                        if wait <= 0:
                            break
                        # submitting threads send their own lines: look again much later
                        self._cond.wait(FEEDER_PERIOD_S if self._direct else wait)
                    elif self._closed:
                        self._proc.stdin.close()
                        return
                    else:
                        self._feeder_idle = True
                        self._cond.wait()
                        self._feeder_idle = False
                self._urgent = False
            if not self._send(block=True):
                return

    def _send(self, block: bool) -> bool:
        """Write the buffered lines (after any unsent tail) to the pipe, in order.

        ``block=False`` (a submitting thread): never waits, neither for the pipe nor for
        another sender; what the pipe has no room for is left to the feeder. Returns False once
        the child is gone.
        """
        if not self._send_lock.acquire(blocking=block):
            return True
        try:
            with self._lock:
                lines = list(self._buffer)
                self._buffer.clear()
                self._room.notify_all()  # room for submitters waiting on a full buffer
            data = memoryview(self._unsent + b"".join(lines))
            while data:
                try:
                    data = data[os.write(self._fd, data) :]
                except BlockingIOError:
                    if not block:
                        break
                    room = select.poll()  # not select(): no limit on the descriptor's number
                    room.register(self._fd, select.POLLOUT)
                    room.poll()
                except OSError:  # BrokenPipeError: the child stopped
                    # what an earlier send left of its lines is lost with this send's lines
                    self._dropped += _runs_in(self._unsent.split(b"\n")[:-1]) + _runs_in(lines)
                    self._unsent = b""
                    self._dead = True
                    with self._ack_cond:
                        self._ack_cond.notify_all()
                    return False
            self._unsent = bytes(data)
        finally:
            self._send_lock.release()
        if self._unsent and not block:
            with self._lock:
                self._cond.notify()  # the feeder finishes it
        return True

    def _drain_stderr(self) -> None:
        """Keep reading the child's stderr (so it never blocks); remember the last lines."""
        assert self._proc is not None and self._proc.stderr is not None
        for raw in self._proc.stderr:
            self._stderr.append(raw.decode(errors="replace").rstrip())

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            token, problems, failure, unavailable = orjson.loads(line)
            with self._ack_cond:
                self._acks[token] = [problems, failure, unavailable]
                self._ack_cond.notify_all()
        self._dead = True
        with self._ack_cond:
            self._ack_cond.notify_all()

    # -- producer side -----------------------------------------------------------------------
    def _push(self, lines: list[bytes]) -> None:
        if self._proc is None or self._closed:
            if self._closed:
                raise StoreError("the client is closed; open a new Client to write")
            self._start()
        buffer = self._buffer
        with self._lock:
            if len(buffer) >= MAX_BUFFERED or self._dead:
                while len(buffer) >= MAX_BUFFERED and not self._dead:
                    self._room.wait(0.1)
                if self._dead:  # nobody will read them: count them for the next flush()
                    self._dropped += _runs_in(lines)
                    return
            now = time.monotonic()
            if not buffer:
                self._first_at = now
                if self._feeder_idle or not self._direct:
                    self._cond.notify()  # the feeder sends it if no submit comes after it
            buffer.extend(lines)
            flushing = lines[-1].startswith(b'["flush"')
            if not flushing:
                self._pushed += len(lines)
            urgent = flushing or len(buffer) >= MAX_BUFFERED // 4
            if urgent:  # the feeder sends it at once if this thread cannot
                self._urgent = True
                self._cond.notify()
        if self._direct and (urgent or now - self._first_at >= FEED_EVERY_S):
            self._send(block=False)

    def _encode(self, kind: str, run: Any) -> bytes | None:
        """The run's line for the child, or ``None`` (a problem noted) if it cannot be sent.

        Runs through here come from traced code: nothing may raise into it, so any failure to
        serialise (nesting too deep, a hostile ``__str__``) refuses that run alone.
        """
        try:
            if kind != FEEDBACK:  # a feedback row holds no usage (and no dicts: JSON text)
                check_usage_numbers(run)
                run = with_attachment_bytes(run)
            try:
                return _json.dumps_line([kind, run]) + b"\n"
            except _json.UnstorableError:
                if not isinstance(run, dict) or kind not in BY_FIELD:
                    raise
                return field_by_field(kind, run)
        except RunProblemError as exc:
            problem = exc.problem
        except Exception as exc:
            problem = RunProblem(
                run_id_of(run),
                "(run)",
                f"could not be serialised ({_json.describe_failure(exc)})",
                f"send JSON-serialisable values nested at most {_json.MAX_DEPTH} levels deep",
            )
        self._note(problem)
        return None

    def _note(self, problem: RunProblem) -> None:
        log_refused(problem)
        if len(self._local_problems) < MAX_PROBLEMS:
            self._local_problems.append(problem)

    def submit(self, kind: str, run: Any) -> None:
        """Serialise one post or patch and queue it for the child."""
        line = self._encode(kind, run)
        if line is not None:
            self._push([line])

    def submit_many(self, ops: Sequence[tuple[str, Any]]) -> None:
        """Serialise and queue many ops."""
        lines = [line for kind, run in ops if (line := self._encode(kind, run)) is not None]
        if lines:
            self._push(lines)

    @property
    def stopped(self) -> bool:
        """The child has stopped while this writer was open (it takes no more runs)."""
        return self._dead and self._proc is not None and not self._closed

    @property
    def pending(self) -> int:
        """Runs serialised but not yet handed to the child."""
        return len(self._buffer)

    def flush(self, timeout: float | None = None) -> None:
        """Block until the child has committed everything queued so far; raise its problems."""
        self.settle(timeout)
        self._raise_local()

    def settle(self, timeout: float | None = None) -> int:
        """Committed, like ``flush``; refused runs are kept for the next ``flush``. (The child
        indexes when idle; the Client's in-process writer settles the index for a search.)"""
        if self._proc is not None and not self._dead:
            with self._lock:
                pushed = self._pushed
            if pushed == self._settled:
                return 0  # nothing sent since a clean answer: no round trip to the child
            with self._start_lock:
                token = self._next_token
                self._next_token += 1
            self._push([orjson.dumps(["flush", token]) + b"\n"])
            with self._ack_cond:
                if not self._ack_cond.wait_for(
                    lambda: token in self._acks or self._dead, timeout=timeout
                ):
                    raise StoreError(f"flush did not finish within {timeout}s")
                answer = self._acks.pop(token, None)
            if answer is None:
                raise self._stopped()
            problems, failure, unavailable = answer
            self._local_problems.extend(RunProblem(*p) for p in problems)
            if failure:
                raise _FAILURES[int(unavailable)](failure)
            with self._lock:
                self._settled = max(self._settled, pushed)
        elif self._dead:
            raise self._stopped()
        return 0  # the child's writer indexed before it answered

    def _stopped(self) -> StoreError:
        with self._lock:  # lines a submitter queued as the child stopped: no one sends them now
            self._dropped += _runs_in(self._buffer)
            self._buffer.clear()
        dropped, self._dropped = self._dropped, 0
        self._stop_told = True
        lost = (
            f"; {dropped} posts and patches of runs sent or queued since it stopped were not "
            "written"
            if dropped
            else ""
        )
        return StoreError(
            f"the writer process stopped ({self._stderr_tail()}){lost}; the Client writes what "
            "comes next in its own process (what was flushed before is in the file)"
        )

    def _raise_local(self) -> None:
        problems, self._local_problems = self._local_problems, []
        if problems:
            raise InvalidRunError(problems)

    def raise_problems(self) -> None:
        """Raise problems found in the parent (the child's come with ``flush``)."""
        self._raise_local()

    def _stderr_tail(self) -> str:
        if self._proc is None or self._proc.stderr is None:
            return "no output"
        try:
            self._proc.wait(timeout=5)
            if self._drainer is not None:
                self._drainer.join(timeout=5)
        except Exception:  # the tail is only for the message
            pass
        lines = [line for line in self._stderr if line.strip()]
        return lines[-1] if lines else exit_status(self._proc.returncode)

    def close(self, raise_problems: bool = True) -> None:
        """Flush, let the child drain and exit (also run at interpreter exit)."""
        if self._closed:
            return
        try:
            if self._proc is not None and not self._dead:
                self.flush()
            elif self._proc is not None and (self._dropped or not self._stop_told):
                raise self._stopped()  # runs were lost: said once, here if no flush said it
        except LocaltraceError as exc:
            if raise_problems:
                raise
            logger.error("localtrace: %s", exc)
        finally:
            if self._proc is not None:
                atexit.unregister(self._atexit)
            with self._lock:
                self._closed = True
                self._cond.notify_all()
            if self._proc is not None:
                if self._feeder is not None:
                    self._feeder.join()
                self._proc.wait()
                if self._reader is not None:
                    self._reader.join()
                if self._drainer is not None:
                    self._drainer.join()
                # stdin too: a feeder that found the child gone leaves it open
                for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                    if stream is not None:
                        stream.close()


def _runs_in(lines: Iterable[bytes]) -> int:
    """Posts, patches and feedback among protocol lines (a flush request is none of them)."""
    return sum(1 for line in lines if not line.startswith(b'["flush"'))


def exit_status(code: int | None) -> str:
    """How a process ended, in words: a negative code is the signal that killed it."""
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


BY_FIELD = {"post": "post/fields", "patch": "patch/fields"}
"""Kind of a run sent ``field_by_field`` -> its line's kind."""
_UNPACK = {line_kind: kind for kind, line_kind in BY_FIELD.items()}


def field_by_field(kind: str, run: dict[str, Any]) -> bytes:
    """The line of a run the usual line could not hold: each value as JSON text of its own.

    The usual line's list and run object nest each value two levels deeper than the writer
    thread, which checks every field alone, sees it; here they add none, so both writers
    take exactly the same runs. A value that is too deep or a cycle on its own refuses the
    run, naming the field, as the writer thread does. Only runs orjson refused come here."""
    texts: dict[str, str] = {}
    for name, value in run.items():
        try:
            texts[str(name)] = _json.dumps_line(value).decode()
        except _json.UnstorableError as exc:
            raise RunProblemError(
                RunProblem(run_id_of(run), str(name), str(exc), exc.fix)
            ) from None
    return _json.dumps_line([BY_FIELD[kind], texts]) + b"\n"


def _unpacked(kind: str, payload: Any) -> tuple[str, Any]:
    """An op as ``field_by_field`` sent it -> the op (other ops as they came)."""
    if kind not in _UNPACK:
        return kind, payload
    return _UNPACK[kind], {name: _json.loads_line(text.encode()) for name, text in payload.items()}


def main() -> None:
    """Entry point of the child: read ops from stdin, write them with a ``Writer``."""
    from .._store.db import Database
    from .writer import Writer

    path, default_project = sys.argv[1], sys.argv[2]
    pricing = sys.argv[3:4] != ["no-pricing"]
    logging.basicConfig(level=logging.ERROR)
    # Problems travel to the parent with each flush answer; logging them here as well would
    # only fill a pipe.
    logging.getLogger("localtrace").setLevel(logging.CRITICAL)
    db = Database(path)
    writer = Writer(db, default_project, pricing=pricing, fold_pairs=True)
    out = sys.stdout.buffer
    stdin = sys.stdin.buffer.fileno()
    tail = b""
    # Whatever the pipe holds is read at once and queued as one list: one hand-off to the
    # writer thread per read, not one per run. The next read waits until that list is written
    # (``caught_up``): this process then never parses while it writes, so it takes at most one
    # core from the traced program (on two cores the program's evaluation ran 10% faster);
    # the pipe and the parent's buffer hold what arrives meanwhile.
    while chunk := os.read(stdin, READ_SIZE):
        *lines, tail = (tail + chunk).split(b"\n")
        ops: list[tuple[str, Any]] = []
        for line in lines:
            kind, payload = _json.loads_line(line)
            if kind != "flush":
                ops.append(_unpacked(kind, payload))
                continue
            if ops:
                writer.submit_many(ops)
                ops = []
            out.write(orjson.dumps([payload, *_flush_answer(writer)]) + b"\n")
            out.flush()
        if ops:
            writer.submit_many(ops)
            writer.caught_up()
    writer.close(raise_problems=False)
    db.close()


_FAILURES: tuple[type[StoreError], ...] = (StoreError, StoreUnavailableError, StoreReadOnlyError)
"""What a failed flush raises in the parent, by the index the child sends (its class, or the
nearest one above it)."""

READ_SIZE = 1 << 20
"""Bytes the child reads from its pipe at a time."""


def _flush_answer(writer: Any) -> list[Any]:
    """``[problems, failure, unavailable]`` of a flush of the child's writer."""
    problems: list[list[Any]] = []
    failure = None
    unavailable = 0
    try:
        writer.flush()
    except InvalidRunError as exc:
        problems = [[p.run_id, p.field, p.reason, p.fix] for p in exc.problems]
    except LocaltraceError as exc:
        failure = str(exc)
        unavailable = max(
            (i for i, kind in enumerate(_FAILURES) if isinstance(exc, kind)), default=0
        )
    return [problems, failure, unavailable]
