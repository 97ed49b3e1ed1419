"""Base for the pipeline's untrained message processors (guard, frustration, language).

Rasa builds every graph component through ``create(config, model_storage, resource,
execution_context)``; a component that trains nothing and stores nothing needs only its config,
so the subclasses take ``__init__(config)`` and this class does the rest.
"""

from __future__ import annotations

from typing import Any, Dict, Text, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

ComponentT = TypeVar("ComponentT", bound="StatelessComponent")


class StatelessComponent(GraphComponent):
    """A graph component built from its config alone (nothing trained, nothing persisted)."""

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = config

    @classmethod
    def create(
        cls: type[ComponentT],
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ComponentT:
        return cls(config)
