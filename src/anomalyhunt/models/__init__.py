"""Models: architectures (nets), the shared training loop (train), and estimators with fit/score_samples."""

from .autoencoder import Autoencoder
from .nets import AUTOENCODER_PRESETS, AutoencoderNet
from .train import TrainConfig, TrainHistory, resolve_device, train_model

__all__ = ["AUTOENCODER_PRESETS", "Autoencoder", "AutoencoderNet", "TrainConfig", "TrainHistory", "resolve_device",
           "train_model"]
