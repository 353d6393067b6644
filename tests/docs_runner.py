"""Run the code blocks of a Markdown file as written (the rules: docs/contributing-docs.md).

One Markdown file = one fresh directory; its blocks run there in document order. Python blocks
share one interpreter (a notebook), bash blocks run one ``bash -e -o pipefail`` each,
javascript blocks run with node when the toolchain ``.ci/run`` installs is present. A bash line
that starts ``localtrace serve|ui|mcp`` is started in the background on a free port, checked to
answer, and stopped (it must exit 0) when the file ends. ``pip install`` and the commands
``.ci/run`` itself runs are checked instead of run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
RUN_LANGUAGES = {"python", "bash", "javascript"}
# A guard against a hung block, not a speed check: the README's CLI block runs ~35 commands,
# each a fresh interpreter, which on a loaded 2-core machine takes minutes.
BLOCK_TIMEOUT_S = 600.0
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
SERVER_COMMANDS = ("serve", "ui", "mcp")
NODE_MODULES = REPO / ".ci" / "node" / "node_modules"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
_SKIP = re.compile(r"^\s*<!--\s*docs:\s*skip\s*:?(?P<reason>.*?)-->\s*$")
_FILE = re.compile(r"^(?:#|//)\s*(?P<name>[\w./-]+\.[A-Za-z0-9]+)\s*$")
_REMOTE = re.compile(r"https?://(?!127\.0\.0\.1|localhost|\[::1\])[\w.-]+")


@dataclass
class Block:
    """One fenced block: where it is, its language, its text and how it is to be treated."""

    path: Path
    line: int
    lang: str
    code: str
    skip: str | None = None  # the reason given in a skip marker
    target: str | None = None  # file name, when the block is a file to write

    @property
    def where(self) -> str:
        shown = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path.name
        return f"{shown}:{self.line}"


class DocsError(AssertionError):
    """A block that breaks the rules or fails to run; says where and why."""


def extract(path: Path) -> list[Block]:
    """Every fenced block of ``path``; an unlabelled fence or an empty skip reason is an error."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = lines[j].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        lang = info.split()[0] if info else ""
        block = Block(path, i + 1, lang, "\n".join(body) + "\n")
        if not lang:
            raise DocsError(
                f"{block.where}: label this block (python, bash, javascript run; text, json, "
                "toml, ... do not)"
            )
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        marker = _SKIP.match(lines[k]) if k >= 0 else None
        if marker:
            block.skip = marker["reason"].strip()
            if not block.skip:
                raise DocsError(f"{block.where}: a docs skip marker needs a reason")
        first = body[0] if body else ""
        named = _FILE.match(first)
        if named and lang in RUN_LANGUAGES:
            block.target = named["name"]
        blocks.append(block)
        i = j + 1
    return blocks


def runnable(blocks: list[Block]) -> list[Block]:
    """The blocks that run (or are written as files), after checking the skip markers."""
    chosen = []
    for block in blocks:
        if block.lang not in RUN_LANGUAGES:
            continue
        if block.skip is not None:
            if not (_REMOTE.search(block.code) or "LANGSMITH_API_KEY" in block.code):
                raise DocsError(
                    f"{block.where}: skipped, but this block names no destination beyond this "
                    "machine: make it run offline instead of skipping it"
                )
            continue
        chosen.append(block)
    return chosen


# -- bash commands: split, classify ---------------------------------------------------------
def _commands(line: str) -> tuple[str, list[tuple[int, int]]]:
    """The line without its comment, and the spans of its commands (split at && ; ||)."""
    spans: list[tuple[int, int]] = []
    quote = ""
    start = 0
    i = 0
    end = len(line)
    while i < len(line):
        char = line[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            end = i
            break
        elif line.startswith(("&&", "||"), i) or char == ";":
            spans.append((start, i))
            i += 1 if char == ";" else 2
            start = i
            continue
        i += 1
    spans.append((start, end))
    return line[:end], [(a, b) for a, b in spans if line[a:b].strip()]


def _ci_lines() -> set[str]:
    text = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    return {line.strip() for line in text.splitlines() if line.strip()}


def _extras() -> set[str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return set(data["project"]["optional-dependencies"])


def check_pip_install(command: str, where: str) -> None:
    """Every extra a ``pip install`` of localtrace names must exist in pyproject.toml."""
    known = _extras()
    for word in shlex.split(command):
        found = re.fullmatch(r"(?P<what>[\w./-]+)\[(?P<extras>[\w,\s-]+)\]", word)
        if not found or found["what"] not in (".", "localtrace"):
            continue
        for extra in found["extras"].split(","):
            if extra.strip() not in known:
                raise DocsError(
                    f"{where}: `{command.strip()}` names extra {extra!r}, not in pyproject.toml"
                )


@dataclass
class ServerLine:
    """A ``localtrace serve|ui|mcp`` line: its command and the port it is moved to."""

    command: str
    kind: str
    port: int | None = None  # the free port given to it (HTTP servers)
    stdio: bool = False


def _global_value_options() -> set[str]:
    from localtrace.cli import main

    names: set[str] = set()
    for param in main.params:
        if not getattr(param, "is_flag", False) and getattr(param, "opts", None):
            names.update(param.opts)
    return names


def _default_port(kind: str) -> int | None:
    from localtrace.cli import main

    command = main.commands.get(kind)  # type: ignore[attr-defined]
    for param in getattr(command, "params", []):
        if param.name == "port":
            default = param.default
            return int(default) if isinstance(default, int) else None
    return None


def server_kind(command: str) -> str | None:
    """``serve``/``ui``/``mcp`` when ``command`` starts that server, else None."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
        words.pop(0)
    if not words or words[0] != "localtrace":
        return None
    valued = _global_value_options()
    i = 1
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in valued else 1
    if i < len(words) and words[i] in SERVER_COMMANDS:
        return words[i]
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def plan_servers(blocks: list[Block]) -> tuple[dict[str, str], list[str]]:
    """Port replacements for the whole file, and the server lines found (for error messages)."""
    replacements: dict[str, str] = {}
    found: list[str] = []
    for block in blocks:
        if block.lang != "bash" or block.target:
            continue
        for line in _logical_lines(block.code):
            stripped, spans = _commands(line)
            kind = server_kind(stripped)
            if kind is None:
                continue
            if len(spans) != 1:
                raise DocsError(f"{block.where}: put `localtrace {kind}` on a line of its own")
            found.append(stripped)
            named = re.search(r"--port[ =](\d+)", stripped)
            old = int(named[1]) if named else _default_port(kind)
            if old is None:
                continue  # stdio mcp
            if str(old) in replacements:
                raise DocsError(
                    f"{block.where}: two servers on port {old}: give each its own --port"
                )
            replacements[str(old)] = str(free_port())
    return replacements, found


def _logical_lines(code: str) -> list[str]:
    lines: list[str] = []
    buffer = ""
    for raw in code.splitlines():
        if raw.rstrip().endswith("\\"):
            buffer += raw.rstrip()[:-1] + " "
            continue
        lines.append(buffer + raw)
        buffer = ""
    if buffer:
        lines.append(buffer)
    return lines


def apply_ports(code: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        code = re.sub(rf"(?<!\d){old}(?!\d)", new, code)
    return code


# -- the environment ------------------------------------------------------------------------
def environment(home: Path) -> dict[str, str]:
    """A fresh user's shell: our virtualenv first, no tracing variables, no internet."""
    dropped = ("LANGSMITH_", "LANGCHAIN_", "LOCALTRACE_", "PYTEST_", "COV_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    dead = "http://127.0.0.1:9"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env[name] = dead
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    env["BROWSER"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    env["RUNNER_HOME"] = str(home)
    return env


# -- python: one interpreter per file -------------------------------------------------------
_DRIVER = textwrap.dedent(
    """
    import builtins, json, os, sys, traceback
    results = os.fdopen(int(sys.argv[1]), "w")
    sys.path.insert(0, os.getcwd())
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            exec(compile(request["code"], request["label"], "exec"), namespace)
            answer = {"ok": True}
        except BaseException:
            answer = {"ok": False, "error": traceback.format_exc()}
        sys.stdout.flush(); sys.stderr.flush()
        results.write(json.dumps(answer) + "\\n"); results.flush()
    """
)


class PythonSession:
    """One interpreter that runs the python blocks of a file in one namespace, in order."""

    def __init__(self, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        read_fd, write_fd = os.pipe()
        self._log_file = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _DRIVER, str(write_fd)],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            text=True,
        )
        os.close(write_fd)
        self._results = os.fdopen(read_fd, "r")

    def run(self, block: Block, code: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"code": code, "label": block.where}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self._results], [], [], BLOCK_TIMEOUT_S)
        if not ready:
            raise DocsError(
                f"{block.where}: python block still running after {BLOCK_TIMEOUT_S:.0f}s"
            )
        line = self._results.readline()
        if not line:
            raise DocsError(f"{block.where}: the interpreter exited\n{tail(self.log)}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise DocsError(
                f"{block.where}: python block failed\n{answer['error']}\n{tail(self.log)}"
            )

    def close(self) -> None:
        if self.proc.stdin:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._results.close()
        self._log_file.close()


def tail(log: Path, size: int = 4000) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return ("output:\n" + text[-size:]) if text.strip() else "(no output)"


# -- servers --------------------------------------------------------------------------------
@dataclass
class RunningServer:
    where: str
    command: str
    kind: str
    proc: subprocess.Popen[bytes]
    log: Path
    port: int | None


def start_server(
    block: Block,
    command: str,
    kind: str,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    replacements: dict[str, str],
) -> RunningServer:
    """Start ``command`` (with ``--port`` added when missing) and wait until it answers."""
    named = re.search(r"--port[ =](\d+)", command)
    port = int(named[1]) if named else None
    default = _default_port(kind)
    stdio = kind == "mcp" and port is None and "--transport" not in command
    if port is None and not stdio:
        port = int(replacements[str(default)]) if default is not None else free_port()
        command = f"{command} --port {port}"
    words = shlex.split(command)
    head = 0
    while re.fullmatch(r"[A-Za-z_]\w*=.*", words[head]):
        head += 1
    server_env = dict(env)
    for assignment in words[:head]:
        name, _, value = assignment.partition("=")
        server_env[name] = value
    handle = log.open("ab")
    proc = subprocess.Popen(
        words[head:],
        cwd=cwd,
        env=server_env,
        stdin=subprocess.PIPE if stdio else subprocess.DEVNULL,
        stdout=subprocess.PIPE if stdio else handle,
        stderr=handle,
    )
    handle.close()
    server = RunningServer(block.where, command, kind, proc, log, None if stdio else port)
    if stdio:
        _mcp_handshake(server)
    else:
        assert port is not None
        _wait_http(server, port)
    return server


def _wait_http(server: RunningServer, port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        if server.proc.poll() is not None:
            raise DocsError(
                f"{server.where}: `{server.command}` exited with {server.proc.returncode} "
                f"before answering\n{tail(server.log)}"
            )
        try:
            opener.open(f"http://127.0.0.1:{port}/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP status: it answers
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                server.proc.kill()
                raise DocsError(
                    f"{server.where}: `{server.command}` did not answer on port {port} within "
                    f"{READY_TIMEOUT_S:.0f}s\n{tail(server.log)}"
                ) from None
            time.sleep(0.1)


def _mcp_handshake(server: RunningServer) -> None:
    assert server.proc.stdin is not None and server.proc.stdout is not None
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-03-26",
            "capabilities": {},
            "clientInfo": {"name": "localtrace-docs-test", "version": "0"},
        },
    }
    server.proc.stdin.write((json.dumps(request) + "\n").encode())
    server.proc.stdin.flush()
    ready, _, _ = select.select([server.proc.stdout], [], [], READY_TIMEOUT_S)
    line = server.proc.stdout.readline() if ready else b""
    try:
        answer = json.loads(line)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("id") != 1 or "result" not in answer:
        server.proc.kill()
        raise DocsError(
            f"{server.where}: `{server.command}` did not answer an MCP initialize request "
            f"(got {line[:200]!r})\n{tail(server.log)}"
        )


def stop_server(server: RunningServer) -> None:
    """SIGTERM (HTTP) or end of input (stdio); it must exit by itself, with status 0."""
    proc = server.proc
    if server.port is None and proc.stdin is not None:
        proc.stdin.close()
    else:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise DocsError(
            f"{server.where}: `{server.command}` did not stop within {STOP_TIMEOUT_S:.0f}s"
            f"\n{tail(server.log)}"
        ) from None
    if proc.stdout is not None:
        proc.stdout.close()
    if proc.returncode != 0:
        raise DocsError(
            f"{server.where}: `{server.command}` exited with status {proc.returncode} when "
            f"stopped\n{tail(server.log)}"
        )


# -- one file -------------------------------------------------------------------------------
@dataclass
class FileRun:
    """Runs the blocks of one Markdown file in ``workdir``; records what it could not run."""

    path: Path
    workdir: Path
    scratch: Path
    notes: list[str] = field(default_factory=list)
    replacements: dict[str, str] = field(default_factory=dict)

    def run(self) -> None:
        blocks = runnable(extract(self.path))
        self.replacements, _ = plan_servers(blocks)
        replacements = self.replacements
        env = environment(self.scratch)
        log = self.scratch / "output.log"
        python: PythonSession | None = None
        servers: list[RunningServer] = []
        failure: BaseException | None = None
        try:
            for number, block in enumerate(blocks):
                started = time.monotonic()
                code = apply_ports(block.code, replacements)
                if block.target:
                    target = self.workdir / block.target
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(code, encoding="utf-8")
                elif block.lang == "python":
                    python = python or PythonSession(self.workdir, env, log)
                    python.run(block, code)
                elif block.lang == "bash":
                    self._bash(block, code, number, env, log, servers)
                else:
                    self._javascript(block, code, number, env, log)
                self.notes.append(f"{block.where}: {time.monotonic() - started:.1f}s")
        except BaseException as exc:
            failure = exc
            raise
        finally:
            if python is not None:
                python.close()
            for server in servers:
                try:
                    stop_server(server)
                except DocsError:
                    if failure is None:
                        raise

    def _bash(
        self,
        block: Block,
        code: str,
        number: int,
        env: dict[str, str],
        log: Path,
        servers: list[RunningServer],
    ) -> None:
        ci = _ci_lines()
        segment: list[str] = []
        part = 0
        for line in _logical_lines(code):
            stripped, spans = _commands(line)
            kind = server_kind(stripped)
            if kind is not None:
                self._shell(block, segment, f"{number}-{part}", env, log)
                segment, part = [], part + 1
                servers.append(
                    start_server(
                        block, stripped.strip(), kind, self.workdir, env, log, self.replacements
                    )
                )
                continue
            for start, end in reversed(spans):
                command = stripped[start:end]
                words = command.split()
                if words[:2] in (["pip", "install"], ["python", "-m"]) and "install" in words[:4]:
                    check_pip_install(command, block.where)
                    stripped = f"{stripped[:start]} true {stripped[end:]}"
                elif command.strip() in ci:
                    stripped = f"{stripped[:start]} true {stripped[end:]}"
            segment.append(stripped)
        self._shell(block, segment, f"{number}-{part}", env, log)

    def _shell(
        self, block: Block, lines: list[str], label: str, env: dict[str, str], log: Path
    ) -> None:
        if not any(line.strip() for line in lines):
            return
        script = self.scratch / f"block-{label}.sh"
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._process(block, ["bash", "-e", "-o", "pipefail", str(script)], env, log)

    def _javascript(
        self, block: Block, code: str, number: int, env: dict[str, str], log: Path
    ) -> None:
        node = shutil.which("node")
        if node is None or not NODE_MODULES.is_dir():
            self.notes.append(f"{block.where}: not run: node or .ci/node/node_modules missing")
            return
        link = self.workdir / "node_modules"
        if not link.exists():
            link.symlink_to(NODE_MODULES, target_is_directory=True)
        script = self.workdir / f".block-{number}.mjs"
        script.write_text(code, encoding="utf-8")
        try:
            self._process(block, [node, str(script)], env, log)
        finally:
            script.unlink()

    def _process(self, block: Block, argv: list[str], env: dict[str, str], log: Path) -> None:
        start = log.stat().st_size if log.exists() else 0
        with log.open("ab") as handle:
            try:
                done = subprocess.run(
                    argv,
                    cwd=self.workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    timeout=BLOCK_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise DocsError(
                    f"{block.where}: still running after {BLOCK_TIMEOUT_S:.0f}s"
                ) from None
        if done.returncode != 0:
            output = log.read_bytes()[start:].decode("utf-8", "replace")
            raise DocsError(
                f"{block.where}: {block.lang} block failed with status {done.returncode}\n"
                f"{block.code}\noutput:\n{output[-4000:]}"
            )


def markdown_files() -> Iterator[Path]:
    """README.md and every Markdown file under docs/."""
    yield REPO / "README.md"
    yield from sorted((REPO / "docs").rglob("*.md"))
