"""Check ktlab's BKT against pyBKT on the same sequences; print one JSON object (progress on stderr).

    python scripts/check_bkt_pybkt.py --pybkt /path/to/unpacked/pyBKT-1.4.3 --data-dir /path/to/data

pyBKT is not a ktlab dependency: give the folder that holds its ``pyBKT`` package (e.g. the unpacked
wheel, ``pip download pyBKT==1.4.3 --no-deps`` then unzip). Only its E and M steps and its one-step
prediction (``pyBKT.fit``) are used, in the loop of its ``EM_fit`` written out here: with scikit-learn 1.9
its ``Model`` class fails on import (its metrics module calls every scikit-learn ``*_loss`` function at
import time), and with numpy 2.4 ``EM_fit`` fails storing a ``(1, 1)`` log-likelihood into a scalar slot.

For the ``--skills`` most practised skills of the ASSISTments 2009 training file, each learner's answers
on the skill form one sequence (as pyBKT fits one skill at a time). It reports, per skill:

* ``filter_max_abs_diff``: the largest difference between pyBKT's one-step predictions and
  :func:`ktlab.models.components.bkt.bkt_filter` at pyBKT's fitted parameters (the same forward algorithm
  should give the same numbers);
* ``loglike_pybkt`` / ``loglike_ktlab_at_pybkt``: pyBKT's log-likelihood at its parameters and ktlab's;
* the parameters EM finds from ktlab's default starting values and those gradient descent on the same
  likelihood finds (:class:`ktlab.models.components.bkt.BKT`, ``guess_slip_max=1`` so both search the same
  space), with each one's log-likelihood.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from ktlab.data.formats import read_lines
from ktlab.models.components.bkt import BKT, bkt_filter

err = Console(stderr=True)
NAMES = ("prior", "learn", "guess", "slip")


def sequences(data_dir: Path, n_skills: int) -> dict[str, list[np.ndarray]]:
    """The answers of each of the ``n_skills`` most practised skills, one array per learner."""
    frame = read_lines(data_dir / "assist2009" / "assist2009_updated_train1.csv", "3line")
    top = frame["skill_id"].value_counts().index[:n_skills]
    out = {}
    for skill in top:
        rows = frame[frame["skill_id"] == skill].sort_values(["student_id", "t"])
        out[str(skill)] = [g.to_numpy(dtype=np.int64) for _, g in rows.groupby("student_id")["correct"]]
    return out


def pybkt_data(seqs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """pyBKT's internal data layout: answers as 1 (wrong) / 2 (right), 1-based starts, one resource."""
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    starts = np.r_[1, 1 + np.cumsum(lengths)[:-1]].astype(np.int64)
    answers = np.concatenate(seqs) + 1
    return {
        "data": answers[None, :].astype(np.int32),
        "starts": starts,
        "lengths": lengths,
        "resources": np.ones(len(answers), dtype=np.int64),
    }


def pybkt_model(prior: float, learn: float, guess: float, slip: float) -> dict[str, Any]:
    """A one-skill pyBKT model dict, no forgetting."""
    return {
        "prior": prior,
        "learns": np.array([learn]),
        "forgets": np.array([0.0]),
        "guesses": np.array([guess]),
        "slips": np.array([slip]),
        "As": np.array([[[1 - learn, 0.0], [learn, 1.0]]]),
        "emissions": np.array([[[1 - guess, guess], [slip, 1 - slip]]]),
        "pi_0": np.array([[1 - prior], [prior]]),
    }


def softcounts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empty transition, emission and initial soft counts of a one-skill model."""
    return np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), np.zeros((2, 1))


def expectation_maximization(
    em_fit: Any, m_step: Any, data: dict[str, np.ndarray], tol: float, max_iterations: int
) -> tuple[dict[str, Any], int]:
    """pyBKT's EM loop (``EM_fit.EM_fit``) from ktlab's default starting values, no forgetting."""
    model = pybkt_model(0.5, 0.1, 0.2, 0.1)
    fixed = {"forgets": np.array([0.0])}
    previous = -np.inf
    for iteration in range(1, max_iterations + 1):
        result = em_fit.run(data, model, *softcounts(), 1, parallel=False, fixed=fixed)
        loglike = float(result["total_loglike"][0, 0])
        if abs(loglike - previous) <= tol:
            return model, iteration
        previous = loglike
        trans = result["all_trans_softcounts"].transpose(0, 2, 1).copy()
        emission = result["all_emission_softcounts"].transpose(0, 2, 1).copy()
        model = m_step.run(model, trans, emission, result["all_initial_softcounts"], fixed=fixed)
    return model, max_iterations


def padded(seqs: list[np.ndarray]) -> dict[str, torch.Tensor]:
    """The sequences as one padded batch of windows (skill id 1)."""
    t = max(len(s) for s in seqs)
    mask = torch.zeros(len(seqs), t, dtype=torch.bool)
    correct = torch.zeros(len(seqs), t, dtype=torch.float64)
    for i, s in enumerate(seqs):
        mask[i, : len(s)] = True
        correct[i, : len(s)] = torch.from_numpy(s.astype(np.float64))
    return {"skill": mask.long(), "correct": correct, "mask": mask}


def loglike(p: torch.Tensor, batch: dict[str, torch.Tensor]) -> float:
    y, m = batch["correct"], batch["mask"]
    return float((y * p.log() + (1 - y) * (1 - p).log())[m].sum())


def ktlab_predictions(params: dict[str, float], batch: dict[str, torch.Tensor]) -> torch.Tensor:
    tensors = {n: torch.tensor([0.5, params[n]], dtype=torch.float64) for n in NAMES}
    return bkt_filter(
        **tensors, skill=batch["skill"], correct=batch["correct"], update=batch["mask"]
    ).p_correct


def fit_gradient(batch: dict[str, torch.Tensor], steps: int, lr: float) -> dict[str, float]:
    """ktlab's BKT fitted by full-batch Adam on the log-likelihood, from its default starting values."""
    net = BKT(1, guess_slip_max=1.0).double()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    y, m = batch["correct"], batch["mask"]
    for _ in range(steps):
        optimizer.zero_grad()
        logits = net(batch)
        torch.nn.functional.binary_cross_entropy_with_logits(logits[m], y[m], reduction="sum").backward()
        optimizer.step()
    probs = net.probabilities()
    return {n: float(probs[n][1].detach()) for n in NAMES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pybkt", type=Path, required=True, help="folder holding the pyBKT package")
    parser.add_argument("--data-dir", type=Path, required=True, help="folder holding assist2009/")
    parser.add_argument("--skills", type=int, default=5)
    parser.add_argument("--gd-steps", type=int, default=400)
    parser.add_argument("--gd-lr", type=float, default=0.05)
    parser.add_argument("--em-iterations", type=int, default=100, help="pyBKT's default")
    parser.add_argument("--em-tol", type=float, default=0.005, help="pyBKT's default stopping rule")
    args = parser.parse_args()
    sys.path.insert(0, str(args.pybkt))
    # pyBKT is optional, found through --pybkt
    from pyBKT.fit import EM_fit, M_step, predict_onestep

    torch.set_num_threads(1)
    report: dict[str, Any] = {"skills": {}}
    for skill, seqs in sequences(args.data_dir, args.skills).items():
        err.log(f"skill {skill}: {len(seqs)} learners, {sum(map(len, seqs))} answers")
        started = time.perf_counter()
        data = pybkt_data(seqs)
        em, iterations = expectation_maximization(EM_fit, M_step, data, args.em_tol, args.em_iterations)
        em_params = {
            "prior": float(em["prior"]),
            "learn": float(em["learns"][0]),
            "guess": float(em["guesses"][0]),
            "slip": float(em["slips"][0]),
        }
        pybkt_ll = float(EM_fit.run(data, em, *softcounts(), 1, parallel=False)["total_loglike"][0, 0])
        pybkt_p, _ = predict_onestep.run(em, data, parallel=False)
        em_seconds = time.perf_counter() - started
        batch = padded(seqs)
        ours_at_em = ktlab_predictions(em_params, batch)
        started = time.perf_counter()
        gd_params = fit_gradient(batch, args.gd_steps, args.gd_lr)
        gd_seconds = time.perf_counter() - started
        report["skills"][skill] = {
            "learners": len(seqs),
            "answers": int(batch["mask"].sum()),
            "filter_max_abs_diff": float(
                np.abs(ours_at_em[batch["mask"]].numpy() - np.asarray(pybkt_p, dtype=np.float64)).max()
            ),
            "loglike_pybkt": pybkt_ll,
            "loglike_ktlab_at_pybkt": loglike(ours_at_em, batch),
            "em_params": em_params,
            "em_iterations": iterations,
            "gd_params": gd_params,
            "loglike_gd": loglike(ktlab_predictions(gd_params, batch), batch),
            "seconds": {"pybkt_em": round(em_seconds, 1), "ktlab_gd": round(gd_seconds, 1)},
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
