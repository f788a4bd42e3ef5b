"""The prompt template, and the tokenizer's training, reload from its state and token cache."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ktlab.data.text.bank import GeneratedBank
from ktlab.data.text.template import PromptTemplate
from ktlab.data.text.tokenizer import encode_texts, hf_tokenizer, load_tokenizer, special_ids, train_tokenizer
from ktlab.errors import ConfigError


@pytest.fixture(scope="module")
def questions() -> pd.DataFrame:
    return GeneratedBank(n_questions=40, seed=1).questions()


def test_default_template_shows_labels_question_and_lettered_options() -> None:
    row = pd.DataFrame([{"question_title": "What is 2 + 2?", "option_a": "3", "option_b": "4", "option_c": "5",
                         "option_d": "22", "option_e": "", "topic_name": "Adding", "subject_name": "Arithmetic",
                         "axis_name": "Number"}])  # fmt: skip
    assert PromptTemplate().render(row) == [
        "Topic: Adding\nSubject: Arithmetic\nAxis: Number\nQuestion: What is 2 + 2?\nA) 3\nB) 4\nC) 5\nD) 22"
    ]
    custom = PromptTemplate("{question_title} [{options}]", option_format="({letter}) {text}")
    assert custom.render(row) == ["What is 2 + 2? [(A) 3\n(B) 4\n(C) 5\n(D) 22]"]


def test_a_template_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"data.template=.*field \{difficulty\} is not one of"):
        PromptTemplate("{question_title} {difficulty}")


def test_tokenizer_trains_reloads_from_its_state_and_splits_digits(questions, tmp_path: Path) -> None:
    texts = PromptTemplate().render(questions)
    state = train_tokenizer(texts, vocab_size=300)
    tokenizer = load_tokenizer(state)
    encoded = tokenizer.encode("What is 4071 + 5?")
    assert encoded.tokens[0] == "[CLS]" and encoded.tokens[-1] == "[SEP]"
    assert encoded.tokens[3:7] == ["4", "0", "7", "1"]  # one token per digit: a number's size shows
    ids = special_ids(state)
    assert ids["pad_token_id"] == 0 and encoded.ids[0] == ids["cls_token_id"]
    reloaded = load_tokenizer({"json": tokenizer.to_str(), "special_tokens": state["special_tokens"]})
    assert reloaded.encode(texts[3]).ids == tokenizer.encode(texts[3]).ids
    fast = hf_tokenizer(state)
    fast.save_pretrained(tmp_path / "tok")
    from transformers import AutoTokenizer

    assert (
        AutoTokenizer.from_pretrained(tmp_path / "tok")(texts[3])["input_ids"]
        == tokenizer.encode(texts[3]).ids
    )


def test_each_text_is_encoded_once_and_cached(questions, tmp_path: Path) -> None:
    texts = PromptTemplate().render(questions)
    state = train_tokenizer(texts, vocab_size=300)
    ids, offsets = encode_texts(state, texts, max_length=24, cache_dir=tmp_path, template="t")
    (cached,) = tmp_path.glob("tokens_*.npz")
    assert len(offsets) == len(texts) + 1 and (offsets[1:] - offsets[:-1]).max() <= 24
    stamp = cached.stat().st_mtime_ns
    again, _ = encode_texts(state, texts, max_length=24, cache_dir=tmp_path, template="t")
    assert cached.stat().st_mtime_ns == stamp and (again == ids).all()
    encode_texts(state, texts, max_length=24, cache_dir=tmp_path, template="another template")
    assert len(list(tmp_path.glob("tokens_*.npz"))) == 2  # keyed by the template too


def test_a_damaged_token_cache_is_rebuilt_with_a_warning(questions, tmp_path: Path, caplog) -> None:
    import numpy as np

    texts = PromptTemplate().render(questions)
    state = train_tokenizer(texts, vocab_size=300)
    ids, offsets = encode_texts(state, texts, max_length=24, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("tokens_*.npz")
    whole = cached.read_bytes()
    for damaged in (whole[: len(whole) // 2], b"", np.zeros(3).tobytes()):  # truncated, empty, overwritten
        cached.write_bytes(damaged)
        caplog.clear()
        again, again_offsets = encode_texts(state, texts, max_length=24, cache_dir=tmp_path)
        assert (again == ids).all() and (again_offsets == offsets).all()
        assert f"{cached}: damaged token cache" in caplog.text and "rebuilding it" in caplog.text
        with np.load(cached) as rebuilt:  # written anew, whole
            assert (rebuilt["ids"] == ids).all() and (rebuilt["offsets"] == offsets).all()
    np.savez(cached, ids=ids[:-1], offsets=offsets)  # readable, but not these texts' tokens
    again, _ = encode_texts(state, texts, max_length=24, cache_dir=tmp_path)
    assert (again == ids).all() and "do not fit the texts" in caplog.text
