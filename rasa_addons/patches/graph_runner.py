"""Rasa runs a model's graph node by node in the server's thread, without dask's scheduler.

Rasa 3.6 runs every message's NLU graph and every action prediction's policy graph through
``dask.get``: a generic scheduler that orders, batches and bookkeeps the tasks of a graph of a
dozen nodes, in the same thread. Profiled under the load test (``python -m perf.loadtest``, 5,000
products) the scheduler itself, around the nodes' own work, was a tenth of the Rasa server's CPU.

:func:`install` replaces ``DaskGraphRunner.run`` with a depth-first walk of the same minimal
graph: each node is the same ``GraphNode`` (same hooks, same inputs, called once per run), fed
its parents' outputs as dask would feed them, and the result is the same ``{target: output}``.
Training keeps dask: the patch is installed only where the shop channel serves (``rasa run``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

_installed = False
dask_run: Any = None  # Rasa's own DaskGraphRunner.run, once replaced


def install() -> None:
    """Patch ``DaskGraphRunner.run`` once per process (idempotent)."""
    global _installed, dask_run
    if _installed:
        return
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    dask_run = DaskGraphRunner.run

    def run(
        self: DaskGraphRunner, inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None
    ) -> Dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        nodes = self._graph_schema.minimal_graph_schema(run_targets).nodes
        done: Dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in nodes:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of the input "
                    f"names passed to the `run` method are the same as node names in the graph schema."
                )
            done[name] = (name, value)  # dask's literal task for an input: the pair itself

        def output(name: str) -> Any:
            if name not in done:
                if name not in nodes:
                    return name  # dask passes a name that is no key through as a literal
                parents = [output(parent) for parent in nodes[name].needs.values()]
                done[name] = self._instantiated_nodes[name](*parents)
            return done[name]

        try:
            return dict(output(target) for target in run_targets)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error

    DaskGraphRunner.run = run
    _installed = True


__all__ = ["install"]
