"""pyKT's evaluation: its protocol for training and validation, and its 20 test metrics.

* :class:`PyktProtocol`: the rows pyKT scores in a sequence, its ``selectmasks`` (the batch's ``select``)
  past the first position. On multi-concept data that is every concept row of a question, each predicted
  from the rows before it, the question's earlier concept rows (and so its answer) included.
* :func:`pykt_test_metrics`: ``testauc``/``testacc`` on ``test_sequences``, ``window_testauc``/
  ``window_testacc`` on ``test_window_sequences`` (one window per answer past the first ``max_len``), and
  on data with question ids the question-level metrics with late fusion: on
  ``test_question_sequences`` (``ori``) and ``test_question_window_sequences`` (``window``), every concept
  row of a question is predicted from the earlier questions plus that row (``{ori,window}{auc,acc}concepts``),
  then the predictions of a question's rows are fused into one (``late_mean``: their mean rounded to 4
  decimals; ``late_vote``: the mean of those on the majority side of 0.5, ties going to >= 0.5;
  ``late_all``: the mean of those >= 0.5 when all are, else of those below).

As pyKT does: probabilities are float32, acc thresholds at 0.5 (>= counts as right), AUC is
scikit-learn's, a question's rows are fused in the reverse order of their sequences, and the rows of
the questions after the last sequence whose selected rows all end a question are left out of the fusion
(only the chunked ``ori`` sequences can leave such rows: a question whose last row fell in a dropped
leftover chunk).

Early fusion, for a network exposing what its output layer reads at each row (``row_features(batch)``
``[B, T, H]`` and ``row_logits(features)``, the output layer; SAKT, AKT, DKVMN, simpleKT and sparseKT
do): the features of a question's fused rows are averaged (float64, then float32, as pyKT does) and
passed through the output layer once (``{ori,window}{auc,acc}early_preds``). Networks without them get no early-fusion keys, as pyKT's DKT.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from typing import Protocol as TypingProtocol

import numpy as np
import torch

from ktlab.evaluation.metrics import defined_auc
from ktlab.evaluation.protocols import Protocol

#: pyKT's names of the test metrics (without the ``test/`` prefix ktlab writes them under).
SKILL_KEYS = ("testauc", "testacc", "window_testauc", "window_testacc")
FUSIONS = ("late_mean", "late_vote", "late_all")
#: pyKT's name of the early fusion's predictions (its metric keys: ``{ori,window}{auc,acc}early_preds``).
EARLY = "early_preds"
QUESTION_KEYS = tuple(
    f"{view}{metric}{kind}"
    for view in ("ori", "window")
    for metric in ("auc", "acc")
    for kind in ("concepts", *FUSIONS)
)


class PyktProtocol(Protocol):
    """pyKT's scored rows: ``select`` (its ``selectmasks``) on real rows past the first position."""

    name = "pykt"

    def scored(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        scored = batch["mask"] & batch["select"]
        scored[:, 0] = False
        return scored


class SequenceSource(TypingProtocol):
    """What the evaluation reads from a DataModule (:class:`ktlab.data.pykt.datamodule.PyktDataModule`)."""

    sets: dict[str, Any]

    def sequence_loader(self, name: str, batch_size: int | None = None) -> Any: ...


def probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Success probabilities as float32, from logits of any precision (float64 logits keep every bit)."""
    return torch.sigmoid(logits.detach().double()).float()


def row_head(model: torch.nn.Module) -> Any:
    """The network of ``model`` (``model.net`` or itself) when it exposes ``row_features`` and
    ``row_logits`` (early fusion is offered for it), else None."""
    net = getattr(model, "net", model)
    return (
        net
        if callable(getattr(net, "row_features", None)) and callable(getattr(net, "row_logits", None))
        else None
    )


@torch.no_grad()
def collect_rows(
    model: torch.nn.Module, loader: Any, with_questions: bool, features: bool = False
) -> dict[str, np.ndarray]:
    """Scored rows of every sequence, in file order: ``p``, ``y`` and, with questions, ``qidx``, ``rest``,
    ``seq`` (the sequence's index in the file); with ``features`` (a network with :func:`row_head`), ``h``:
    what the output layer read at each row, float64."""
    protocol = PyktProtocol()
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    offset = 0
    model.eval()
    net = row_head(model) if features else None
    run_net = getattr(model, "run_net", None)  # the module's length groups, when it is a KTLitModule
    device = next((param.device for param in model.parameters()), torch.device("cpu"))
    for batch in loader:
        batch = {key: value.to(device) for key, value in batch.items()}
        scored = protocol.scored(batch)
        if net is not None:
            hidden = run_net(net.row_features, batch) if run_net else net.row_features(batch)
            logits = net.row_logits(hidden)
            parts["h"].append(hidden[scored].double().cpu().numpy())
        else:
            logits = model(batch)
        parts["p"].append(probabilities(logits)[scored].cpu().numpy())
        parts["y"].append(batch["correct"][scored].long().cpu().numpy())
        if with_questions:
            parts["qidx"].append(batch["qidx"][scored].cpu().numpy())
            parts["rest"].append(batch["rest"][scored].cpu().numpy())
            rows = torch.arange(offset, offset + scored.shape[0])[:, None].expand_as(scored)
            parts["seq"].append(rows[scored].cpu().numpy())
        offset += scored.shape[0]
    return {key: np.concatenate(value) for key, value in parts.items()}


def _auc_acc(p: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    if len(y) == 0:
        return None, None
    return defined_auc(p, y), float(np.mean((np.asarray(p) >= 0.5) == y))


def fuse(preds: list[float]) -> dict[str, float]:
    """pyKT's late fusions of one question's row predictions (see the module docstring)."""
    values = np.asarray(preds, dtype=np.float64)
    high = values[values >= 0.5]
    low = values[values < 0.5]
    return {
        "late_mean": round(float(values.mean()), 4),
        "late_vote": float(np.mean(high) if len(high) / len(values) >= 0.5 else np.mean(low)),
        "late_all": float(np.mean(high) if len(high) == len(values) else np.mean(low)),
    }


def fused_questions(rows: dict[str, np.ndarray], net: Any = None) -> dict[str, np.ndarray]:
    """One fused prediction per question, from the scored rows of question-level sequences.

    Args:
        rows: from :func:`collect_rows`; with ``h`` and ``net`` (see :func:`row_head`) the early fusion too.

    Returns:
        ``qidx``, ``y`` (the question's answer) and one array per late fusion, question by question, and
        ``early_preds`` with ``h`` and ``net``.
    """
    n_seq = int(rows["seq"].max()) + 1 if len(rows["seq"]) else 0
    open_rows = np.zeros(n_seq, dtype=bool)
    np.logical_or.at(open_rows, rows["seq"], rows["rest"] != 0)
    complete = np.flatnonzero(~open_rows)  # sequences without scored rows count as complete too
    last = int(complete[-1]) if len(complete) else -1
    keep = rows["seq"] <= last
    groups: dict[int, list[int]] = defaultdict(list)
    for i in np.flatnonzero(keep)[::-1]:  # fused in the reverse order of their sequences
        groups[int(rows["qidx"][i])].append(int(i))
    out: dict[str, list[float]] = {"qidx": [], "y": [], **{name: [] for name in FUSIONS}}
    early = net is not None and "h" in rows
    means = []
    for qidx in sorted(groups):
        members = groups[qidx]
        out["qidx"].append(qidx)
        out["y"].append(int(rows["y"][members[0]]))
        for name, value in fuse([float(rows["p"][i]) for i in members]).items():
            out[name].append(value)
        if early:
            means.append(rows["h"][members].mean(axis=0))
    fused = {key: np.asarray(value) for key, value in out.items()}
    if early:
        fused[EARLY] = early_predictions(net, means)
    return fused


@torch.no_grad()
def early_predictions(net: Any, means: list[np.ndarray]) -> np.ndarray:
    """The output layer of ``net`` on each question's mean row features: float32 probabilities."""
    if not means:
        return np.zeros(0, dtype=np.float32)
    device = next((param.device for param in net.parameters()), torch.device("cpu"))
    hidden = torch.from_numpy(np.stack(means)).float().to(device)  # [Q, H]
    return probabilities(net.row_logits(hidden)).cpu().numpy()


def question_metrics(rows: dict[str, np.ndarray], view: str, net: Any = None) -> dict[str, float | None]:
    """``{view}{auc,acc}{concepts,late_mean,late_vote,late_all}`` of a question-level sequence set, and
    ``{view}{auc,acc}early_preds`` with row features and their network (:func:`fused_questions`)."""
    out: dict[str, float | None] = {}
    out[f"{view}aucconcepts"], out[f"{view}accconcepts"] = _auc_acc(rows["p"], rows["y"])
    fused = fused_questions(rows, net)
    for name in (*FUSIONS, EARLY) if EARLY in fused else FUSIONS:
        out[f"{view}auc{name}"], out[f"{view}acc{name}"] = _auc_acc(fused[name], fused["y"])
    return out


def pykt_test_metrics(
    model: torch.nn.Module, data: SequenceSource, batch_size: int | None = None, prefix: str = "test/"
) -> dict[str, float | None]:
    """pyKT's test metrics of ``model`` (logits ``[B, T]`` per batch) under their pyKT names.

    The question-level ones are computed only where the data has question-level sequences; the early
    fusion's only for a network with row features (:func:`row_head`).
    """
    out: dict[str, float | None] = {}
    for key, name in (("test", "test_sequences"), ("window_test", "test_window_sequences")):
        rows = collect_rows(model, data.sequence_loader(name, batch_size), with_questions=False)
        out[f"{key}auc"], out[f"{key}acc"] = _auc_acc(rows["p"], rows["y"])
    net = row_head(model)
    for view, name in (("ori", "test_question_sequences"), ("window", "test_question_window_sequences")):
        if name in data.sets:
            loader = data.sequence_loader(name, batch_size)
            rows = collect_rows(model, loader, with_questions=True, features=net is not None)
            out.update(question_metrics(rows, view, net))
    return {f"{prefix}{key}": value for key, value in out.items()}
