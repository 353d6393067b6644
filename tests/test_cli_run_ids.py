"""A part of a run id names the one run whose id holds it (``localtrace run …5dcc9276``):
found by ``Client.find_run_ids``, checked here against every id read back as a string."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import localtrace
from localtrace.cli import main
from runs_factory import make_run

STARTS = "5dcc9276-0000-4000-8000-000000000001"
ENDS = "11111111-2222-4333-8444-00005dcc9276"
"""One id starts with what another ends with: the part names both."""
FIXED = [
    STARTS,
    ENDS,
    "abcdef01-2345-4678-9abc-def012345678",
    "abcdef02-2345-4678-9abc-def012345678",
    "0f0f0f0f-1234-4abc-8def-feedfacecafe",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    path = tmp_path_factory.mktemp("ids") / "ids.db"
    ids = FIXED + [
        str(uuid.UUID(int=n * 0x9E3779B97F4A7C15F39CC0605CEDC835 % 2**128)) for n in range(1, 60)
    ]
    with localtrace.Client(path) as client:
        client.batch_ingest_runs(create=[make_run(f"r{i}", id=rid) for i, rid in enumerate(ids)])
        client.flush()
    yield path, ids


def oracle(ids: list[str], part: str) -> list[str]:
    """The ids that hold ``part``: those starting with it first, each group in id order."""
    held = sorted(i for i in ids if part in i)
    return [i for i in held if i.startswith(part)] + [i for i in held if not i.startswith(part)]


@given(data=st.data())
def test_every_part_finds_the_ids_that_hold_it(
    store: tuple[Path, list[str]], data: st.DataObject
) -> None:
    path, ids = store
    rid = data.draw(st.sampled_from(ids))
    start = data.draw(st.integers(0, len(rid) - 4))
    part = rid[start : data.draw(st.integers(start + 4, len(rid)))]
    part = data.draw(st.sampled_from([part, part.upper()]))
    with localtrace.Client(path) as client:
        found = client.find_run_ids(part, limit=100)
    assert [str(i) for i in found] == oracle(ids, part.lower())


def test_the_limit_keeps_the_ids_that_start_with_the_part_first(
    store: tuple[Path, list[str]],
) -> None:
    path, _ = store
    with localtrace.Client(path) as client:
        assert client.find_run_ids("5dcc9276", limit=1) == [uuid.UUID(STARTS)]
        assert client.find_run_ids("5dcc9276") == [uuid.UUID(STARTS), uuid.UUID(ENDS)]
        assert client.find_run_ids("ffff0000ffff") == []


@pytest.mark.parametrize("part", ["", "xyz", "5dcc 9276", "'; DROP TABLE runs; --"])
def test_a_part_that_is_no_part_of_an_id_is_refused(
    store: tuple[Path, list[str]], part: str
) -> None:
    path, _ = store
    with localtrace.Client(path) as client, pytest.raises(localtrace.InvalidArgumentError) as error:
        client.find_run_ids(part)
    assert error.value.argument == "part" and "hex digits" in str(error.value)


def cli(path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(path), *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["run", "trace"])
@pytest.mark.parametrize(
    ("part", "rid"),
    [
        ("…feedfacecafe", "0f0f0f0f-1234-4abc-8def-feedfacecafe"),  # an end, as listed
        ("0F0F0F0F", "0f0f0f0f-1234-4abc-8def-feedfacecafe"),  # a start, any case
        ("4abc-8def", "0f0f0f0f-1234-4abc-8def-feedfacecafe"),  # a middle, with its dash
        ("abcdef01", "abcdef01-2345-4678-9abc-def012345678"),
    ],
)
def test_a_unique_part_shows_its_run(
    store: tuple[Path, list[str]], command: str, part: str, rid: str
) -> None:
    path, _ = store
    code, out, err = cli(path, command, part, "--format", "json")
    assert code == 0, err
    assert rid in out


@pytest.mark.parametrize("command", ["run", "trace"])
def test_a_part_two_ids_hold_names_both(store: tuple[Path, list[str]], command: str) -> None:
    path, _ = store
    for part in ("5dcc9276", "abcdef0"):
        code, out, err = cli(path, command, part)
        assert code == 2 and out == ""
        assert f"'{part}': is part of several run ids" in err and "more characters" in err
        assert sum(rid in err for rid in FIXED) == 2, err
        assert "Traceback" not in err


@pytest.mark.parametrize("command", ["run", "trace"])
def test_a_part_no_id_holds_says_so(store: tuple[Path, list[str]], command: str) -> None:
    path, _ = store
    code, out, err = cli(path, command, "ffff0000ffff")
    assert code == 2 and out == ""
    assert "no run id contains 'ffff0000ffff'" in err and "localtrace runs" in err


def test_the_async_client_finds_them_too(store: tuple[Path, list[str]]) -> None:
    import asyncio

    from localtrace.aio import AsyncClient

    path, _ = store

    async def find() -> list[uuid.UUID]:
        async with AsyncClient(path) as client:
            return await client.find_run_ids("feedfacecafe")

    assert asyncio.run(find()) == [uuid.UUID("0f0f0f0f-1234-4abc-8def-feedfacecafe")]
