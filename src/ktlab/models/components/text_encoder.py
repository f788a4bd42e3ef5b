"""Networks of the question-text students: a Hugging Face encoder read per question, then a head.

Both take the batch of :mod:`ktlab.data.text.batching` (``Q`` distinct questions, ``B`` answers) and
return one success logit per answer ``[B]``:

* :class:`PerStudentNet` (``model=modernbert_per_student``): ``AutoModelForSequenceClassification`` with two
  labels (wrong, right), as the original notebook trained it for one student; the logit is
  ``logits[:, 1] - logits[:, 0]``, so its sigmoid is the softmax probability of "right".
* :class:`PooledNet` (``model=modernbert``): ``AutoModel`` encodes each distinct question of the batch
  once (mean of its last hidden states), however many students answered it; a learned embedding per
  student then meets the question through an item-response head,
  ``logit = <ability[s], discrimination(q)> + bias[s] - difficulty(q)``.

The encoder is built from a config (:func:`encoder_config`: a small ModernBERT with the tokenizer's
vocabulary and special-token ids, attention through ``sdpa``) or loaded with ``from_pretrained``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ktlab.checks import Checks, Problem, raise_problems
from ktlab.data.text.tokenizer import PretrainedModelError, offline_hint

log = logging.getLogger(__name__)

#: Keys of the small ModernBERT config that come from the tokenizer (``model_inputs()["dims"]``).
TOKEN_KEYS = ("pad_token_id", "cls_token_id", "sep_token_id", "bos_token_id", "eos_token_id")


def encoder_config(
    encoder: Mapping[str, Any], pretrained: str | None, dims: Mapping[str, Any]
) -> dict[str, Any]:
    """The Hugging Face config of the encoder as plain data (stored in the checkpoint).

    Args:
        encoder: ModernBERT settings (``hidden_size``, ``num_hidden_layers``...) for a model built from config.
        pretrained: a hub name or a local directory; its own config is used, ``encoder`` is ignored.
        dims: the tokenizer's ``vocab_size`` and special-token ids.

    Raises:
        PretrainedModelError: ``pretrained`` cannot be found.
    """
    from transformers import AutoConfig, ModernBertConfig

    if pretrained:
        try:
            config = AutoConfig.from_pretrained(pretrained)
        except (OSError, ValueError) as err:
            log.debug("AutoConfig.from_pretrained(%s) failed: %s", pretrained, err)
            raise PretrainedModelError(offline_hint(pretrained)) from None
    else:
        ids = {key: dims[key] for key in TOKEN_KEYS if key in dims}
        ids.setdefault("bos_token_id", dims.get("cls_token_id"))
        ids.setdefault("eos_token_id", dims.get("sep_token_id"))
        config = ModernBertConfig(**{**dict(encoder), "vocab_size": int(dims["vocab_size"]), **ids})
    config.id2label, config.label2id = {0: "wrong", 1: "right"}, {"wrong": 0, "right": 1}
    return json.loads(config.to_json_string())


def _config(stored: Mapping[str, Any]):
    from transformers import AutoConfig

    data = dict(stored)
    return AutoConfig.for_model(data.pop("model_type"), **data)


def _build(auto_class: Any, stored: Mapping[str, Any], pretrained: str | None) -> nn.Module:
    """``auto_class.from_pretrained`` (weights) or ``from_config`` (random init), attention via sdpa."""
    if pretrained:
        try:
            return auto_class.from_pretrained(pretrained, config=_config(stored), attn_implementation="sdpa")
        except OSError as err:
            log.debug("%s.from_pretrained(%s) failed: %s", auto_class.__name__, pretrained, err)
            raise PretrainedModelError(offline_hint(pretrained)) from None
    return auto_class.from_config(_config(stored), attn_implementation="sdpa")


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden [Q, L, H]`` over the unmasked positions: ``[Q, H]``."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)


class PerStudentNet(nn.Module):
    """One student's model: a sequence classifier over the question text (see the module docstring).

    It takes the settings of the pooled network too (``n_students``, ``student_dim``) and ignores them, so
    the two are swapped by ``model.net._target_`` alone.
    """

    #: Trains on one student's answers (``data.student_rank``).
    one_student = True

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.require(
            "pretrained", lambda v: isinstance(v, str) and v.strip(), "must name a hub model or a folder"
        )
        return checks.problems

    def __init__(self, hf_config: Mapping[str, Any], pretrained: str | None = None, **_: Any) -> None:
        super().__init__()
        from transformers import AutoModelForSequenceClassification

        self.model = _build(AutoModelForSequenceClassification, hf_config, pretrained)

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        logits = self.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).logits  # [Q, 2]
        return (logits[:, 1] - logits[:, 0]).float()[batch["question"]]  # [B]

    def export(self, directory: Path) -> None:
        self.model.save_pretrained(directory)


class PooledNet(nn.Module):
    """All students in one model: question encoder plus an item-response head with student embeddings.

    Args:
        hf_config: the encoder's config (:func:`encoder_config`).
        n_students: students known to the model; index 0 stands for an unknown student.
        student_dim: width of the student embedding and of the discrimination vector.
        pretrained: load the encoder's weights from here.
    """

    def __init__(self, hf_config: Mapping[str, Any], n_students: int, student_dim: int = 16,
                 pretrained: str | None = None, **_: Any) -> None:  # fmt: skip
        super().__init__()
        raise_problems("PooledNet", self.check_args({"n_students": n_students, "student_dim": student_dim}))
        from transformers import AutoModel

        self.encoder = _build(AutoModel, hf_config, pretrained)
        hidden = int(hf_config["hidden_size"])
        self.project = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU())
        self.discrimination = nn.Linear(hidden, student_dim)
        self.difficulty = nn.Linear(hidden, 1)
        self.ability = nn.Embedding(n_students + 1, student_dim)
        self.bias = nn.Embedding(n_students + 1, 1)
        nn.init.normal_(self.ability.weight, std=0.1)
        nn.init.zeros_(self.bias.weight)
        with torch.no_grad():  # the unknown student: no ability of its own
            self.ability.weight[0].zero_()

    @staticmethod
    def check_args(args: Mapping[str, Any]) -> list[Problem]:
        """The problems of the network's arguments (see :mod:`ktlab.checks`)."""
        checks = Checks(args)
        checks.integer("n_students", 0)
        checks.integer("student_dim", 1)
        return checks.problems

    def question_features(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        hidden = self.encoder(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).last_hidden_state
        return self.project(mean_pool(hidden, batch["attention_mask"]).float())  # [Q, H]

    def forward(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        z = self.question_features(batch)  # [Q, H]
        q, s = batch["question"], batch["student"]
        fit = (self.ability(s) * self.discrimination(z)[q]).sum(-1)  # [B]
        return fit + self.bias(s).squeeze(-1) - self.difficulty(z)[q].squeeze(-1)  # [B]

    def export(self, directory: Path) -> None:
        from safetensors.torch import save_file

        self.encoder.save_pretrained(directory)
        parts = {
            "project": self.project,
            "discrimination": self.discrimination,
            "difficulty": self.difficulty,
            "ability": self.ability,
            "bias": self.bias,
        }
        heads = {f"{name}.{key}": value.detach().cpu().contiguous() for name, part in parts.items()
                 for key, value in part.state_dict().items()}  # fmt: skip
        save_file(heads, str(directory / "student_heads.safetensors"))
