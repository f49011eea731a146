"""autophagy: simulate and measure self-consuming generative-model training loops.

The public API (everything else is private)::

    import autophagy as ap
    run = ap.run(ap.load_config("sweep.toml"), out="runs/my-sweep")
    run.table()      # long-form pandas DataFrame
    run.summary()    # means with Student-t intervals over replicates

Plug-ins (models, data sources, metrics) register with :func:`register_model`,
:func:`register_data` and :func:`register_metric`, the same functions the built-ins use.
"""

from autophagy.api import Comparison, compare, from_sklearn, load_config, open_run, run
from autophagy.core.errors import ConfigError, PluginError
from autophagy.core.registry import Options, register_data, register_metric, register_model
from autophagy.results.run import Run

__version__ = "0.1.0"

__all__ = [
    "Comparison",
    "ConfigError",
    "Options",
    "PluginError",
    "Run",
    "__version__",
    "compare",
    "from_sklearn",
    "load_config",
    "open_run",
    "register_data",
    "register_metric",
    "register_model",
    "run",
]
