"""The component inside Rasa itself: `rasa train nlu`, the packed model, parsing, `rasa test nlu`."""

from __future__ import annotations

import asyncio
import tarfile

import pytest
import yaml

pytestmark = pytest.mark.slow  # a real (tiny) Rasa NLU training run


def _nlu_yaml(examples) -> str:
    return yaml.safe_dump(
        {
            "version": "3.1",
            "nlu": [
                {"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)} for intent, texts in examples.items()
            ],
        },
        sort_keys=False,
    )


def test_rasa_train_parse_and_test_nlu(tmp_path, tiny):
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.nlu.test import run_evaluation

    config = {
        "recipe": "default.v1",
        "language": "en",
        "assistant_id": "tiny-nlu",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "nlu_models.bert_intent_classifier.BertIntentClassifier", **tiny.config, "backend": "onnx_int8"},
            {"name": "FallbackClassifier", "threshold": 0.5},
        ],
        "policies": [],
    }
    (tmp_path / "config.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "nlu.yml").write_text(_nlu_yaml(tiny.train))
    (tmp_path / "domain.yml").write_text(yaml.safe_dump({"version": "3.1", "intents": sorted(tiny.train)}))
    (tmp_path / "test_nlu.yml").write_text(_nlu_yaml({k: [v] for k, v in tiny.held_out.items()}))

    model_path = train_nlu(
        str(tmp_path / "config.yml"),
        str(tmp_path / "nlu.yml"),
        str(tmp_path / "models"),
        fixed_model_name="tiny",
        domain=str(tmp_path / "domain.yml"),
    )
    assert model_path
    with tarfile.open(model_path) as archive:
        names = archive.getnames()
    assert any(n.endswith("model_int8.onnx") for n in names)
    assert any(n.endswith("intent_model.json") for n in names)

    agent = Agent.load(model_path)

    async def parse(text):
        return await agent.parse_message(text)

    for intent, text in tiny.held_out.items():
        result = asyncio.run(parse(text))
        assert result["intent"]["name"] == intent
        assert len(result["intent_ranking"]) == tiny.config["ranking_length"]
    assert asyncio.run(parse(tiny.gibberish[0]))["intent"]["name"] == "nlu_fallback"

    report = asyncio.run(
        run_evaluation(
            str(tmp_path / "test_nlu.yml"),
            agent.processor,
            output_directory=str(tmp_path / "results"),
            disable_plotting=True,
            report_as_dict=True,
            domain_path=str(tmp_path / "domain.yml"),
        )
    )
    assert report["intent_evaluation"]["accuracy"] == 1.0
