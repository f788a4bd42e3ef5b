"""pyKT's preprocessing and learner split.

From the learners of a ``data.txt`` (file order):

1. a question tagged with ``k`` concepts becomes ``k`` consecutive rows; ``is_repeat`` is 0 on the
   first and 1 on the others (only when the data has both question and concept ids);
2. question ids, concept ids and learner ids are renumbered from 0 in order of first appearance
   (``keyid2idx.json``);
3. the learners are shuffled with numpy's ``RandomState(1024)`` (pandas' ``sample(frac=1.0,
   random_state=1024)``, which pyKT calls, draws that permutation); the last ``int(n * 0.2)`` are the test
   learners; the others are shuffled again the same way and cut into ``k`` contiguous folds, the first
   ``n mod k`` folds one learner larger.

A table here is a list of learner dicts: ``fold``, ``uid`` and one list of values (str) per field.
"""

from __future__ import annotations

import numpy as np

from ktlab.data.pykt.lines import LearnerRecords

#: The seed pyKT shuffles learners with.
PYKT_SEED = 1024
#: Every column of pyKT's files, in the order pyKT writes them.
ALL_KEYS: tuple[str, ...] = (
    "fold",
    "uid",
    "questions",
    "concepts",
    "responses",
    "timestamps",
    "usetimes",
    "selectmasks",
    "is_repeat",
    "qidxs",
    "rest",
    "orirow",
    "cidxs",
)
#: Columns holding one value per learner rather than one per row.
ONE_KEYS: tuple[str, ...] = ("fold", "uid")

Table = list[dict]


def max_concepts(records: LearnerRecords) -> int:
    """The most concepts one answer is tagged with (-1 without concepts), as ``keyid2idx.json`` stores it."""
    if "concepts" not in records.fields:
        return -1
    return max(
        (tags.count("_") + 1 for learner in records.learners for tags in learner["concepts"]), default=1
    )


def expand_concepts(records: LearnerRecords) -> tuple[Table, list[str]]:
    """One row per concept of each answer, with ``is_repeat`` (see the module docstring).

    Returns:
        The learners and the per-row fields they hold (``is_repeat`` added when expanded).
    """
    fields = list(records.fields)
    expand = "questions" in fields and "concepts" in fields
    table: Table = []
    for learner in records.learners:
        row: dict = {"uid": learner["uid"]}
        if not expand:
            row.update({name: list(learner[name]) for name in fields})
            table.append(row)
            continue
        out: dict[str, list[str]] = {name: [] for name in fields}
        repeat: list[str] = []
        for i, tags in enumerate(learner["concepts"]):
            concepts = tags.split("_")
            out["concepts"].extend(concepts)
            for name in fields:
                if name != "concepts":
                    out[name].extend([learner[name][i]] * len(concepts))
            repeat.extend(["0"] + ["1"] * (len(concepts) - 1))
        row.update(out)
        row["is_repeat"] = repeat
        table.append(row)
    return table, fields + (["is_repeat"] if expand else [])


def renumber(table: Table, joined: bool = False) -> dict[str, dict[str, int]]:
    """Renumber questions, concepts and learners from 0 in order of first appearance, in place.

    Learner by learner, questions then concepts then the learner id, as pyKT walks them. With ``joined``,
    values are ``_``-joined concept lists (question-level files) and each concept is renumbered.

    Returns:
        The mappings, ``{"questions": {raw: idx}, "concepts": ..., "uid": ...}`` (those present).
    """
    mapping: dict[str, dict[str, int]] = {}
    for learner in table:
        for key in ("questions", "concepts", "uid"):
            if key not in learner:
                continue
            ids = mapping.setdefault(key, {})
            values = [learner[key]] if key == "uid" else learner[key]
            renamed = []
            for value in values:
                parts = value.split("_") if joined else [value]
                for part in parts:
                    if part not in ids:
                        ids[part] = len(ids)
                renamed.append("_".join(str(ids[part]) for part in parts))
            learner[key] = renamed[0] if key == "uid" else renamed
    return mapping


def pykt_shuffle(n: int, seed: int = PYKT_SEED) -> np.ndarray:
    """The order pandas' ``sample(frac=1.0, random_state=seed)`` puts ``n`` rows in."""
    return np.random.RandomState(seed).permutation(n)


def split_learners(table: Table, n_folds: int = 5, test_ratio: float = 0.2) -> tuple[Table, Table]:
    """pyKT's test split and folds (see the module docstring).

    Returns:
        ``(train_valid, test)``: the training learners in fold order, each with ``fold`` (0..k-1), and the
        test learners in their shuffled order, each with ``fold`` -1.
    """
    shuffled = [table[i] for i in pykt_shuffle(len(table))]
    n = len(shuffled)
    n_test = int(n * test_ratio)  # pyKT's float expression, kept for identical rounding
    train, test = shuffled[: n - n_test], shuffled[n - n_test :]
    train = [train[i] for i in pykt_shuffle(len(train))]
    size = int(len(train) * (1 / n_folds))
    extra = len(train) % n_folds
    folds: list[int] = []
    for fold in range(n_folds):
        width = size + (1 if fold < extra else 0)
        folds.extend([fold] * width)
    train_valid = [{"fold": fold, **learner} for fold, learner in zip(folds, train, strict=True)]
    test = [{"fold": -1, **learner} for learner in test]
    return train_valid, test


def add_cidxs(test: Table) -> None:
    """Number every row of the test learners in order (``cidxs``), in place."""
    start = 0
    for learner in test:
        n = len(learner["responses"])
        learner["cidxs"] = [str(i) for i in range(start, start + n)]
        start += n
