"""Pin the public API: a change here is a change users notice."""

import importlib

import pytest

API = {
    "anomalyhunt.events": {"write", "iter_chunks", "read_dataset", "read_metadata", "read_manifest", "write_manifest",
                           "dataset_files", "schema_problems", "empty_events", "COLLECTIONS", "EVENT_FIELDS",
                           "LEPTON_COLLECTIONS", "MANIFEST", "completeness", "check_apart"},
    "anomalyhunt.reco": {"INVISIBLE_IDS", "PRESETS", "DetectorPreset", "d2", "delta_r", "get_preset", "is_b_hadron",
                         "nsubjettiness", "reconstruct", "select"},
    "anomalyhunt.ingest": {"READERS", "SELECTIONS", "ImportConfig", "SampleSummary", "dataset_summary",
                           "detect_format", "import_files", "load_samples", "plan_import", "read", "read_adc2021",
                           "unweight", "write_adc2021"},
    "anomalyhunt.seeds": {"stream", "stream_seed"},
    "anomalyhunt.splits": {"group_split"},
    "anomalyhunt.generate": {"CATALOGUE", "ChunkSummary", "GenerationConfig", "Process", "detector_changes",
                             "generate", "generate_chunk", "generate_many", "get_process", "process_names",
                             "sample_name", "source_events"},
    "anomalyhunt.features": {"RMM_PRESETS", "RMMLayout", "SEARCH_MASSES", "SEARCH_MASS_CELLS", "InputColumns",
                             "adc2021_names", "adc2021_slots", "fit_columns", "flatten", "four_vector_names",
                             "object_labels", "padded_four_vectors", "rmm", "rmm_cell_names", "rmm_layout",
                             "search_masses", "FEATURE_KINDS", "FeatureSpec", "feature_spec", "load_feature_file",
                             "FOURLEPTON_INPUTS", "fourlepton_input_names", "fourlepton_inputs",
                             "DIJET_INPUT_NAMES", "dijet_inputs", "dijet_mass", "has_dijet",
                             "SEQUENCE_STEP_NAMES", "jet_sequences", "sequence_feature_spec", "sequence_lengths"},
    "anomalyhunt.stats": {"AnomalyRegion", "MassTransferFit", "fit_mass_transfer", "region_by_efficiency",
                          "regions_by_cross_section",
                          "ABCDResult", "BumpHuntResult", "DijetFitResult", "GlobalSignificance", "LimitResult",
                          "RocCurve", "SculptingResult", "SensitivityGain", "abcd", "abcd_significance", "auc",
                          "TriggerEmulation", "closure_scan", "emulate_trigger", "working_point",
                          "bump_hunt", "cross_section_limit", "dijet_expected", "dijet_fit", "dijet_function",
                          "global_significance", "gross_vitells", "local_scan", "mass_resolution", "max_sic",
                          "p_to_z", "rejection_at_efficiency", "resolution_binning", "separation", "roc_curve",
                          "sculpting_check",
                          "sensitivity_gain", "sic_at_efficiency", "sic_curve", "signal_templates", "tpr_at_fpr",
                          "upper_limits",
                          "z_to_p", "Excess", "SpectrumModel", "background_models", "hunt",
                          "SidebandCheck", "sideband_check", "skipped_models",
                          "Histogram", "Spectrum", "fit_uncertainty_modes", "to_hist",
                          "SignalPlusBackground", "ToyBudget", "cls_limits", "describe_z_global",
                          "null_significances", "profile_factors", "seed002_significance", "Chi2Fit", "InjectionLimit",
                          "empirical_pvalue", "fit_chi2", "injection_limit", "ks_uniform",
                          "GridSignificance", "grid_significance", "z_bi"},
    "anomalyhunt.exceptions": {"AnomalyHuntError", "ConfigError", "EventFileError", "GenerationError",
                               "FitError", "StatsInputError", "ModelFileError", "NotFittedError"},
    "anomalyhunt.models": {"AUTOENCODER_PRESETS", "Adadelta", "Adam", "Autoencoder", "AutoencoderNet", "BatchedMLP",
                           "ClassifierEnsemble", "DoubleDisCoAE", "Estimator", "FixedEpochs", "MaxMonitored",
                           "MinValidationLoss", "TrainConfig", "TrainHistory", "distance_correlation",
                           "resolve_device", "train_ensemble", "train_model", "CLASSIFIER_LOSSES",
                           "train_member_datasets", "VAEEnsemble", "kl_to_prior", "latent_decoder_inputs",
                           "train_latent_decoders", "VRNN"},
    "anomalyhunt.methods": {"Method", "MethodResult", "Report", "SearchResult", "Section", "get_method",
                            "html_table", "method_names", "methods", "report_only", "CeilingConfig", "ceiling_entry",
                            "ceiling_section", "ceiling_lines", "cross_fitted_scores", "supervised_ceiling"},
    "anomalyhunt.detectors": {"BUILTIN_DETECTORS", "BuiltinDetector", "DetectorSpec", "ImportedDetector",
                              "OnnxDetector", "build_classifier", "build_detector", "detector_names", "get_detector",
                              "import_target"},
    "anomalyhunt.pipeline": {"DEFAULT_SAMPLES", "DemoConfig", "RunConfig", "RunFolder", "RunOutcome",
                             "SampleRequest", "build_run_config", "ensure_samples", "find_browser", "load_run_config",
                             "provenance", "render_report", "run", "write_page", "yield_table"},
    "anomalyhunt.config": {"check_types", "config_dict", "from_mapping", "describe_type"},
    "anomalyhunt.progress": {"Progress", "progress"},
}


@pytest.mark.parametrize("module", sorted(API))
def test_public_names(module):
    """Every public module lists its API; these lists change only on purpose."""
    mod = importlib.import_module(module)
    assert set(mod.__all__) == API[module]
    for name in mod.__all__:
        assert hasattr(mod, name)


def test_result_objects_carry_the_documented_fields():
    from dataclasses import fields

    from anomalyhunt import stats

    names = {cls: {f.name for f in fields(cls)} for cls in (stats.DijetFitResult, stats.BumpHuntResult,
                                                           stats.ABCDResult, stats.GlobalSignificance)}
    assert {"expected", "params", "pulls", "chi2_ndf", "converged", "message"} <= names[stats.DijetFitResult]
    assert {"mass", "z_local", "signal", "significance"} <= names[stats.BumpHuntResult]
    assert {"p_global", "z_global", "is_bound", "n_toys", "n_above"} <= names[stats.GlobalSignificance]
    assert all(isinstance(getattr(stats.BumpHuntResult, p), property) for p in ("p_global", "z_global", "n_toys"))
    assert {"observed", "predicted", "predicted_error", "closure", "closure_error"} <= names[stats.ABCDResult]
