"""pyKT's chunks, test windows and question-level sequences on small hand-made learners."""

from __future__ import annotations

from ktlab.data.pykt.sequences import chunk_sequences, question_sequences, window_sequences

FIELDS = ["questions", "concepts", "responses", "is_repeat"]


def learner(n: int, repeat: list[str] | None = None) -> dict:
    repeat = repeat or ["0"] * n
    return {
        "fold": -1,
        "uid": "0",
        "questions": [str(i) for i in range(n)],
        "concepts": [str(i % 3) for i in range(n)],
        "responses": ["1"] * n,
        "is_repeat": repeat,
    }


def test_chunks_drop_a_leftover_shorter_than_three_and_pad_a_longer_one() -> None:
    assert len(chunk_sequences([learner(11)], FIELDS, max_len=5)) == 2  # 5 + 5, leftover 1 dropped
    chunks = chunk_sequences([learner(13)], FIELDS, max_len=5)
    assert len(chunks) == 3
    assert chunks[-1]["selectmasks"] == ["1", "1", "1", "-1", "-1"]
    assert chunks[-1]["responses"] == ["1", "1", "1", "-1", "-1"]


def test_windows_score_every_answer_past_the_first_max_len_once() -> None:
    windows = window_sequences([learner(8)], FIELDS, max_len=5)
    assert len(windows) == 1 + 3
    assert windows[0]["selectmasks"] == ["1"] * 5
    assert windows[1]["questions"] == ["1", "2", "3", "4", "5"]
    assert all(w["selectmasks"] == ["-1"] * 4 + ["1"] for w in windows[1:])
    assert window_sequences([learner(4)], FIELDS, max_len=5)[0]["selectmasks"] == ["1"] * 4 + ["-1"]


def test_a_question_row_sees_the_earlier_questions_but_not_its_own_other_rows() -> None:
    # questions: q0 (one row), q1 (rows 1-2, two concepts), q2 (one row)
    one = learner(4, ["0", "0", "1", "0"])
    seqs = question_sequences([one], FIELDS, window=True, max_len=10)
    rows = [[int(q) for q in s["questions"] if q != "-1"] for s in seqs]
    masks = [s["selectmasks"][: len(r)] for s, r in zip(seqs, rows, strict=True)]
    assert rows == [[0, 1], [0, 2], [0, 1, 2, 3]]
    assert masks == [["-1", "1"], ["-1", "1"], ["-1", "-1", "-1", "1"]]
    assert seqs[0]["qidxs"][:2] == ["0", "1"] and seqs[1]["rest"][:2] == ["0", "0"]
    assert seqs[0]["rest"][:2] == ["0", "1"]  # row 1 of q1 has one more row of its question after it
