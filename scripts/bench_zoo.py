"""Training speed and test AUC of the benchmark models on ASSISTments 2009 fold 1, beside pyKT 0.0.38.

    python scripts/bench_zoo.py --data-dir ../shared/data --pykt /tmp/pykt --epochs 2 > bench_zoo.json

For each model (dkt, dkt_plus, sakt, akt, dkvmn, saint; simplekt, sparsekt_topk, sparsekt_soft and qikt,
which pyKT 0.0.38 lacks, have a ktlab arm only) the ktlab arm trains through Lightning exactly as
``train.py`` does (``KTLitModule``, ktlab's DataModule and its length-bucketed batches, no validation
pass), the pyKT arm trains pyKT's own network class with pyKT's own training step
(``pykt.models.train_model.model_forward``: forward and loss) on the same windows, batched as pyKT
batches them (file order, each padded to the 200 steps of a window: ``--pykt-layout pykt``, the default)
or as ktlab does (``--pykt-layout ktlab``), converted to pyKT's batch layout (0-based concept ids,
``*_seqs`` / ``shft_*`` / ``masks`` / ``smasks``) outside the timing. The pyKT arm skips pyKT's
DataLoader, which only makes it faster. Both arms run the same number of epochs with the same optimizer
(Adam at the learning rate of ktlab's ``conf/model`` file) and the sizes of ktlab's ``model.net`` passed to
pyKT's constructor (``bench_zoo_pyktnet.pykt_sizes_from_ktlab``; the JSON lists them, and under
``size_mismatches`` what pyKT's constructor cannot take, e.g. DKVMN's key and summary widths, which pyKT
ties to its value width; ``--override model.net.key_dim=200 ...`` changes ktlab's sizes, and so both),
then score the released test file with one shared AUC function over the same
answers (every answer but the first of each window of 200). pyKT is never a dependency: it is imported
from ``--pykt`` (``pip install --no-deps --target /tmp/pykt pykt-toolkit==0.0.38``); without it the pyKT
arms are reported as not run. ``--pykt-batches N`` times only the first N batches of the pyKT arms named by
``--pykt-batches-for`` (its slow AKT and SAINT), extrapolates the epoch and reports no AUC for them.

Figures swing 2-5x with other load on the machine: arms of one model run back to back, and the 1-minute
load average is recorded beside each arm.

``--protocol pykt`` times each model's training epoch on pyKT's split instead (``experiment=pykt
data=pykt``: the chunks of the folds other than ``--fold`` of ``--data-dir``, in file order, batches of
256, 64 for the attention models, as pyKT trains them)::

    python scripts/bench_zoo.py --protocol pykt --data-dir /path/to/assist2015_pykt --fold 0 \
        --models dkt sakt --max-batches 20 > bench_zoo_pykt.json

``--max-batches N`` times only the first N batches of the epoch; answers per second are the answers
trained on in those batches (pyKT's selected rows but the first of each chunk) over their seconds, and
the epoch's seconds are extrapolated from them. For the models pyKT 0.0.38 has, both sides take pyKT's
default sizes (``bench_zoo_pyktnet.PYKT_DEFAULT_SIZES``, from pyKT's ``configs/kt_config.json``) and pyKT's
network trains with its own step on the same N batches (``bench_zoo_pykt.py``); the others keep ktlab's
sizes and a pyKT side of null with a note.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from bench_zoo_pykt import pykt_protocol_bench, pyktnet, speed_trainer  # this script's folder
from ktlab.evaluation import NextStepProtocol, binary_scores

ROOT = Path(__file__).resolve().parents[1]
#: Why a model without an entry in ``pyktnet.PYKT_MODELS`` (simplekt, sparsekt_topk, sparsekt_soft, qikt)
#: has no pyKT arm.
NO_PYKT_ARM = "no pyKT arm for this model: pyKT 0.0.38 has no model of this name"


def compose_cfg(model: str, data_dir: str, batch_size: int, extra: list[str] | None = None) -> Any:
    """``train.py``'s config for ``model`` on ASSISTments 2009; ``extra``: more Hydra overrides."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose(
            "train",
            overrides=[
                f"model={model}",
                "data=assist2009",
                f"paths.data_dir={data_dir}",
                f"data.batch_size={batch_size}",
                *(extra or []),
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


def pykt_loader(datamodule: Any, layout: str) -> Any:
    """The training batches of the pyKT arm.

    ``pykt``: as pyKT 0.0.38 feeds its models (``pykt.datasets.init_dataset``: ``DataLoader(curtrain,
    batch_size)``, no shuffling, every sequence stored padded to ``seq_len`` 200): windows in file order,
    each batch padded to the full window length. ``ktlab``: ktlab's own length-bucketed batches, which
    isolates the speed of the two networks from that of the batching.
    """
    if layout == "ktlab":
        return list(datamodule.dataloader("train"))
    dataset = datamodule.datasets["train"]
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=datamodule.batch_size, shuffle=False, collate_fn=dataset.collator()
    )
    return [pyktnet.pad_to(batch, datamodule.max_len) for batch in loader]


def pykt_arm(
    model_name: str, cfg: Any, datamodule: Any, epochs: int, max_batches: int | None, layout: str
) -> dict[str, Any]:
    """pyKT 0.0.38's ``model_name`` at the sizes of ktlab's ``cfg.model.net`` (as close as pyKT's
    constructor allows: ``size_mismatches`` lists the rest), trained by pyKT's own step with ktlab's Adam
    learning rate on the same windows, then scored on the released test file."""
    net_cfg = {k: v for k, v in cfg.model.net.items() if k != "_target_"}
    sizes, mismatches = pyktnet.pykt_sizes_from_ktlab(model_name, net_cfg, seq_len=datamodule.max_len)
    n_skills = datamodule.model_inputs()["dims"]["n_skills"]
    net = pyktnet.build_pykt_net(model_name, n_skills, sizes)
    lr = float(cfg.model.optimizer.lr)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    seconds, load, partial = [], os.getloadavg()[0], False
    for _ in range(epochs):
        loader = pykt_loader(datamodule, layout)
        batches = [pyktnet.to_pykt(batch, False) for batch in loader[: max_batches or len(loader)]]
        partial = len(batches) < len(loader)
        elapsed = pyktnet.pykt_train_seconds(net, batches, optimizer)
        seconds.append(elapsed * len(loader) / len(batches))
        if partial:
            break
    net.eval()
    auc, n = (
        (None, None)
        if partial
        else auc_of(lambda b: pyktnet.pykt_predict(net, b, False), datamodule.dataloader("test"))
    )
    return {
        "framework": "pykt 0.0.38",
        "model": model_name,
        "batch_layout": layout,
        "sizes": sizes,
        "size_mismatches": mismatches,
        "lr": lr,
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
    parser.add_argument(
        "--override",
        nargs="*",
        default=[],
        help="Hydra overrides of every ktlab arm (e.g. model.net.key_dim=200); pyKT's arms take the sizes",
    )
    args = parser.parse_args()
    L.seed_everything(0, verbose=False)
    if args.protocol == "pykt":
        out = pykt_protocol_bench(
            args.models,
            args.data_dir,
            args.fold,
            args.max_batches,
            max_len=args.max_len,
            pykt_dir=args.pykt,
        )
        print(json.dumps(out, indent=2))
        return
    have_pykt = pyktnet.import_pykt(args.pykt)
    arms, answers = [], None
    for name in args.models:
        cfg = compose_cfg(name, args.data_dir, args.batch_size, args.override)
        datamodule = instantiate(cfg.data)
        datamodule.setup("fit")
        lengths = datamodule.datasets["train"].lengths
        answers = int((lengths - 1).sum())  # scored training answers per epoch, the same for both arms
        arms.append(ktlab_arm(name, cfg, datamodule, args.epochs, args.precision))
        if have_pykt and name in pyktnet.PYKT_MODELS:
            limit = args.pykt_batches if name in args.pykt_batches_for else None
            arms.append(pykt_arm(name, cfg, datamodule, args.epochs, limit, args.pykt_layout))
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
        "overrides": args.override,
        "torch_threads": torch.get_num_threads(),
        "arms": arms,
        "ratios": ratios,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
