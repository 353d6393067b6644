"""Fold a run's post and patch into one post when a batch holds both (what traced code sends).

A ``@traceable`` call posts its run when it starts and patches it when it ends, and the patch
repeats most of the post (name, type, start, ids, dotted order, project, metadata). Both
usually reach the writer in the same batch; validating the patch and merging it field by field
then costs as much as the post itself. The SDK folds such pairs before it sends a batch to
LangSmith (``batch_ingest_runs``: the patch's values over the post's); this module does the
same, but only where the folded post is *exactly* what the two would have made in turn:

* the post is the batch's first op for the run and the patch its only other one;
* every field both carry is equal in both, or empty in the post (the ``{}``/``[]`` the field
  takes: a value that cannot be refused), so the folded run holds every value of each and is refused exactly when
  one of them would be (``normalize`` then falls back to the two ops: their own problems);
* ``extra`` is merged as ``merge.merge_extra`` merges it, and only when the keys both carry
  hold equal values; ``attachments`` are joined;
* no field whose reading depends on another (``address``, ``revision_id``, top-level
  ``metadata``, fields the store does not know) and one project name between the two.

The folded change remembers both ops: a run the store already holds (the upsert rules of a post
differ from a new run's) is merged from them in turn (``upsert.Ingestor``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_CONTEXTUAL = frozenset({"address", "revision_id", "metadata"})
"""Fields read together with others (the project, ``extra.metadata``): never folded."""

_PROJECT = ("session_name", "project_name")

Folded = tuple[str, Any, "tuple[Any, Any] | None"]
"""``(kind, run, (post, patch) or None)``: an op, or a folded pair as one post."""


def fold_pairs(
    ops: Sequence[tuple[str, Any]], known: frozenset[str], empties: frozenset[tuple[str, type]]
) -> list[Folded]:
    """``ops`` with each foldable post+patch pair as one post at the post's place.

    ``known``: the fields a run may carry (anything else keeps the pair apart); ``empties``:
    the (field, ``dict``/``list``) whose empty value a run may carry (``{}`` events is not one:
    it is refused, so a patch's events must not hide it)."""
    seen: dict[Any, list[int]] = {}
    for index, (_, raw) in enumerate(ops):
        if type(raw) is not dict:
            continue
        run_id = raw.get("id")
        if run_id is None:
            run_id = raw.get("run_id")
        if run_id is None or type(run_id) is not str:
            continue
        places = seen.get(run_id)
        if places is None:
            seen[run_id] = [index]
        else:
            places.append(index)
    out: list[Folded] = [(kind, raw, None) for kind, raw in ops]
    for places in seen.values():
        if len(places) != 2:
            continue
        first, second = places
        if ops[first][0] != "post" or ops[second][0] != "patch":
            continue
        post, patch = ops[first][1], ops[second][1]
        folded = fold(post, patch, known, empties)
        if folded is not None:
            out[first] = ("post", folded, (post, patch))
            out[second] = ("", None, None)  # taken into the post
    return [op for op in out if op[0]]


def fold(
    post: dict[str, Any],
    patch: dict[str, Any],
    known: frozenset[str],
    empties: frozenset[tuple[str, type]],
) -> dict[str, Any] | None:
    """The post with the patch folded in, or ``None`` where folding could change the outcome.

    Values are plain JSON values (parsed from JSON): two that are equal are each as valid as
    the other, and the patch's is the one kept, as merging the patch would keep it."""
    if not known.issuperset(post) or not known.issuperset(patch):
        return None
    for key in _CONTEXTUAL:
        if post.get(key) is not None or patch.get(key) is not None:
            return None
    try:
        projects = {post.get(key) for key in _PROJECT} | {patch.get(key) for key in _PROJECT}
    except TypeError:  # a name that is not text (refused or read apart)
        return None
    projects.discard(None)
    if len(projects) > 1:
        return None
    merged = dict(post)
    for key, value in patch.items():
        if value is None:
            continue
        mine = post.get(key)
        if mine is None or mine == value:
            merged[key] = value
        elif key == "extra":
            extra = _fold_extra(mine, value)
            if extra is None:
                return None
            merged[key] = extra
        elif key == "attachments":
            if type(value) is dict and not value:
                continue  # the post's files stay (a patch's {} adds none)
            if type(mine) is not dict or mine:
                return None
            merged[key] = value
        elif not mine and (key, type(mine)) in empties:
            merged[key] = value  # the post's empty value: the patch's replaces it
        else:
            return None
    return merged


def _fold_extra(mine: Any, theirs: Any) -> dict[str, Any] | None:
    """``merge.merge_extra(mine, theirs)`` when the keys both hold are equal (then the merge
    holds every value of each), else ``None``."""
    if type(mine) is not dict or type(theirs) is not dict:
        return None
    if not theirs:
        return mine  # a patch's empty extra adds nothing
    merged = dict(mine)
    for key, value in theirs.items():
        own = mine.get(key)
        if own is None or own == value:
            merged[key] = value
        elif key == "metadata" and type(value) is dict and type(own) is dict:
            for name, item in value.items():
                if name in own and own[name] != item:
                    return None
            merged[key] = {**own, **value}
        else:
            return None
    return merged
