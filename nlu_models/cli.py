"""``python -m nlu_models train|evaluate|predict|import-bitext``: the intent classifier without Rasa.

Trains on a Rasa NLU file/folder or a CSV (columns text/utterance + intent/label)
into a model folder that :class:`~nlu_models.intent_model.IntentModel` (and the
benchmark) load. Every config key of the Rasa component is a flag here.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import List, Optional, get_origin

from nlu_models.config import ClassifierConfig


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("classifier config (same keys as in config.yml)")
    for name, field in ClassifierConfig.__fields__.items():
        flag = "--" + name.replace("_", "-")
        help_text = f"{field.field_info.description or ''} (default: {field.default})"
        if field.outer_type_ is bool:
            group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif get_origin(field.outer_type_) is list:
            group.add_argument(flag, dest=name, nargs="*", default=None, help=help_text)
        else:
            kind = {int: int, float: float}.get(field.outer_type_, str)
            group.add_argument(flag, dest=name, type=kind, default=None, help=help_text)


def _config_from(args: argparse.Namespace) -> ClassifierConfig:
    values = {k: getattr(args, k) for k in ClassifierConfig.__fields__ if getattr(args, k, None) is not None}
    return ClassifierConfig(**values)


def cmd_train(args: argparse.Namespace) -> int:
    from nlu_models.data import load_any
    from nlu_models.intent_model import save_trained
    from nlu_models.training import train_classifier

    config = _config_from(args)
    data = load_any(Path(args.data))
    print(f"Training on {len(data)} examples, {len(data.intents)} intents from {args.data}", file=sys.stderr)
    start = time.perf_counter()
    trained = train_classifier(data, config)
    save_trained(trained, config, Path(args.out))
    summary = {
        "out": str(args.out),
        "train_seconds": round(time.perf_counter() - start, 1),
        "epochs_run": len(trained.history),
        "validation": trained.validation,
    }
    print(json.dumps(summary, indent=2))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from nlu_models.data import load_any
    from nlu_models.evaluation import evaluate_model
    from nlu_models.intent_model import IntentModel

    model = IntentModel.load(
        Path(args.model), backend=args.backend, num_threads=args.num_threads, spelling_repair=args.spelling_repair
    )
    data = load_any(Path(args.data))
    result = evaluate_model(model, data, oos_intent=args.oos_intent, threshold=args.threshold)
    print(json.dumps(result, indent=2))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from nlu_models.intent_model import IntentModel

    model = IntentModel.load(
        Path(args.model), backend=args.backend, num_threads=args.num_threads, spelling_repair=args.spelling_repair
    )
    texts: List[str] = args.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for text, prediction in zip(texts, model.predict(texts)):
        ranking = [{"name": n, "confidence": round(c, 4)} for n, c in prediction.ranking[: args.top]]
        print(json.dumps({"text": text, "intent": ranking[0] if ranking else None, "intent_ranking": ranking}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nlu_models", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="fine-tune on a Rasa NLU yml/folder or a CSV")
    train.add_argument("--data", required=True, help="Rasa NLU file or folder, or a CSV")
    train.add_argument("--out", required=True, help="model folder to write")
    _add_config_flags(train)
    train.set_defaults(func=cmd_train)

    for name, func, helptext in (
        ("evaluate", cmd_evaluate, "accuracy / macro-F1 on labelled data"),
        ("predict", cmd_predict, "rank intents for messages (args or stdin)"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--model", required=True, help="model folder written by `train`")
        p.add_argument("--backend", choices=["torch", "torch_int8", "onnx", "onnx_int8"], default=None)
        p.add_argument("--num-threads", type=int, default=None)
        p.add_argument(
            "--spelling-repair",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="repair one-letter slips before the model reads a message (default: as trained)",
        )
        p.set_defaults(func=func)
    evaluate = sub.choices["evaluate"]
    evaluate.add_argument("--data", required=True, help="Rasa NLU file or folder, or a CSV")
    evaluate.add_argument("--oos-intent", default="out_of_scope")
    evaluate.add_argument("--threshold", type=float, default=None, help="confidence below it counts as out of scope")
    predict = sub.choices["predict"]
    predict.add_argument("text", nargs="*", help="messages (default: one per line on stdin)")
    predict.add_argument("--top", type=int, default=3)

    bitext = sub.add_parser("import-bitext", help="write bot/data/nlu/bitext.yml from the Bitext training split")
    bitext.set_defaults(func=cmd_import_bitext, passthrough=True)
    return parser


def cmd_import_bitext(args: argparse.Namespace) -> int:
    from nlu_models.bitext_import import main as import_bitext

    return import_bitext(args.rest)


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args, rest = build_parser().parse_known_args(argv)
    if rest and not getattr(args, "passthrough", False):
        build_parser().error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    return args.func(args)
