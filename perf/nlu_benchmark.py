"""Benchmark: the fine-tuned BERT classifier against Rasa's DIETClassifier, same splits.

    python -m perf.nlu_benchmark --datasets bitext hwu64
    python -m perf.nlu_benchmark --datasets clinc150 banking77 --max-train 3000 --epochs 3

For every data set it trains BERT (each back end evaluated) and Rasa's
WhitespaceTokenizer + CountVectorsFeaturizer (word, char_wb 1-4) + DIETClassifier
pipeline, then prints one table: accuracy, macro-F1, out-of-scope recall
(CLINC150), accuracy on the same messages with one typo each, train time,
single-message latency percentiles on 1 and 2 threads, and peak resident memory.
Each training and each evaluation runs in its own child process, so the peak
memory figures do not mix and thread settings apply cleanly (TensorFlow fixes its
thread pools at start-up).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from core.settings import OFFLINE_ENV

RESULT_PREFIX = "BENCHMARK-RESULT "
BACKENDS = ["torch", "torch_int8", "onnx", "onnx_int8"]
DIET_EPOCHS = 100  # Rasa's default is 300; ~27 s per epoch on 9,000 messages on 2 cores
TYPO_SEED = 0  # the misspelt copy of a validation split is the same for every system and run


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latency_texts(texts: List[str], n: int) -> List[str]:
    rng = random.Random(0)
    picked = texts[:]
    rng.shuffle(picked)
    return picked[:n]


# --- workers (each runs in a child process) ---------------------------------------------------------


def bert_train(spec: Dict[str, Any]) -> Dict[str, Any]:
    from nlu_models.backends import export_onnx
    from nlu_models.config import ClassifierConfig
    from nlu_models.datasets import load_splits
    from nlu_models.intent_model import save_trained
    from nlu_models.training import train_classifier

    train, _ = load_splits(spec["dataset"], max_train=spec.get("max_train"))
    config = ClassifierConfig(**spec["config"])
    start = time.perf_counter()
    trained = train_classifier(train, config)
    seconds = time.perf_counter() - start
    out = Path(spec["model_dir"])
    save_trained(trained, config, out)
    export_onnx(out / "model", trained.tokenizer, out, int8=True)
    return {
        "train_s": seconds,
        "epochs_run": len(trained.history),
        "train_peak_mb": peak_rss_mb(),
        "n_train": len(train),
        "validation": trained.validation,
        "history": trained.history,
    }


def bert_eval(spec: Dict[str, Any]) -> Dict[str, Any]:
    from nlu_models.data import misspelt
    from nlu_models.datasets import load_splits
    from nlu_models.evaluation import evaluate_model, measure_latency
    from nlu_models.intent_model import IntentModel

    _, evaluation = load_splits(spec["dataset"], max_eval=spec.get("max_eval"))
    result: Dict[str, Any] = {"n_eval": len(evaluation)}
    samples = latency_texts(evaluation.texts, spec["latency_samples"])
    for i, threads in enumerate(spec["threads"]):
        model = IntentModel.load(spec["model_dir"], backend=spec["backend"], num_threads=threads)
        if i == 0:
            result["metrics"] = evaluate_model(model, evaluation)
            result["metrics_at_threshold"] = evaluate_model(model, evaluation, threshold=spec["threshold"])
            result["metrics_typos"] = evaluate_model(model, misspelt(evaluation, TYPO_SEED))
        result[f"latency_{threads}t"] = measure_latency(model.predict, samples).__dict__
    result["peak_mb"] = peak_rss_mb()
    return result


def _diet_config(epochs: int) -> Dict[str, Any]:
    return {
        "recipe": "default.v1",
        "language": "en",
        "assistant_id": "benchmark-diet",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
            {"name": "DIETClassifier", "epochs": epochs, "entity_recognition": False, "random_seed": 42},
        ],
        "policies": [],
    }


def diet_train(spec: Dict[str, Any]) -> Dict[str, Any]:
    import yaml
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlu_models.datasets import load_splits

    train, _ = load_splits(spec["dataset"], max_train=spec.get("max_train"))
    project = Path(spec["project_dir"])
    project.mkdir(parents=True, exist_ok=True)
    data = TrainingData([Message.build(text=t, intent=i) for t, i in zip(train.texts, train.labels)])
    (project / "nlu.yml").write_text(data.nlu_as_yaml(), encoding="utf-8")
    (project / "config.yml").write_text(yaml.safe_dump(_diet_config(spec["epochs"]), sort_keys=False))
    (project / "domain.yml").write_text(yaml.safe_dump({"version": "3.1", "intents": train.intents}))
    start = time.perf_counter()
    model = train_nlu(
        str(project / "config.yml"),
        str(project / "nlu.yml"),
        str(project / "models"),
        fixed_model_name="diet",
        domain=str(project / "domain.yml"),
    )
    seconds = time.perf_counter() - start
    return {
        "train_s": seconds,
        "epochs_run": spec["epochs"],
        "train_peak_mb": peak_rss_mb(),
        "n_train": len(train),
        "model_path": model,
    }


def diet_eval(spec: Dict[str, Any]) -> Dict[str, Any]:
    """One thread count per process: TensorFlow reads its thread settings once."""
    import asyncio

    from rasa.core.agent import Agent

    from nlu_models.data import misspelt
    from nlu_models.datasets import load_splits
    from nlu_models.evaluation import measure_latency, score

    _, evaluation = load_splits(spec["dataset"], max_eval=spec.get("max_eval"))
    agent = Agent.load(spec["model_path"])
    loop = asyncio.new_event_loop()

    def predict(texts: List[str]) -> List[Dict[str, Any]]:
        return [loop.run_until_complete(agent.parse_message(t))["intent"] for t in texts]

    def names_and_confidences(texts: List[str]) -> Tuple[List[str], List[float]]:
        intents = predict(texts)
        return [i.get("name") or "" for i in intents], [i.get("confidence") or 0.0 for i in intents]

    result: Dict[str, Any] = {"n_eval": len(evaluation)}
    if spec.get("with_metrics"):
        names, confidences = names_and_confidences(evaluation.texts)
        result["metrics"] = score(evaluation.labels, names, confidences)
        result["metrics_at_threshold"] = score(evaluation.labels, names, confidences, threshold=spec["threshold"])
        typos = misspelt(evaluation, TYPO_SEED)
        result["metrics_typos"] = score(typos.labels, *names_and_confidences(typos.texts))
    samples = latency_texts(evaluation.texts, spec["latency_samples"])
    result[f"latency_{spec['threads']}t"] = measure_latency(predict, samples).__dict__
    result["peak_mb"] = peak_rss_mb()
    return result


WORKERS = {"bert_train": bert_train, "bert_eval": bert_eval, "diet_train": diet_train, "diet_eval": diet_eval}


def run_worker(spec: Dict[str, Any], log) -> Dict[str, Any]:
    """Runs one worker in a child process and returns its JSON result."""
    env = dict(os.environ, **OFFLINE_ENV, TF_CPP_MIN_LOG_LEVEL="2")
    if spec["task"] == "diet_eval":
        env.update(TF_INTRA_OP_PARALLELISM_THREADS=str(spec["threads"]), TF_INTER_OP_PARALLELISM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "perf.nlu_benchmark", "--worker", json.dumps(spec)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker {spec['task']} on {spec['dataset']} failed (exit {proc.returncode}); see log")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


# --- orchestration -----------------------------------------------------------------------------------


def _row(dataset: str, system: str, train: Dict[str, Any], evaluation: Dict[str, Any]) -> Dict[str, Any]:
    metrics, at_threshold = evaluation["metrics"], evaluation["metrics_at_threshold"]
    return {
        "dataset": dataset,
        "system": system,
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "accuracy_at_threshold": at_threshold["accuracy"],
        "accuracy_typos": evaluation.get("metrics_typos", {}).get("accuracy"),
        "oos_recall": metrics.get("oos_recall"),
        "oos_recall_at_threshold": at_threshold.get("oos_recall"),
        "train_s": train["train_s"],
        "epochs_run": train["epochs_run"],
        "n_train": train["n_train"],
        "n_eval": evaluation["n_eval"],
        "train_peak_mb": train["train_peak_mb"],
        "peak_mb": evaluation["peak_mb"],
        **{k: v for k, v in evaluation.items() if k.startswith("latency_")},
    }


def train_once(spec: Dict[str, Any], record: Path, reuse: bool, log) -> Dict[str, Any]:
    """Runs a training worker, or with ``reuse`` returns the figures of an earlier run."""
    if reuse and record.exists():
        print(f"[{spec['dataset']}] reusing {record}", file=sys.stderr, flush=True)
        return json.loads(record.read_text())
    result = run_worker(spec, log)
    record.write_text(json.dumps(result))
    return result


def run_dataset(dataset: str, args: argparse.Namespace, work: Path, log) -> List[Dict[str, Any]]:
    rows = []
    common = {
        "dataset": dataset,
        "max_train": args.max_train,
        "max_eval": args.max_eval,
        "latency_samples": args.latency_samples,
        "threshold": args.threshold,
    }
    if "bert" in args.systems:
        config = {"epochs": args.epochs, "show_progress": False, **dict(kv.split("=", 1) for kv in args.bert_set)}
        model_dir = str(work / f"{dataset}-bert")
        print(f"[{dataset}] training BERT ...", file=sys.stderr, flush=True)
        train = train_once(
            {**common, "task": "bert_train", "config": config, "model_dir": model_dir},
            work / f"{dataset}-bert.train.json",
            args.reuse_models,
            log,
        )
        print(
            f"[{dataset}] BERT trained in {train['train_s']:.0f} s ({train['epochs_run']} epochs)",
            file=sys.stderr,
            flush=True,
        )
        for backend in args.backends:
            evaluation = run_worker(
                {**common, "task": "bert_eval", "model_dir": model_dir, "backend": backend, "threads": args.threads},
                log,
            )
            rows.append(_row(dataset, f"BERT {backend}", train, evaluation))
            print(f"[{dataset}] {backend}: {rows[-1]['accuracy']:.4f}", file=sys.stderr, flush=True)
    if "diet" in args.systems:
        print(f"[{dataset}] training DIET ...", file=sys.stderr, flush=True)
        train = train_once(
            {**common, "task": "diet_train", "epochs": args.diet_epochs, "project_dir": str(work / f"{dataset}-diet")},
            work / f"{dataset}-diet.train.json",
            args.reuse_models,
            log,
        )
        evaluation = {}
        for i, threads in enumerate(args.threads):
            part = run_worker(
                {
                    **common,
                    "task": "diet_eval",
                    "model_path": train["model_path"],
                    "threads": threads,
                    "with_metrics": i == 0,
                },
                log,
            )
            evaluation = {**part, **evaluation, "peak_mb": max(part["peak_mb"], evaluation.get("peak_mb", 0))}
        rows.append(_row(dataset, "DIET", train, evaluation))
        print(f"[{dataset}] DIET: {rows[-1]['accuracy']:.4f}", file=sys.stderr, flush=True)
    return rows


def _pct(value: Optional[float]) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def format_table(rows: List[Dict[str, Any]], threads: List[int], threshold: float) -> str:
    lat_cols = [f"p50/p95/p99 ms ({t} thr)" for t in threads]
    header = [
        "data set",
        "system",
        "n train/eval",
        "acc %",
        "macro-F1 %",
        f"OOS recall % (conf<{threshold})",
        f"acc % (conf<{threshold} = OOS)",
        "acc % one typo",
        "train s (epochs)",
        *lat_cols,
        "peak MB train/infer",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lat = [
            "/".join(f"{r[f'latency_{t}t'][k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms"))
            if f"latency_{t}t" in r
            else "–"
            for t in threads
        ]
        cells = [
            r["dataset"],
            r["system"],
            f"{r['n_train']}/{r['n_eval']}",
            _pct(r["accuracy"]),
            _pct(r["macro_f1"]),
            _pct(r["oos_recall_at_threshold"]),
            _pct(r["accuracy_at_threshold"]),
            _pct(r.get("accuracy_typos")),
            f"{r['train_s']:.0f} ({r['epochs_run']})",
            *lat,
            f"{r['train_peak_mb']:.0f}/{r['peak_mb']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from nlu_models.datasets import DATASETS

    p = argparse.ArgumentParser(prog="python -m perf.nlu_benchmark", description=__doc__.split("\n")[0])
    p.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=["bitext"])
    p.add_argument("--systems", nargs="+", choices=["bert", "diet"], default=["bert", "diet"])
    p.add_argument("--backends", nargs="+", choices=BACKENDS, default=BACKENDS)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="latency thread counts")
    p.add_argument("--max-train", type=int, default=None, help="cap training examples (per-intent shares kept)")
    p.add_argument("--max-eval", type=int, default=None, help="cap evaluation examples")
    p.add_argument("--epochs", type=int, default=8, help="BERT epochs (early stopping may stop sooner)")
    p.add_argument("--diet-epochs", type=int, default=DIET_EPOCHS)
    p.add_argument(
        "--bert-set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="other BERT config keys, e.g. max_length=32 learning_rate=5e-5",
    )
    p.add_argument("--latency-samples", type=int, default=300)
    p.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="confidence below which a message counts as out of scope (FallbackClassifier's threshold)",
    )
    p.add_argument("--work-dir", type=Path, default=None, help="keep models here (default: a temp folder)")
    p.add_argument(
        "--reuse-models",
        action="store_true",
        help="with --work-dir: reuse models trained there by an earlier run (e.g. to re-time latency)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write all figures as JSON")
    p.add_argument("--log", type=Path, default=None, help="training logs of the workers (default: stderr)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        spec = json.loads(args.worker)
        print(RESULT_PREFIX + json.dumps(WORKERS[spec["task"]](spec)), flush=True)
        return 0
    log = open(args.log, "a") if args.log else sys.stderr
    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nlu-benchmark-") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for dataset in args.datasets:
            rows.extend(run_dataset(dataset, args, work, log))
            if args.json:
                args.json.write_text(
                    json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=2)
                )
    print(format_table(rows, args.threads, args.threshold))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
