"""Training speed and test AUC of the benchmark models on ASSISTments 2009 fold 1, beside pyKT 0.0.38.

    python scripts/bench_zoo.py --data-dir ../shared/data --pykt /tmp/pykt --epochs 2 > bench_zoo.json

For each model (dkt, dkt_plus, sakt, akt; simplekt, sparsekt_topk, sparsekt_soft and saint have a ktlab
arm only, ``--models simplekt saint``) the ktlab arm trains through Lightning exactly as ``train.py`` does
(``KTLitModule``, ktlab's DataModule and its length-bucketed batches, no validation pass), the pyKT arm
trains pyKT's own network class with pyKT's own training step (``pykt.models.train_model.model_forward``:
forward and loss) on the same windows, batched as pyKT batches them (file order, each padded to the
200 steps of a window: ``--pykt-layout pykt``, the default) or as ktlab does (``--pykt-layout ktlab``),
converted to pyKT's batch layout (0-based concept ids, ``*_seqs`` / ``shft_*`` / ``masks`` /
``smasks``). The pyKT arm skips pyKT's DataLoader, which only makes it faster. Both arms run the same number of epochs with the same optimizer (Adam, lr 1e-3) and matching
sizes (listed in the JSON), then score the released test file with one shared AUC function over the same
answers (every answer but the first of each window of 200). pyKT is never a dependency: it is imported
from ``--pykt`` (``pip install --no-deps --target /tmp/pykt pykt-toolkit==0.0.38``); without it the pyKT
arms are reported as not run. ``--pykt-batches N`` times only the first N batches of a pyKT arm (for its
slow AKT), extrapolates the epoch and reports no AUC for it.

Figures swing 2-5x with other load on the machine: arms of one model run back to back, and the 1-minute
load average is recorded beside each arm.

``--protocol pykt`` times each model's training epoch on pyKT's split instead (``experiment=pykt
data=pykt``: the chunks of the folds other than ``--fold`` of ``--data-dir``, in file order, batches of
256, 64 for the attention models, as pyKT trains them)::

    python scripts/bench_zoo.py --protocol pykt --data-dir /path/to/assist2015_pykt --fold 0 \
        --models dkt sakt --max-batches 20 > bench_zoo_pykt.json

``--max-batches N`` times only the first N batches of the epoch; answers per second are the answers
trained on in those batches (pyKT's selected rows but the first of each chunk) over their seconds, and
the epoch's seconds are extrapolated from them. pyKT is not run on this protocol: its side is null with
a note.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from bench_zoo_pykt import pykt_protocol_bench, speed_trainer  # this script's folder
from ktlab.evaluation import NextStepProtocol, binary_scores

ROOT = Path(__file__).resolve().parents[1]
#: pyKT constructor arguments matching ktlab's model configs (conf/model/*.yaml).
PYKT_SIZES: dict[str, dict[str, Any]] = {
    "dkt": {"emb_size": 200, "dropout": 0.2},
    "dkt_plus": {"emb_size": 200, "dropout": 0.2, "lambda_r": 0.1, "lambda_w1": 0.003, "lambda_w2": 3.0},
    "sakt": {"seq_len": 200, "emb_size": 128, "num_attn_heads": 8, "dropout": 0.2, "num_en": 1},
    "akt": {
        "d_model": 128,
        "n_blocks": 1,
        "dropout": 0.05,
        "d_ff": 256,
        "final_fc_dim": 256,
        "num_attn_heads": 8,
    },
}

#: Why the models without an entry in PYKT_SIZES (simplekt, sparsekt_topk, sparsekt_soft, saint: ktlab arm
#: only) have no pyKT arm.
NO_PYKT_ARM = (
    "no pyKT arm for this model: its pyKT forward and training-step signatures differ between pyKT "
    "releases and were not checked against 0.0.38"
)


def compose_cfg(model: str, data_dir: str, batch_size: int) -> Any:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose(
            "train",
            overrides=[
                f"model={model}",
                "data=assist2009",
                f"paths.data_dir={data_dir}",
                f"data.batch_size={batch_size}",
            ],
        )


@torch.no_grad()
def auc_of(predict: Any, loader: Any) -> tuple[float, int]:
    """AUC over every scored answer (mask, but not the first step of a window) of ``loader``."""
    protocol = NextStepProtocol()
    probs, targets = [], []
    for batch in loader:
        p = predict(batch)  # [B, T] probabilities, position t for step t
        scored = protocol.scored(batch)
        probs.append(p[scored].float())
        targets.append(batch["correct"][scored].long())
    scores = binary_scores(torch.cat(probs), torch.cat(targets))
    return scores["auc"], scores["answers"]


def ktlab_arm(
    model_name: str, cfg: Any, datamodule: Any, epochs: int, precision: str = "32-true"
) -> dict[str, Any]:
    model = instantiate(cfg.model, inputs=datamodule.model_inputs())
    trainer, timer = speed_trainer(cfg, epochs, precision)
    load = os.getloadavg()[0]
    trainer.fit(model, datamodule=datamodule)
    model.eval()
    auc, n = auc_of(lambda b: torch.sigmoid(model(b)), datamodule.dataloader("test"))
    return {
        "framework": "ktlab",
        "model": model_name,
        "precision": precision,
        "epoch_seconds": timer.seconds,
        "test_auc": auc,
        "test_answers": n,
        "params": sum(p.numel() for p in model.parameters()),
        "load_1min": load,
    }


def to_pykt(batch: dict[str, torch.Tensor], with_problems: bool) -> dict[str, torch.Tensor]:
    """A ktlab batch in pyKT's layout: current steps ``[:, :-1]``, next steps ``[:, 1:]``, 0-based ids."""
    mask = batch["mask"]
    concept = (batch["skill"] - 1).clamp(min=0) * mask
    problem = (batch["problem"] * mask) if with_problems and "problem" in batch else torch.zeros_like(concept)
    answer = batch["correct"] * mask
    zeros = torch.zeros_like(concept)
    return {
        "qseqs": problem[:, :-1], "cseqs": concept[:, :-1], "rseqs": answer[:, :-1], "tseqs": zeros[:, :-1],
        "shft_qseqs": problem[:, 1:], "shft_cseqs": concept[:, 1:], "shft_rseqs": answer[:, 1:],
        "shft_tseqs": zeros[:, 1:], "masks": mask[:, :-1], "smasks": mask[:, 1:],
    }  # fmt: skip


def pykt_predict(net: torch.nn.Module, batch: dict[str, torch.Tensor], with_problems: bool) -> torch.Tensor:
    """pyKT's prediction of steps 1..T-1 (as its evaluation computes it), padded to ``[B, T]``."""
    d = to_pykt(batch, with_problems)
    c, r, cs = d["cseqs"].long(), d["rseqs"].long(), d["shft_cseqs"].long()
    if net.model_name in ("dkt", "dkt+"):
        y = (net(c, r) * torch.nn.functional.one_hot(cs, net.num_c)).sum(-1)
    elif net.model_name == "sakt":
        y = net(c, r, cs)
    else:
        cc = torch.cat([c[:, :1], cs], dim=1)
        cr = torch.cat([r[:, :1], d["shft_rseqs"].long()], dim=1)
        cq = torch.cat([d["qseqs"][:, :1], d["shft_qseqs"]], dim=1).long()
        y = net(cc, cr, cq)[0][:, 1:]
    return torch.cat([torch.zeros_like(y[:, :1]), y], dim=1)


def pad_to(batch: dict[str, torch.Tensor], length: int) -> dict[str, torch.Tensor]:
    """``batch`` with every ``[B, L, ...]`` tensor zero-padded (mask False) to ``L = length``."""
    width = batch["mask"].shape[1]
    out = {}
    for key, values in batch.items():
        if values.dim() >= 2 and values.shape[1] == width:
            pad = torch.zeros((values.shape[0], length - width, *values.shape[2:]), dtype=values.dtype)
            values = torch.cat([values, pad], dim=1)
        out[key] = values
    return out


def pykt_loader(datamodule: Any, layout: str) -> Any:
    """The training batches of the pyKT arm.

    ``pykt``: as pyKT 0.0.38 feeds its models (``pykt.datasets.init_dataset``: ``DataLoader(curtrain,
    batch_size)``, no shuffling, every sequence stored padded to ``seq_len`` 200): windows in file order,
    each batch padded to the full window length. ``ktlab``: ktlab's own length-bucketed batches, which
    isolates the speed of the two networks from that of the batching.
    """
    if layout == "ktlab":
        return datamodule.dataloader("train")
    dataset = datamodule.datasets["train"]
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=datamodule.batch_size, shuffle=False, collate_fn=dataset.collator()
    )
    return [pad_to(batch, datamodule.max_len) for batch in loader]


def pykt_arm(
    model_name: str, datamodule: Any, epochs: int, max_batches: int | None, layout: str
) -> dict[str, Any]:
    import pykt.models  # noqa: F401  (the package must import before its modules)

    train_model = sys.modules["pykt.models.train_model"]
    n_skills = datamodule.model_inputs()["dims"]["n_skills"]
    if model_name == "dkt":
        from pykt.models.dkt import DKT as Net
    elif model_name == "dkt_plus":
        from pykt.models.dkt_plus import DKTPlus as Net
    elif model_name == "sakt":
        from pykt.models.sakt import SAKT as Net
    else:
        from pykt.models.akt import AKT as Net
    args = dict(PYKT_SIZES[model_name])
    net = Net(n_skills, 0, **args) if model_name == "akt" else Net(n_skills, **args)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    seconds, load, partial = [], os.getloadavg()[0], False
    for _ in range(epochs):
        net.train()
        loader = pykt_loader(datamodule, layout)
        start, done = time.perf_counter(), 0
        for batch in loader:
            loss = train_model.model_forward(net, to_pykt(batch, False))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done += 1
            if max_batches and done >= max_batches:
                partial = True
                break
        elapsed = time.perf_counter() - start
        seconds.append(elapsed * len(loader) / done)
        if partial:
            break
    net.eval()
    auc, n = (
        (None, None)
        if partial
        else auc_of(lambda b: pykt_predict(net, b, False), datamodule.dataloader("test"))
    )
    return {
        "framework": "pykt 0.0.38",
        "model": model_name,
        "batch_layout": layout,
        "sizes": args,
        "epoch_seconds": seconds,
        "extrapolated_from_batches": max_batches if partial else None,
        "test_auc": auc,
        "test_answers": n,
        "params": sum(p.numel() for p in net.parameters()),
        "load_1min": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--pykt", default="/tmp/pykt", help="folder holding the pykt package (no install)")
    parser.add_argument("--models", nargs="+", default=["dkt", "dkt_plus", "sakt", "akt"])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--pykt-batches", type=int, default=None, help="time only this many pyKT batches per arm"
    )
    parser.add_argument(
        "--pykt-batches-for", nargs="*", default=["akt"], help="the arms --pykt-batches applies to"
    )
    parser.add_argument(
        "--pykt-layout",
        choices=["pykt", "ktlab"],
        default="pykt",
        help="pyKT arm's batches: pyKT's own (file order, padded to 200) or ktlab's length-bucketed ones",
    )
    parser.add_argument(
        "--precision",
        default="32-true",
        help="Lightning precision of the ktlab arms (bf16-mixed: bfloat16 autocast; pyKT's arms stay float32)",
    )
    parser.add_argument(
        "--protocol",
        choices=["assist2009", "pykt"],
        default="assist2009",
        help="assist2009: the released fold 1 beside pyKT; pykt: pyKT's split of --data-dir (see above)",
    )
    parser.add_argument("--fold", type=int, default=0, help="--protocol pykt: the validation fold")
    parser.add_argument(
        "--max-batches", type=int, default=None, help="--protocol pykt: time the first N batches only"
    )
    parser.add_argument("--max-len", type=int, default=200, help="--protocol pykt: chunk length")
    args = parser.parse_args()
    L.seed_everything(0, verbose=False)
    if args.protocol == "pykt":
        out = pykt_protocol_bench(
            args.models, args.data_dir, args.fold, args.max_batches, max_len=args.max_len
        )
        print(json.dumps(out, indent=2))
        return
    have_pykt = (Path(args.pykt) / "pykt").is_dir()
    if have_pykt:
        sys.path.insert(0, args.pykt)
    arms, answers = [], None
    for name in args.models:
        cfg = compose_cfg(name, args.data_dir, args.batch_size)
        datamodule = instantiate(cfg.data)
        datamodule.setup("fit")
        lengths = datamodule.datasets["train"].lengths
        answers = int((lengths - 1).sum())  # scored training answers per epoch, the same for both arms
        arms.append(ktlab_arm(name, cfg, datamodule, args.epochs, args.precision))
        if have_pykt and name in PYKT_SIZES:
            limit = args.pykt_batches if name in args.pykt_batches_for else None
            arms.append(pykt_arm(name, datamodule, args.epochs, limit, args.pykt_layout))
        else:
            why = f"no pykt package under {args.pykt}" if not have_pykt else NO_PYKT_ARM
            arms.append({"framework": "pykt 0.0.38", "model": name, "not_run": why})
    for arm in arms:
        if arm.get("epoch_seconds"):
            arm["median_epoch_seconds"] = statistics.median(arm["epoch_seconds"])
            arm["answers_per_s"] = answers / arm["median_epoch_seconds"]
    by = {(a["framework"].split()[0], a["model"]): a for a in arms}
    ratios = {}
    for name in args.models:
        ours, theirs = by.get(("ktlab", name)), by.get(("pykt", name))
        if ours and theirs and theirs.get("answers_per_s"):
            ratios[name] = {
                "speedup_answers_per_s": ours["answers_per_s"] / theirs["answers_per_s"],
                "auc_difference": None
                if theirs["test_auc"] is None
                else ours["test_auc"] - theirs["test_auc"],
            }
    if ("ktlab", "akt") in by and ("ktlab", "dkt") in by:
        ratios["ktlab_akt_epoch_over_dkt_epoch"] = (
            by[("ktlab", "akt")]["median_epoch_seconds"] / by[("ktlab", "dkt")]["median_epoch_seconds"]
        )
    if ("pykt", "akt") in by and ("pykt", "dkt") in by and by[("pykt", "akt")].get("median_epoch_seconds"):
        ratios["pykt_akt_epoch_over_dkt_epoch"] = (
            by[("pykt", "akt")]["median_epoch_seconds"] / by[("pykt", "dkt")]["median_epoch_seconds"]
        )
    out = {
        "data": "ASSISTments 2009 fold 1 (assist2009_updated_train1 / test), windows of 200",
        "train_answers_per_epoch": answers,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "torch_threads": torch.get_num_threads(),
        "arms": arms,
        "ratios": ratios,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
