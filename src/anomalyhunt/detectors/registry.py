"""The built-in detectors by name, and `build_detector`, which makes the estimator a `detector:` section names.

Every entry is an estimator on `models.Estimator`: `fit(x, sample_weight=None)`, `score_samples(x)` with higher =
more anomalous, and safe `save`/`load`. `accepts` says what its inputs are:
- "flat": one row of numbers per event (RMM cells, padded four-vectors, dijet substructure, ...);
- "jet_sequence": one flattened constituent sequence per jet (`features.jet_sequences`);
- "labelled": a classifier trained on labels (`fit(x, y)`), for the data-vs-simulation test;
- "score_pair": two scores per event decorrelated in training (only the double_ae search uses it).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigError
from ..models import VRNN, Autoencoder, ClassifierEnsemble, DoubleDisCoAE, Estimator, VAEEnsemble
from .adapters import ImportedDetector, OnnxDetector
from .spec import DetectorSpec, construct

__all__ = ["BUILTIN_DETECTORS", "BuiltinDetector", "build_classifier", "build_detector", "detector_names",
           "get_detector"]


@dataclass(frozen=True)
class BuiltinDetector:
    """A registered detector: its estimator class, the parameters it starts from, what it takes, its paper."""

    name: str
    estimator: type
    accepts: str
    description: str
    defaults: dict[str, Any] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """Every constructor parameter with the value this entry uses unless a config says otherwise."""
        signature = inspect.signature(self.estimator.__init__)
        out = {p.name: p.default for p in signature.parameters.values()
               if p.name != "self" and p.default is not inspect.Parameter.empty}
        return out | self.defaults


_ENTRIES = (
    BuiltinDetector("autoencoder", Autoencoder, "flat",
                    "fully connected autoencoder, score = reconstruction MSE (Chekanov & Hopkins 2022, "
                    "inputs-20-10-5 ReLU)", {"preset": "chekanov2022"}),
    BuiltinDetector("autoencoder_atlas2024", Autoencoder, "flat",
                    "the ATLAS anomaly-region autoencoder, 800-400-200 leaky ReLU (ATLAS, PRL 132 (2024) 081801)",
                    {"preset": "atlas2024"}),
    BuiltinDetector("autoencoder_disco2022", Autoencoder, "flat",
                    "one network of the double DisCo autoencoder, 256-128-64-32-5, trained alone "
                    "(Mikuni, Nachman & Shih 2022)", {"preset": "disco2022"}),
    BuiltinDetector("vae_kl", VAEEnsemble, "flat",
                    "ensemble of small VAEs, score = mean KL of the encoding to N(0,1) (Bortolato, Smolkovic, Dillon "
                    "& Kamenik, 'Bump hunting in latent space', PRD 105 (2022) 115009)", {"score": "kl"}),
    BuiltinDetector("vae_reco", VAEEnsemble, "flat",
                    "the same VAE ensemble, score = reconstruction MSE of the decoded encoder mean",
                    {"score": "reco"}),
    BuiltinDetector("vrnn", VRNN, "jet_sequence",
                    "variational recurrent network over a jet's constituents, score = jet KL (ATLAS, PRD 108 "
                    "(2023) 052009)"),
    BuiltinDetector("classifier_ensemble", ClassifierEnsemble, "labelled",
                    "batched ensemble of MLP classifiers, score = mean predicted probability of class 1 (data vs "
                    "simulation, four leptons)"),
    BuiltinDetector("double_ae", DoubleDisCoAE, "score_pair",
                    "two autoencoders decorrelated in training by distance correlation, two scores per event "
                    "(Mikuni, Nachman & Shih 2022)"),
)

BUILTIN_DETECTORS: dict[str, BuiltinDetector] = {entry.name: entry for entry in _ENTRIES}


def detector_names(accepts: str | None = None) -> tuple[str, ...]:
    return tuple(name for name, entry in BUILTIN_DETECTORS.items() if accepts in (None, entry.accepts))


def get_detector(name: str) -> BuiltinDetector:
    if name not in BUILTIN_DETECTORS:
        raise ConfigError(f"detector: unknown built-in {name!r}; known: {', '.join(BUILTIN_DETECTORS)} (or give "
                          "import: \"package.module:Class\" or onnx: file)")
    return BUILTIN_DETECTORS[name]


def build_detector(spec: DetectorSpec, *, accepts: tuple[str, ...] = ("flat",), seed: int = 0, device: str = "auto",
                   progress: bool = False) -> Estimator:
    """The unfitted estimator of `spec`. A built-in gets the run's `seed`, `device` and `progress` unless its
    params set them, and must accept one of `accepts`; an imported one gets `seed` as its random_state."""
    if spec.name is not None:
        entry = get_detector(spec.name)
        if entry.accepts not in accepts:
            raise ConfigError(f"detector: {spec.name} takes {entry.accepts} inputs; this search gives "
                              f"{' or '.join(accepts)} (detectors that do: "
                              f"{', '.join(n for a in accepts for n in detector_names(a))})")
        names = set(entry.params())
        run_settings = {"seed": seed, "device": device, "progress": progress}
        kwargs = {k: v for k, v in run_settings.items() if k in names} | entry.defaults | dict(spec.params)
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise ConfigError(f"detector: {spec.name} has no parameter(s) {unknown}; known: {', '.join(sorted(names))}")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        try:
            return entry.estimator(**kwargs)
        except TypeError as exc:
            raise ConfigError(f"detector: {spec.name}: {exc}") from None
    if "flat" not in accepts:
        raise ConfigError(f"detector: this search needs {' or '.join(accepts)} inputs; imported and ONNX detectors "
                          "take flat inputs (one row per event)")
    if spec.import_ is not None:
        return ImportedDetector(spec.import_, spec.params, higher_is_anomalous=spec.higher_is_anomalous, seed=seed)
    return OnnxDetector(spec.onnx, higher_is_anomalous=spec.higher_is_anomalous)


def build_classifier(spec: DetectorSpec, *, seed: int = 0):
    """A user's classifier from `import:` (e.g. scikit-learn's HistGradientBoostingClassifier): it must offer
    `fit(x, y)` and `predict_proba`; it gets `seed` as its random_state when it takes one and params do not set
    it. Built anew for every training, so nothing of one training leaks into another."""
    if spec.import_ is None:
        raise ConfigError("detector: a classifier is given by import: \"package.module:Class\" (the built-in one is "
                          "the default and needs no detector: section)")
    classifier = construct(spec.import_, spec.params, seed=seed)
    for method in ("fit", "predict_proba"):
        if not callable(getattr(classifier, method, None)):
            raise ConfigError(f"detector: {spec.import_} has no {method} method: a classifier needs fit and "
                              "predict_proba")
    return classifier
