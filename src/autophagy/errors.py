"""The errors autophagy reports to users as one plain line (``error: <field>: <message>``).

They pickle with their arguments, so an error raised in a worker process (loky, Ray) reaches
the parent as the same exception, with the same message, as it would inline.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """Invalid input; ``field`` is the dotted config key (or CLI argument) at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self):
        return (type(self), (self.field, self.message))


class PluginError(ConfigError):
    """A user plug-in (model, data source, metric, hook) raised while the loop ran it."""
