"""Models: one estimator base (base), architectures (nets), the training loops (train, ensemble), estimators."""

from .autoencoder import Autoencoder
from .base import Estimator
from .disco import distance_correlation
from .double_ae import DoubleDisCoAE
from .ensemble import CLASSIFIER_LOSSES, BatchedMLP, ClassifierEnsemble, train_ensemble, train_member_datasets
from .nets import AUTOENCODER_PRESETS, AutoencoderNet
from .train import (
    Adadelta,
    Adam,
    FixedEpochs,
    MaxMonitored,
    MinValidationLoss,
    TrainConfig,
    TrainHistory,
    resolve_device,
    train_model,
)
from .vae import VAEEnsemble, kl_to_prior, latent_decoder_inputs, train_latent_decoders
from .vrnn import VRNN

__all__ = ["AUTOENCODER_PRESETS", "CLASSIFIER_LOSSES", "Adadelta", "Adam", "Autoencoder", "AutoencoderNet",
           "BatchedMLP", "ClassifierEnsemble", "DoubleDisCoAE", "Estimator", "FixedEpochs", "MaxMonitored",
           "MinValidationLoss", "TrainConfig", "TrainHistory", "distance_correlation", "resolve_device",
           "train_ensemble", "train_member_datasets", "train_model", "VAEEnsemble", "kl_to_prior",
           "latent_decoder_inputs", "train_latent_decoders", "VRNN"]
