"""The errors anomalyhunt raises; the CLI turns each into one line and a non-zero exit."""

__all__ = [
    "AnomalyHuntError",
    "ConfigError",
    "EventFileError",
    "GenerationError",
    "FitError",
    "ModelFileError",
    "NotFittedError",
    "StatsInputError",
]


class AnomalyHuntError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class ConfigError(AnomalyHuntError, ValueError):
    """A configuration field or command-line option has a bad value."""


class EventFileError(AnomalyHuntError, OSError):
    """An event file or dataset is missing, unreadable, corrupt or off the event contract."""


class GenerationError(AnomalyHuntError, RuntimeError):
    """Pythia could not be set up or failed to produce events."""


class FitError(AnomalyHuntError, RuntimeError):
    """A fit could not be carried out at all (as opposed to converging badly)."""


class StatsInputError(AnomalyHuntError, ValueError):
    """A histogram or score array handed to a statistics function is malformed."""


class ModelFileError(AnomalyHuntError, OSError):
    """A model file is missing, corrupt, foreign, or was trained on other features than those given."""


class NotFittedError(AnomalyHuntError, ValueError, AttributeError):
    """An estimator was asked to score or save before `fit` (the scikit-learn convention)."""
