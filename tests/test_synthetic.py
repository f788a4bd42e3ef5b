"""The synthetic classroom: schema, determinism and the ZPDES-style difficulty rule."""

from __future__ import annotations

import numpy as np
import pytest

from ktlab.data.schema import DIFFICULTY_RANGE, validate_interactions
from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.errors import ConfigError


@pytest.fixture(scope="module")
def classroom():
    return generate_classroom(ClassroomConfig(n_students=200, seed=3))


def test_schema_sizes_and_oracle(classroom) -> None:
    validate_interactions(classroom, "synthetic")
    lengths = classroom.groupby("student_id").size()
    assert lengths.min() >= 50 and lengths.max() <= 100 and len(lengths) == 200
    assert classroom["skill_id"].nunique() == 5
    assert classroom["p_correct_true"].between(0, 1).all()
    assert 0.4 < classroom["correct"].mean() < 0.85


def test_same_seed_same_data_other_seed_other_data(classroom) -> None:
    again = generate_classroom(ClassroomConfig(n_students=200, seed=3))
    assert classroom.equals(again)
    other = generate_classroom(ClassroomConfig(n_students=200, seed=4))
    assert not classroom["correct"].equals(other["correct"])


def test_zpdes_rule_follows_streaks(classroom) -> None:
    """Replay each learner-skill sequence: difficulty moves by 0.1 exactly after the streak thresholds."""
    checked = 0
    for _, seq in classroom.groupby(["student_id", "skill_id"], sort=False):
        d = seq["difficulty"].to_numpy()
        correct = seq["correct"].to_numpy()
        adjustment = seq["adjustment"].to_numpy()
        assert d[0] == pytest.approx(0.5) and adjustment[0] == 0
        fails = wins = 0
        for i in range(1, len(seq)):
            wins = wins + 1 if correct[i - 1] else 0
            fails = 0 if correct[i - 1] else fails + 1
            expected = d[i - 1]
            if fails > 2:
                expected, fails = max(DIFFICULTY_RANGE[0], d[i - 1] - 0.1), 0
            elif wins > 3:
                expected, wins = min(DIFFICULTY_RANGE[1], d[i - 1] + 0.1), 0
            assert d[i] == pytest.approx(expected), (seq["student_id"].iloc[0], i)
            assert adjustment[i] == int(np.sign(round(d[i] - d[i - 1], 6)))
            checked += 1
    assert checked > 10_000


def test_success_depends_on_difficulty_and_anxiety(classroom) -> None:
    # Same learners, difficulty held fixed (no streak ever long enough to adjust it): easy beats hard.
    fixed = {"n_students": 200, "seed": 3, "fail_streak": 10_000, "success_streak": 10_000}
    easy = generate_classroom(ClassroomConfig(start_difficulty=0.3, **fixed))
    hard = generate_classroom(ClassroomConfig(start_difficulty=0.8, **fixed))
    assert (easy["adjustment"] == 0).all()
    assert easy["p_correct_true"].mean() > hard["p_correct_true"].mean() + 0.2
    anxious = classroom[classroom["anxiety_level"] > 0.6]["correct"].mean()
    calm = classroom[classroom["anxiety_level"] < 0.2]["correct"].mean()
    assert calm > anxious


def test_bad_parameters_are_all_reported() -> None:
    with pytest.raises(ConfigError, match=r"n_students=0: must be >= 1.*min_len=9: must be <= max_len=3"):
        generate_classroom(ClassroomConfig(n_students=0, min_len=9, max_len=3))


def test_the_config_check_names_the_generators_keys_before_anything_runs(make_cfg) -> None:
    from ktlab.config_checks import check_config

    cfg = make_cfg("train", "data.source.n_students=0", "+data.source.block_len=[5,2]")
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    assert "data.source.n_students=0: must be >= 1" in str(err.value)
    assert "data.source.block_len=[5, 2]: must be two integers [low, high]" in str(err.value)
