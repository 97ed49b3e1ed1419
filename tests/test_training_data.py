"""The bot's training data: the NLU test sets stay apart from it, the Bitext part is as imported and licensed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Set

import pytest
import yaml
from rasa.shared.nlu.training_data.entities_parser import replace_entities

from core.settings import PROJECT_ROOT, get_settings

NLU_DIR = PROJECT_ROOT / "bot" / "data" / "nlu"
TEST_NLU_DIR = PROJECT_ROOT / "tests" / "nlu"


def _examples(path: Path) -> Set[str]:
    """Every example of a Rasa NLU file, entity markup removed, lower case, spaces collapsed."""
    found = set()
    for block in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
        for line in (block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                found.add(" ".join(replace_entities(line[2:]).lower().split()))
    return found


def test_the_nlu_test_sets_share_no_message_with_the_training_data() -> None:
    training = set().union(*(_examples(p) for p in NLU_DIR.glob("*.yml")))
    for test_file in TEST_NLU_DIR.glob("*.yml"):
        shared = sorted(_examples(test_file) & training)
        assert not shared, f"{test_file.name} repeats training examples: {shared[:10]}"


def test_the_conversation_suite_shares_no_message_with_the_training_data() -> None:
    from perf.conversation_suite import load_suite

    training = set().union(*(_examples(p) for p in NLU_DIR.glob("*.yml")))
    said = {" ".join(turn.say.lower().split()) for conversation in load_suite() for turn in conversation.turns}
    assert sorted(said & training) == [], "suite turns that are training examples"


def test_the_second_test_set_is_large_and_covers_every_request_type() -> None:
    shoppers = yaml.safe_load((TEST_NLU_DIR / "shoppers.yml").read_text())["nlu"]
    domain_intents = set(yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text())["intents"])
    mapping = yaml.safe_load((PROJECT_ROOT / "bot" / "bitext_intents.yml").read_text())["intents"]
    tested = {block["intent"] for block in shoppers}
    assert sum(len(_examples_of(block)) for block in shoppers) >= 500
    assert {entry["intent"] for entry in mapping.values()} <= tested <= domain_intents


def _examples_of(block: dict) -> list:
    return [line for line in (block.get("examples") or "").splitlines() if line.strip().startswith("- ")]


def test_the_bitext_data_carries_its_licence_and_maps_to_domain_intents() -> None:
    text = (NLU_DIR / "bitext.yml").read_text()
    assert "Community Data License Agreement - Sharing" in text and "CDLA-Sharing-1.0.txt" in text
    assert (PROJECT_ROOT / "bot" / "licences" / "CDLA-Sharing-1.0.txt").is_file()
    domain_intents = set(yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text())["intents"])
    imported = {block["intent"] for block in yaml.safe_load(text)["nlu"]}
    assert imported <= domain_intents


def test_the_bitext_data_is_what_the_importer_writes(tmp_path: Path) -> None:
    """Nobody edits bot/data/nlu/bitext.yml by hand: it is regenerated from the mapping."""
    source = get_settings().datasets_dir / "bitext-cs-intents" / "train.csv"
    if not source.is_file():
        pytest.skip(f"the Bitext data set is not at {source}")
    from nlu_models.bitext_import import main

    out = tmp_path / "bitext.yml"
    assert main(["--out", str(out)]) == 0
    assert out.read_text() == (NLU_DIR / "bitext.yml").read_text()


@pytest.mark.parametrize(
    ("text", "price_min", "price_max"),
    [
        ("tent for 2 ppl, not more than 150 euros", [], ["150"]),
        ("no more than 60 please", [], ["60"]),
        ("nothing more than 30", [], ["30"]),
        ("something more than 40 euros", ["40"], []),
        ("between 20 and 50", ["20"], ["50"]),
        ("under €99", [], ["€99"]),
    ],
)
def test_the_price_regexes_read_a_budget_the_way_it_is_meant(text: str, price_min: list, price_max: list) -> None:
    """A "not more than 150" budget is an upper limit only (it once also set "more than 150" as the minimum)."""
    blocks = yaml.safe_load((PROJECT_ROOT / "bot" / "data" / "nlu" / "regexes.yml").read_text())["nlu"]
    patterns = {b["regex"]: [line[2:] for line in b["examples"].splitlines() if line.strip()] for b in blocks}

    def found(entity: str) -> list:
        return [m.group(0) for pattern in patterns[entity] for m in re.finditer(pattern, text)]

    assert (found("price_min"), found("price_max")) == (price_min, price_max)
