"""Language identification: the LanguageDetector's decision on short shop messages, Lingua high vs low accuracy.

Two kinds of data, never mixed:

* the *dev* data chooses the settings (accuracy mode, language list, ``min_confidence``,
  ``min_letters``): ``perf/data/language_id_dev.jsonl`` (short casual shop messages in 19 languages
  and English, written for this choice) and an English pool of messages that are not report data:
  ``perf/data/language_id_dev_english.jsonl`` (short chat English written for it: greetings, thanks,
  yes/no, slang, abbreviations, typos, product names, addresses with foreign street names), the
  English of the dev file, and the training splits of Bitext (train), CLINC150 (train and oos_train),
  HWU64 (train) and BANKING77 (train) in ``datasets_dir``; any message that is also in the report data
  (lower-cased, spaces collapsed) is left out of the pool;
* the *report* data only measures them: ``perf/data/language_id.jsonl`` (285 short messages, 12
  languages incl. English), the English shop messages of ``tests/nlu/*.yml`` and of the Bitext
  validation split.

The decision is the component's own (``nlu_models.language_id``): a foreign message is right when it
goes to ``other_language`` with its language's code, an English one when it stays with the intent
classifier; an English message sent to ``other_language`` is "sent away".

The choice (:func:`choose`), fixed before the dev pool was first measured: among the settings of the
grid (accuracy high/low, the 17 answered or 25 wider languages, ``min_confidence`` in
MIN_CONFIDENCES, ``min_letters`` in MIN_LETTERS, ``one_word_confidence`` in ONE_WORD_CONFIDENCES) keep
those that send away

* at most 0.5 % of the English dev pool (ENGLISH_BUDGET, all its unique messages together), and
* at most 1 % of its short messages, those with 1 to 12 letters (SHORT_ENGLISH_BUDGET, SHORT_LETTERS:
  "thx", "ttyl", "helloooo", "ok thx bye"), which a pool of longer messages would otherwise outvote;

among those, the best mean accuracy over the foreign languages of the dev file that the bot answers in
(ties: fewer English sent away, fewer short ones, the shorter list, the higher confidence, the fewer
letters); low accuracy unless high adds 5 points (HIGH_ACCURACY_GAIN), since its models take ten times
the memory in every Rasa process. No "every word is a known English word" rule: the project ships no
English word list; one built from the dev pool would make the pool's own figures meaningless, and a
general dictionary holds neither chat slang ("thx", "ttyl") nor forms like "helloooo", while holding
many words of the other languages ("die", "also", "was").

Latency is one decision per message (models loaded, one thread); memory and load time are measured in
a fresh process per mode.

    shop bench languages [--dev-only] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import AbstractSet, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from core.settings import PROJECT_ROOT, get_settings
from nlu_models.language_id import (
    ACCURACY_MODES,
    ANSWERED_LANGUAGES,
    BOT_LANGUAGE,
    DEFAULT_SETTINGS,
    WIDER_LANGUAGES,
    LanguageSettings,
    best_language,
    detector,
    letters,
    other_language,
    routed,
    sure_enough,
    too_short,
)
from perf.stats import percentile

DATA = PROJECT_ROOT / "perf" / "data"
DEV_FILE = DATA / "language_id_dev.jsonl"
DEV_ENGLISH_FILE = DATA / "language_id_dev_english.jsonl"
REPORT_FILE = DATA / "language_id.jsonl"
LANGUAGE_LISTS = {"answered (17)": ANSWERED_LANGUAGES, "wider (25)": WIDER_LANGUAGES}
MIN_CONFIDENCES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
MIN_LETTERS = (2, 3, 4, 5, 6, 7, 8, 10, 13)
ONE_WORD_CONFIDENCES = (0.0, 0.8, 0.9, 0.95)  # 0.0: a single word needs no more than any other message
ENGLISH_BUDGET = 0.005  # of the English pool's messages sent to other_language
SHORT_LETTERS = 12  # a message with 1 to this many letters is short
SHORT_ENGLISH_BUDGET = 0.01  # of the short English messages sent to other_language
HIGH_ACCURACY_GAIN = 0.05  # what high accuracy must add to the mean accuracy to be worth its memory

Labelled = Tuple[str, str]  # (text, ISO 639-1 code)
Answers = Dict[str, Tuple[Optional[str], float]]  # text -> Lingua's first language and its confidence


def read_jsonl(path: Path) -> List[Labelled]:
    with path.open(encoding="utf-8") as handle:
        return [(row["text"], row["language"]) for row in map(json.loads, filter(str.strip, handle))]


def _unique(texts: Iterable[str]) -> List[str]:
    return list(dict.fromkeys(" ".join(t.split()) for t in texts if t.strip()))


def _key(text: str) -> str:
    """What makes two messages the same one: case and spacing aside."""
    return " ".join(text.lower().split())


def _datasets() -> Path:
    return get_settings().datasets_dir


def bitext_english(split: str) -> List[str]:
    from nlu_models.data import load_csv

    return _unique(load_csv(_datasets() / "bitext-cs-intents" / f"{split}.csv").texts)


def clinc150_english() -> List[str]:
    """CLINC150's training messages, in scope and out of scope (its validation split is left alone)."""
    raw = json.loads((_datasets() / "clinc150" / "data_full_trainval.json").read_text(encoding="utf-8"))
    return _unique(text for split in ("train", "oos_train") for text, _ in raw[split])


def hwu64_english() -> List[str]:
    return _unique((_datasets() / "hwu64" / "train" / "seq.in").read_text(encoding="utf-8").splitlines())


def banking77_english() -> List[str]:
    from nlu_models.data import load_csv

    return _unique(load_csv(_datasets() / "banking77" / "train.csv", "text", "category").texts)


def test_suite_english() -> List[str]:
    from nlu_models.data import load_rasa_nlu

    return _unique(load_rasa_nlu(PROJECT_ROOT / "tests" / "nlu").texts)


def dev_english_sources() -> Dict[str, Callable[[], List[str]]]:
    """The English dev pool but the dev file's own English, by source (loaded when called)."""
    return {
        "dev chat": lambda: [t for t, _ in read_jsonl(DEV_ENGLISH_FILE)],
        "bitext train": lambda: bitext_english("train"),
        "clinc150 train": clinc150_english,
        "hwu64 train": hwu64_english,
        "banking77 train": banking77_english,
    }


def is_short(text: str) -> bool:
    return 0 < letters(text) <= SHORT_LETTERS


@dataclass
class EnglishPool:
    """English messages by source, and all of them once (the budgets' denominators)."""

    sources: Dict[str, List[str]]
    everything: List[str]
    short: List[str]

    @classmethod
    def of(cls, sources: Mapping[str, Iterable[str]], leave_out: AbstractSet[str] = frozenset()) -> "EnglishPool":
        """``sources``' unique messages, but those whose :func:`_key` is in ``leave_out``."""
        kept = {name: [t for t in _unique(texts) if _key(t) not in leave_out] for name, texts in sources.items()}
        everything = list(dict.fromkeys(t for texts in kept.values() for t in texts))
        return cls(kept, everything, [t for t in everything if is_short(t)])


def decision(text: str, answer: Tuple[Optional[str], float], settings: LanguageSettings) -> Optional[str]:
    """What the component does with ``text`` given Lingua's ``answer``: a code, or None (stays English).
    The component's own tests; ``routed`` first, as it is cheaper (the letters once per routed text)."""
    code, confidence = answer
    if not routed(code, confidence, settings) or too_short(text, settings):
        return None
    return code if sure_enough(text, confidence, settings) else None


def is_right(gold: str, decided: Optional[str]) -> bool:
    return decided is None if gold == BOT_LANGUAGE else decided == gold


@dataclass
class Figures:
    """One setting's figures on one data set."""

    settings: LanguageSettings
    accuracy: Dict[str, float]  # language -> share decided right (English: kept English)
    counts: Dict[str, int]
    mean_accuracy: float  # over the foreign languages the bot answers in
    sent_away: Dict[str, float]  # English source -> share sent to other_language
    english_sent_away: float  # of the whole English pool
    short_sent_away: float  # of its messages with 1 to SHORT_LETTERS letters
    english_counts: Dict[str, int]  # "all", "short"

    def within_budget(self) -> bool:
        return self.english_sent_away <= ENGLISH_BUDGET and self.short_sent_away <= SHORT_ENGLISH_BUDGET

    @property
    def over_budget(self) -> float:
        """How far over the worse of the two budgets (1.0: at it)."""
        return max(self.english_sent_away / ENGLISH_BUDGET, self.short_sent_away / SHORT_ENGLISH_BUDGET)


def _share(texts: Sequence[str], away: Set[str]) -> float:
    return sum(t in away for t in texts) / len(texts) if texts else 0.0


def figures(
    settings: LanguageSettings,
    labelled: Sequence[Labelled],
    answers: Mapping[str, Tuple[Optional[str], float]],
    pool: EnglishPool,
) -> Figures:
    """Accuracy per language and English sent away, from Lingua's ``answers`` (text -> first language)."""
    right: Dict[str, int] = defaultdict(int)
    counts: Dict[str, int] = defaultdict(int)
    for text, gold in labelled:
        counts[gold] += 1
        right[gold] += is_right(gold, decision(text, answers[text], settings))
    accuracy = {lang: right[lang] / counts[lang] for lang in counts}
    foreign = [lang for lang in accuracy if lang in ANSWERED_LANGUAGES and lang != BOT_LANGUAGE]
    away = {t for t in pool.everything if decision(t, answers[t], settings) is not None}
    return Figures(
        settings,
        accuracy,
        dict(counts),
        sum(accuracy[lang] for lang in foreign) / len(foreign),
        {name: _share(texts, away) for name, texts in pool.sources.items()},
        _share(pool.everything, away),
        _share(pool.short, away),
        {"all": len(pool.everything), "short": len(pool.short)},
    )


def lingua_answers(texts: Iterable[str], languages: Tuple[str, ...], accuracy: str) -> Answers:
    """Lingua's first language of every text; the detector is dropped afterwards (hundreds of MB)."""
    answers = {text: best_language(text, languages, accuracy) for text in dict.fromkeys(texts)}
    detector.cache_clear()
    return answers


def grid(labelled: Sequence[Labelled], pool: EnglishPool) -> Tuple[List[Figures], Dict[str, Answers]]:
    """Every setting's dev figures, and Lingua's answers per mode and list (run once each)."""
    texts = [t for t, _ in labelled] + pool.everything
    results: List[Figures] = []
    all_answers: Dict[str, Answers] = {}
    for accuracy in ACCURACY_MODES:
        for name, languages in LANGUAGE_LISTS.items():
            answers = all_answers[f"{accuracy}, {name}"] = lingua_answers(texts, languages, accuracy)
            for min_confidence in MIN_CONFIDENCES:
                for min_letters in MIN_LETTERS:
                    for one_word in ONE_WORD_CONFIDENCES:
                        settings = LanguageSettings(
                            languages, accuracy, min_confidence, min_letters, one_word_confidence=one_word
                        )
                        results.append(figures(settings, labelled, answers, pool))
    return results, all_answers


def within_budget(result: Figures) -> bool:
    return result.within_budget()


def best_of(results: Sequence[Figures]) -> Figures:
    """Within both budgets, the best mean accuracy (ties: fewer English sent away, fewer short ones, the
    shorter list, the higher confidence, the fewer letters); with none within, the least over budget."""
    return max(
        results,
        key=lambda r: (
            within_budget(r),
            round(r.mean_accuracy, 4) if within_budget(r) else -r.over_budget,
            -r.english_sent_away,
            -r.short_sent_away,
            round(r.mean_accuracy, 4),
            -len(r.settings.languages),
            r.settings.min_confidence,
            -r.settings.min_letters,
            -r.settings.one_word_confidence,
        ),
    )


def choose(results: Sequence[Figures]) -> Tuple[Figures, Dict[str, Figures]]:
    """(the chosen setting, the best setting of each accuracy mode): low accuracy when it keeps within
    the budgets and high accuracy adds less than HIGH_ACCURACY_GAIN to the mean accuracy."""
    per_mode = {mode: best_of([r for r in results if r.settings.accuracy == mode]) for mode in ACCURACY_MODES}
    high, low = per_mode["high"], per_mode["low"]
    if not within_budget(high) and not within_budget(low):
        raise ValueError(
            f"no setting sends away at most {ENGLISH_BUDGET:.1%} of the English pool "
            f"and {SHORT_ENGLISH_BUDGET:.0%} of its short messages"
        )
    use_high = not within_budget(low) or (
        within_budget(high) and round(high.mean_accuracy - low.mean_accuracy, 4) >= HIGH_ACCURACY_GAIN
    )
    return (high if use_high else low), per_mode


@dataclass
class Cost:
    load_seconds: float
    models_mb: float  # resident memory after loading and using the models, minus before


def _resident_mb() -> float:
    """This process's resident memory now (Linux). Not ``ru_maxrss``: a spawned child keeps its parent's
    peak across exec, and the parent has just held every detector of the grid."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _measure_cost(languages: Tuple[str, ...], accuracy: str) -> Cost:
    """In a fresh process: Lingua imported, then its models loaded and used."""
    import lingua  # noqa: F401  (the library's own memory is not the models')

    before = _resident_mb()
    started = time.perf_counter()
    detector(languages, accuracy)
    loaded = time.perf_counter() - started
    best_language("wo ist meine Bestellung", languages, accuracy)
    return Cost(round(loaded, 2), round(_resident_mb() - before, 1))


def measure_cost(settings: LanguageSettings) -> Cost:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure_cost, (settings.languages, settings.accuracy))


@dataclass
class Report:
    figures: Figures
    raw_top1: float  # Lingua's first language right, before any threshold (labelled file)
    latency_ms: Dict[str, float]
    cost: Cost
    sent_away: List[str]  # English messages sent to other_language, with the code they got


def report(settings: LanguageSettings, labelled: Sequence[Labelled], pool: EnglishPool) -> Report:
    """The component's own calls on the report data: decisions, timing, memory."""
    texts = list(dict.fromkeys([t for t, _ in labelled] + pool.everything))
    other_language("warm-up message", settings)
    answers: Answers = {}
    seconds: List[float] = []
    for text in texts:
        started = time.perf_counter()
        found = other_language(text, settings)
        seconds.append(time.perf_counter() - started)
        answers[text] = found if found is not None else (None, 0.0)
    wrong = [f"{text!r} -> {answers[text][0]}" for text in pool.everything if answers[text][0]]
    raw = sum(best_language(t, settings.languages, settings.accuracy)[0] == gold for t, gold in labelled)
    detector.cache_clear()
    latency = {"p50": percentile(seconds, 50), "p95": percentile(seconds, 95), "mean": sum(seconds) / len(seconds)}
    return Report(
        figures(settings, labelled, answers, pool),
        raw / len(labelled),
        {k: round(1000 * v, 3) for k, v in latency.items()},
        measure_cost(settings),
        wrong,
    )


def _list_name(languages: Tuple[str, ...]) -> str:
    return next((name for name, codes in LANGUAGE_LISTS.items() if codes == languages), ",".join(languages))


def _setting(settings: LanguageSettings) -> str:
    return (
        f"{settings.accuracy} accuracy, {_list_name(settings.languages)}, "
        f"min_confidence {settings.min_confidence}, min_letters {settings.min_letters}, "
        f"one_word_confidence {settings.one_word_confidence}"
    )


def _english_cells(result: Figures) -> str:
    return f"{result.english_sent_away:8.2%} {result.short_sent_away:8.2%}"


def format_dev(
    results: Sequence[Figures], chosen: Figures, per_mode: Dict[str, Figures], pool: EnglishPool, answers: Answers
) -> str:
    sizes = ", ".join(f"{name} {len(texts)}" for name, texts in pool.sources.items())
    lines = [
        f"DEV (choice): {DEV_FILE.name}; English pool {len(pool.everything)} ({len(pool.short)} short): {sizes}",
        f"{len(results)} settings; budgets: English sent away <= {ENGLISH_BUDGET:.1%}, "
        f"short (<= {SHORT_LETTERS} letters) <= {SHORT_ENGLISH_BUDGET:.0%}",
        f"{'best of':28s} {'mean acc':>8s} {'en away':>8s} {'short':>8s}  setting",
    ]
    for mode in ACCURACY_MODES:
        for name, languages in LANGUAGE_LISTS.items():
            group = [r for r in results if r.settings.accuracy == mode and r.settings.languages == languages]
            best = best_of(group)
            budget = "" if within_budget(best) else "  (none within the budgets: least over)"
            lines.append(
                f"{mode + ', ' + name:28s} {best.mean_accuracy:8.3f} {_english_cells(best)}  "
                f"{_setting(best.settings)}{budget}"
            )
    lines.append("the trade-off in the chosen mode and list, best setting per min_letters (*: within the budgets):")
    for min_letters in MIN_LETTERS:
        group = [
            r
            for r in results
            if r.settings.accuracy == chosen.settings.accuracy
            and r.settings.languages == chosen.settings.languages
            and r.settings.min_letters == min_letters
        ]
        best = best_of(group)
        mark = "*" if within_budget(best) else " "
        lines.append(
            f"  {mark} min_letters {min_letters:2d}: mean acc {best.mean_accuracy:.3f}, English away "
            f"{_english_cells(best)}  (min_confidence {best.settings.min_confidence})"
        )
    lines.append("English sent away per source, best of each mode (dev):")
    for name in pool.sources:
        cells = " ".join(f"{per_mode[m].sent_away[name]:8.2%}" for m in ACCURACY_MODES)
        lines.append(f"  {name:16s} {len(pool.sources[name]):6d} {cells}")
    lines.append("per language, best of each mode (dev):")
    lines += _per_language([per_mode[m] for m in ACCURACY_MODES], list(ACCURACY_MODES))
    away = [t for t in pool.everything if decision(t, answers[t], chosen.settings) is not None]
    lines.append(f"dev English sent away by the choice: {len(away)}, short ones:")
    lines += [f"  {t!r} -> {answers[t][0]} {answers[t][1]:.2f}" for t in away if is_short(t)][:40]
    lines.append(f"CHOSEN: {_setting(chosen.settings)}")
    if chosen.settings != DEFAULT_SETTINGS:
        lines.append(
            f"  differs from nlu_models.language_id.DEFAULT_SETTINGS ({_setting(DEFAULT_SETTINGS)}): update it"
        )
    return "\n".join(lines)


def _per_language(columns: Sequence[Figures], names: Sequence[str]) -> List[str]:
    languages = sorted(columns[0].counts, key=lambda lang: (lang != BOT_LANGUAGE, lang))
    lines = [f"  {'language':10s} {'n':>4s} " + " ".join(f"{n:>7s}" for n in names)]
    for lang in languages:
        cells = " ".join(f"{c.accuracy[lang]:7.3f}" for c in columns)
        note = "" if lang in ANSWERED_LANGUAGES else "  (no words for it: right = its own code)"
        lines.append(f"  {lang:10s} {columns[0].counts[lang]:4d} {cells}{note}")
    return lines


def _source_cell(name: str) -> Callable[[Report], str]:
    return lambda r: f"{r.figures.sent_away[name]:.2%}"


def format_report(reports: Dict[str, Report], chosen_mode: str, pool: EnglishPool) -> str:
    modes = list(reports)
    lines = [f"REPORT: {REPORT_FILE.name}, tests/nlu English, Bitext validation English (settings chosen on dev)"]
    for mode in modes:
        lines.append(
            f"  {mode}{' (default)' if mode == chosen_mode else ''}: {_setting(reports[mode].figures.settings)}"
        )
    lines.append("accuracy of the decision per language (English: kept English):")
    lines += _per_language([reports[m].figures for m in modes], modes)
    rows: List[Tuple[str, Callable[[Report], str]]] = [
        ("mean accuracy (foreign)", lambda r: f"{r.figures.mean_accuracy:.3f}"),
        ("raw top-1 (no thresholds)", lambda r: f"{r.raw_top1:.3f}"),
        (f"English sent away ({len(pool.everything)})", lambda r: f"{r.figures.english_sent_away:.2%}"),
        (f"  short ones ({len(pool.short)})", lambda r: f"{r.figures.short_sent_away:.2%}"),
    ]
    for name, texts in pool.sources.items():
        rows.append((f"  {name} ({len(texts)})", _source_cell(name)))
    rows += [
        ("latency p50 / p95 ms", lambda r: f"{r.latency_ms['p50']:.2f} / {r.latency_ms['p95']:.2f}"),
        ("models MB (fresh process)", lambda r: f"{r.cost.models_mb:.0f}"),
        ("models load s", lambda r: f"{r.cost.load_seconds:.2f}"),
    ]
    lines.append(f"  {'':28s} " + " ".join(f"{m:>14s}" for m in modes))
    for label, cell in rows:
        lines.append(f"  {label:28s} " + " ".join(f"{cell(reports[m]):>14s}" for m in modes))
    wrong = reports[chosen_mode].sent_away
    lines.append(f"English messages sent to other_language ({chosen_mode}): {len(wrong)}")
    lines += [f"  {example}" for example in wrong[:30]]
    return "\n".join(lines)


def report_data() -> Tuple[List[Labelled], EnglishPool]:
    labelled = read_jsonl(REPORT_FILE)
    pool = EnglishPool.of(
        {
            REPORT_FILE.name: [t for t, gold in labelled if gold == BOT_LANGUAGE],
            "tests/nlu": test_suite_english(),
            "bitext validation": bitext_english("validation"),
        }
    )
    return labelled, pool


def dev_data(leave_out: Set[str]) -> Tuple[List[Labelled], EnglishPool]:
    """The dev file and the English dev pool, without any message of the report data (``leave_out``)."""
    labelled = read_jsonl(DEV_FILE)
    own = [t for t, gold in labelled if gold == BOT_LANGUAGE]
    sources = {name: load() for name, load in dev_english_sources().items()}
    sources["dev chat"] = own + sources["dev chat"]
    return labelled, EnglishPool.of(sources, leave_out)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="shop bench languages", description=__doc__.splitlines()[0])
    parser.add_argument("--dev-only", action="store_true", help="only the choice on the dev data, no report")
    parser.add_argument("--json", type=Path, help="also write the dev choice and the report figures here")
    args = parser.parse_args(argv)

    labelled, pool = report_data()
    dev, dev_pool = dev_data({_key(t) for t in [t for t, _ in labelled] + pool.everything})
    results, answers = grid(dev, dev_pool)
    chosen, per_mode = choose(results)
    chosen_answers = answers[f"{chosen.settings.accuracy}, {_list_name(chosen.settings.languages)}"]
    print(format_dev(results, chosen, per_mode, dev_pool, chosen_answers), flush=True)
    output: Dict[str, object] = {
        "chosen": asdict(chosen.settings),
        "dev_best_per_mode": {m: asdict(f) for m, f in per_mode.items()},
    }
    if not args.dev_only:
        reports = {mode: report(per_mode[mode].settings, labelled, pool) for mode in ACCURACY_MODES}
        print()
        print(format_report(reports, chosen.settings.accuracy, pool))
        output["report"] = {m: asdict(r) for m, r in reports.items()}
    if args.json:
        args.json.write_text(json.dumps(output, indent=1))
    return 0


__all__ = ["EnglishPool", "Figures", "Report", "choose", "decision", "figures", "main", "report"]


if __name__ == "__main__":
    raise SystemExit(main())
