"""Every code block in README.md and docs/ runs as written (rules: docs/writing-docs.md).

One test per Markdown file; each runs its blocks in order in a fresh directory, with servers
started, checked and stopped as the rules say. ``pytest tests/test_docs.py -k server`` runs one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from docs_runner import REPO, Block, DocsError, FileRun, extract, markdown_files, runnable

FILES = list(markdown_files())


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(REPO)) for p in FILES])
def test_markdown_code_blocks_run_as_written(path: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "doc"
    scratch = tmp_path / "runner"
    workdir.mkdir()
    scratch.mkdir()
    run = FileRun(path, workdir, scratch)
    run.run()
    for note in run.notes:
        print(note)


@pytest.fixture
def page(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a Markdown page into a temporary folder; returns its runner (a fresh directory)."""
    made = iter(range(1000))

    def make(text: str) -> FileRun:
        n = next(made)
        path = tmp_path / f"page{n}.md"
        path.write_text(text, encoding="utf-8")
        workdir, scratch = tmp_path / f"doc{n}", tmp_path / f"runner{n}"
        workdir.mkdir()
        scratch.mkdir()
        return FileRun(path, workdir, scratch)

    return make


def test_python_blocks_share_a_namespace_and_files_carry_over(page) -> None:  # type: ignore[no-untyped-def]
    run = page(
        "```python\nanswer = 6 * 7\nopen('out.txt', 'w').write(str(answer))\n```\n\n"
        '```bash\ntest "$(cat out.txt)" = 42\n```\n\n'
        "```python\nassert answer == 42\n```\n"
    )
    run.run()


def test_a_failing_block_fails_the_file_and_says_where(page) -> None:  # type: ignore[no-untyped-def]
    run = page("text\n\n```bash\ntrue\nfalse\necho never\n```\n")
    with pytest.raises(DocsError, match=r"\.md:3: bash block failed with status 1"):
        run.run()
    run = page("```python\nraise SystemExit(3)\n```\n")
    with pytest.raises(DocsError, match="python block failed"):
        run.run()


def test_unlabelled_fence_and_empty_skip_reason_are_errors(page) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocsError, match="label this block"):
        page("```\nls\n```\n").run()
    with pytest.raises(DocsError, match="needs a reason"):
        page("<!-- docs: skip -->\n```bash\ncurl https://example.com\n```\n").run()


def test_skip_is_only_for_blocks_that_leave_the_machine(page) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocsError, match="make it run offline"):
        page("<!-- docs: skip: slow -->\n```bash\nlocaltrace demo\n```\n").run()
    # a real remote destination may be skipped (and is not run)
    page(
        "<!-- docs: skip: pushes to LangSmith -->\n"
        "```bash\ncurl -sf https://api.smith.langchain.com/info && false\n```\n"
    ).run()


def test_file_blocks_are_written_and_pip_and_ci_commands_are_checked_not_run(page) -> None:  # type: ignore[no-untyped-def]
    page(
        "```python\n# helper.py\nVALUE = 'from a file'\n```\n\n"
        "```bash\npip install \".[server]\" && python -c 'import helper; print(helper.VALUE)'\n"
        "python -m pytest -n 2\n```\n"
    ).run()
    with pytest.raises(DocsError, match="extra 'nonsense'"):
        page('```bash\npip install "localtrace[nonsense]"\n```\n').run()


def test_environment_is_a_fresh_users_and_offline(page, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    page(
        "```python\nimport os\nassert 'LANGSMITH_TRACING' not in os.environ\n"
        "assert os.environ['HTTPS_PROXY'].startswith('http://127.0.0.1')\n```\n"
    ).run()


def test_a_server_line_runs_in_the_background_until_the_file_ends(page) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("uvicorn")
    run = page(
        "```bash\nlocaltrace serve --db traces.db\n```\n\n"
        "```python\nimport urllib.request\n"
        "opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
        "assert opener.open('http://127.0.0.1:1984/info').status == 200\n```\n"
    )
    run.run()  # the port was replaced in both blocks; the server stopped with status 0


def test_every_markdown_file_is_covered_and_parses() -> None:
    names = {p.relative_to(REPO).as_posix() for p in FILES}
    assert "README.md" in names and "docs/server.md" in names
    for path in FILES:
        blocks: list[Block] = runnable(extract(path))
        assert all(b.lang in {"python", "bash", "javascript"} for b in blocks)
