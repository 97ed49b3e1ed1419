"""Rasa validates every action server response against its own JSON schema: compile that schema once.

Profiled with py-spy under the load test (``perf.loadtest``, embedded default, 10 shoppers), ~17 %
of the Rasa process's CPU went to ``jsonschema.validate`` checking Rasa's *own* action-response
schema against the JSON-Schema meta-schema on every custom-action call
(``RemoteAction._validate_action_result`` calls ``validate(result, schema)``, which runs
``check_schema`` each time). :func:`install` compiles the validator once; every response is still
validated against the same schema, with the same error.
"""

from __future__ import annotations

from typing import Any, Dict

_installed = False


def _compiled_action_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema: Dict[str, Any] = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every action call
    return cls(schema)


def _patch_action_validation() -> None:
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import DOCS_BASE_URL, RemoteAction

    validator = _compiled_action_validator()

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        """Rasa's check, same schema, same error; the validator is compiled once."""
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = _validate_action_result


def install() -> None:
    """Replace ``RemoteAction._validate_action_result`` (idempotent)."""
    global _installed
    if not _installed:
        _patch_action_validation()
        _installed = True


__all__ = ["install"]
