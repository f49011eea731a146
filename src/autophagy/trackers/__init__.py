"""Built-in experiment trackers (``--log mlflow | tensorboard | wandb``).

Each registers through :func:`autophagy.core.registry.register_logger`, the function a
plug-in package calls from its ``autophagy.loggers`` entry point. None imports its library at
module level: ``mlflow``, ``tensorboard`` and ``wandb`` are imported when a run asks for them
(extras ``.[mlflow]``, ``.[tensorboard]``, ``.[wandb]``), and a run that asks without them is
refused before it starts. Trackers run in the parent process at commit time
(:mod:`autophagy.running.tracking`).
"""

from __future__ import annotations

from autophagy.trackers import mlflow_tracker, tensorboard_tracker, wandb_tracker

BUILT_IN = ("mlflow", "tensorboard", "wandb")
__all__ = ["BUILT_IN", "mlflow_tracker", "tensorboard_tracker", "wandb_tracker"]
