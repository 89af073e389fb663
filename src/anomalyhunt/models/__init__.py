"""Models: architectures (nets), the shared training loop (train), and estimators with fit/score_samples."""

from .autoencoder import Autoencoder
from .disco import distance_correlation
from .double_ae import DoubleDisCoAE
from .nets import AUTOENCODER_PRESETS, AutoencoderNet
from .train import TrainConfig, TrainHistory, resolve_device, train_model

__all__ = ["AUTOENCODER_PRESETS", "Autoencoder", "AutoencoderNet", "DoubleDisCoAE", "TrainConfig", "TrainHistory",
           "distance_correlation", "resolve_device", "train_model"]
