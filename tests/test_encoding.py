"""Encoder, windows, batching, and the no-leakage property of the recurrent tracer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ktlab.data.batching import LengthBucketBatchSampler, RandomCutBatchSampler, WindowDataset
from ktlab.data.encoding import (
    InteractionEncoder,
    last_windows,
    make_windows,
    max_random_windows,
    random_windows,
)
from ktlab.data.schema import TEMPLATE_SIGNALS, validate_interactions
from ktlab.data.synthetic import ClassroomConfig, generate_classroom
from ktlab.models.components.recurrent import RecurrentTracer

QUERY = ["difficulty", "adjustment", "phase_type"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return validate_interactions(
        generate_classroom(ClassroomConfig(n_students=40, min_len=5, max_len=25)), "s"
    )


def test_transform_sorts_and_standardizes(frame: pd.DataFrame) -> None:
    shuffled = frame.sample(frac=1.0, random_state=0)
    encoder = InteractionEncoder(TEMPLATE_SIGNALS, QUERY).fit(shuffled)
    encoded = encoder.transform(shuffled)
    assert len(encoded) == len(frame)
    for i in range(len(encoded.student_ids)):
        steps = encoded.t[encoded.offsets[i] : encoded.offsets[i + 1]]
        assert np.all(np.diff(steps) > 0)
    np.testing.assert_allclose(encoded.fields["context"].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(encoded.fields["context"].std(axis=0), 1.0, atol=1e-3)
    assert encoded.fields["skill"].min() >= 1 and encoded.fields["phase"].min() >= 1


def test_unseen_skill_and_phase_map_to_zero(frame: pd.DataFrame) -> None:
    encoder = InteractionEncoder(TEMPLATE_SIGNALS, QUERY).fit(frame[frame["skill_id"] != "4"])
    encoded = encoder.transform(frame)
    assert (encoded.fields["skill"] == 0).sum() == (frame["skill_id"] == "4").sum()
    # A phase absent from the training rows maps to id 0 (a zero one-hot), the others keep their ids.
    seen = frame[frame["phase_type"] != "defi"]
    encoder = InteractionEncoder(TEMPLATE_SIGNALS, QUERY).fit(seen)
    assert "defi" not in encoder.vocab["phase_type"]
    order = np.lexsort((frame["t"].to_numpy(), pd.factorize(frame["student_id"])[0]))
    phases = frame["phase_type"].to_numpy()[order]
    encoded = encoder.transform(frame)
    assert (phases == "defi").any()
    np.testing.assert_array_equal(encoded.fields["phase"] == 0, phases == "defi")


def test_state_dict_round_trip(frame: pd.DataFrame) -> None:
    encoder = InteractionEncoder(TEMPLATE_SIGNALS, QUERY).fit(frame)
    clone = InteractionEncoder.from_state_dict(encoder.state_dict())
    a, b = encoder.transform(frame), clone.transform(frame)
    np.testing.assert_array_equal(a.fields["context"], b.fields["context"])
    assert clone.dims == encoder.dims


def test_empty_table_encodes_to_no_learner(frame: pd.DataFrame) -> None:
    encoder = InteractionEncoder(TEMPLATE_SIGNALS, QUERY).fit(frame)
    encoded = encoder.transform(frame.iloc[:0])
    assert encoded.offsets.tolist() == [0] and len(encoded.student_ids) == 0
    assert encoded.fields["context"].shape == (0, encoder.dims["context_dim"])
    assert [len(a) for a in make_windows(encoded.offsets, max_len=10)] == [0, 0]


def test_windows_cover_every_step() -> None:
    offsets = np.array([0, 5, 5 + 23, 5 + 23 + 11])
    starts, lengths = make_windows(offsets, max_len=10, min_len=2)
    # 5 -> [5]; 23 -> [10, 10, 3]; 11 -> [10, 1 dropped]
    assert lengths.tolist() == [5, 10, 10, 3, 10]
    assert starts.tolist() == [0, 5, 15, 25, 28]
    s, n = last_windows(offsets, max_len=10)
    assert n.tolist() == [5, 10, 10] and (s + n).tolist() == offsets[1:].tolist()


def test_random_cuts_cover_every_step_once_and_move_every_epoch() -> None:
    offsets = np.array([0, 5, 5 + 23, 5 + 23 + 11, 5 + 23 + 11 + 40])
    rng = np.random.default_rng(0)
    seen_first = set()
    for _ in range(200):
        starts, lengths = random_windows(offsets, max_len=10, rng=rng)
        covered = np.zeros(offsets[-1], dtype=int)
        for a, n in zip(starts, lengths, strict=True):
            covered[a : a + n] += 1
            assert np.searchsorted(offsets, a, "right") == np.searchsorted(offsets, a + n - 1, "right")
        assert covered.max() == 1 and covered[:5].min() == 1  # no step twice; the short learner whole
        assert lengths.min() >= 2 and lengths.max() <= 10
        assert len(starts) <= max_random_windows(offsets, max_len=10)
        seen_first.add(int(lengths[1]))  # the first window of the 23-step learner
    assert seen_first == set(range(2, 11))  # every first length (1 is dropped: it scores nothing)
    assert max_random_windows(offsets, max_len=10) == 1 + 4 + 3 + 5


def test_random_cut_batches_are_the_same_on_every_rank_and_differ_by_epoch() -> None:
    offsets = np.r_[0, np.cumsum(np.random.default_rng(1).integers(3, 90, size=40))]
    ranks = [RandomCutBatchSampler(offsets, 20, 4, seed=3, num_replicas=2, rank=r) for r in (0, 1)]
    first = [list(r) for r in ranks]
    assert len(first[0]) == len(first[1]) == len(ranks[0])
    windows = [set(w for batch in f for w in batch) for f in first]
    assert not windows[0] & windows[1]  # the two ranks split one set of windows
    second = list(ranks[0])
    assert second != first[0]
    again = RandomCutBatchSampler(offsets, 20, 4, seed=3, num_replicas=2, rank=0)
    again.set_epoch(1)
    assert list(again) == second
    single = RandomCutBatchSampler(offsets, 20, 4, seed=3)
    for epoch in range(5):  # one process: every window of the epoch's cuts, in exactly len() batches
        single.set_epoch(epoch)
        batches = list(single)
        starts, lengths = random_windows(offsets, 20, np.random.default_rng([3, epoch]))
        assert len(batches) == len(single) and all(0 < len(b) <= 4 for b in batches)
        assert sorted(w for b in batches for w in b) == sorted(
            zip(starts.tolist(), lengths.tolist(), strict=True)
        )


def test_bucketing_sampler_partitions_and_shards() -> None:
    lengths = np.random.default_rng(0).integers(2, 50, size=103)
    sampler = LengthBucketBatchSampler(lengths, batch_size=8, shuffle=True, seed=1, bucket_batches=3)
    seen = sorted(i for batch in sampler for i in batch)
    assert seen == list(range(103))
    ranks = [LengthBucketBatchSampler(lengths, 8, True, 1, 3, num_replicas=2, rank=r) for r in (0, 1)]
    a, b = (list(r) for r in ranks)
    assert len(a) == len(b) == len(ranks[0])
    assert not {i for x in a for i in x} & {i for x in b for i in x}
    evaluation = [LengthBucketBatchSampler(lengths, 8, False, num_replicas=2, rank=r) for r in (0, 1)]
    assert sorted(i for s in evaluation for batch in s for i in batch) == list(range(103))


def test_training_order_changes_every_epoch_and_is_reproducible() -> None:
    lengths = np.random.default_rng(0).integers(2, 50, size=64)
    sampler = LengthBucketBatchSampler(lengths, batch_size=8, shuffle=True, seed=1, bucket_batches=2)
    first, second = list(sampler), list(sampler)
    assert first != second
    again = LengthBucketBatchSampler(lengths, batch_size=8, shuffle=True, seed=1, bucket_batches=2)
    assert list(again) == first
    again.set_epoch(1)  # a resumed run starts at its checkpoint's epoch
    assert list(again) == second
    fixed = LengthBucketBatchSampler(lengths, batch_size=8, shuffle=False)
    assert list(fixed) == list(fixed)


def test_collated_batch_is_padded_and_masked(frame: pd.DataFrame) -> None:
    encoder = InteractionEncoder(TEMPLATE_SIGNALS, QUERY).fit(frame)
    encoded = encoder.transform(frame)
    starts, lengths = make_windows(encoded.offsets, max_len=12)
    dataset = WindowDataset(encoded, starts, lengths)
    batch = dataset.collator()([0, 1, 2])
    assert batch["skill"].shape == (3, int(lengths[:3].max()))
    assert batch["mask"].sum().item() == int(lengths[:3].sum())
    assert (batch["skill"][~batch["mask"]] == 0).all()
    first = batch["correct"][0, : lengths[0]].numpy()
    np.testing.assert_array_equal(first, encoded.fields["correct"][starts[0] : starts[0] + lengths[0]])


def test_prediction_at_t_never_sees_the_answer_at_t(frame: pd.DataFrame) -> None:
    """Changing what is measured at step t (answer, time, affect) leaves logits <= t untouched, and
    changing the known-before query of step t changes only logit t."""
    torch.manual_seed(0)
    encoder = InteractionEncoder(TEMPLATE_SIGNALS, QUERY).fit(frame)
    encoded = encoder.transform(frame)
    starts, lengths = make_windows(encoded.offsets, max_len=20)
    batch = WindowDataset(encoded, starts, lengths).collator()([0, 1])
    dims = {key: value for key, value in encoder.dims.items() if key != "n_problems"}
    net = RecurrentTracer(**dims, hidden_dim=16, embed_dim=8, head_dim=8, dropout=0.0).eval()
    base = net(batch)
    t = 6
    changed = {k: v.clone() for k, v in batch.items()}
    changed["correct"][:, t] = 1 - changed["correct"][:, t]
    changed["context"][:, t] += 3.0
    after = net(changed)
    torch.testing.assert_close(after[:, : t + 1], base[:, : t + 1])
    assert not torch.allclose(after[:, t + 1 :], base[:, t + 1 :])
    queried = {k: v.clone() for k, v in batch.items()}
    queried["query"][:, t] += 2.0
    after = net(queried)
    torch.testing.assert_close(after[:, :t], base[:, :t])
    torch.testing.assert_close(after[:, t + 1 :], base[:, t + 1 :])
    assert not torch.allclose(after[:, t], base[:, t])
