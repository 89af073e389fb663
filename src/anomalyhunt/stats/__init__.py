"""Statistics: dijet fits, bump hunt with look-elsewhere correction, limits, sculpting, metrics, ABCD.

Pure functions returning frozen result dataclasses; nothing here reads files, prints or plots.
"""

from .abcd import (
    ABCDResult,
    TriggerEmulation,
    abcd,
    abcd_significance,
    closure_scan,
    emulate_trigger,
    null_significances,
    seed002_significance,
    working_point,
)
from .bumphunt import (
    BumpHuntResult,
    GlobalSignificance,
    bump_hunt,
    describe_z_global,
    global_significance,
    gross_vitells,
    local_scan,
    p_to_z,
    profile_factors,
    signal_templates,
    z_to_p,
)
from .counting import GridSignificance, grid_significance, z_bi
from .dijet import DijetFitResult, dijet_expected, dijet_fit, dijet_function, mass_resolution, resolution_binning
from .hunt import Excess, SpectrumModel, ToyBudget, background_models, hunt
from .likelihood import SignalPlusBackground
from .limits import LimitResult, cls_limits, cross_section_limit, upper_limits
from .metrics import (
    RocCurve,
    SensitivityGain,
    auc,
    max_sic,
    rejection_at_efficiency,
    roc_curve,
    sensitivity_gain,
    sic_curve,
    tpr_at_fpr,
)
from .nulls import Chi2Fit, InjectionLimit, empirical_pvalue, fit_chi2, injection_limit, ks_uniform
from .regions import AnomalyRegion, region_by_efficiency, regions_by_cross_section
from .sculpting import SculptingResult, sculpting_check

__all__ = [
    "GridSignificance",
    "grid_significance",
    "z_bi",
    "Chi2Fit",
    "InjectionLimit",
    "empirical_pvalue",
    "fit_chi2",
    "injection_limit",
    "ks_uniform",
    "ABCDResult",
    "AnomalyRegion",
    "BumpHuntResult",
    "DijetFitResult",
    "Excess",
    "GlobalSignificance",
    "LimitResult",
    "RocCurve",
    "SculptingResult",
    "SensitivityGain",
    "SignalPlusBackground",
    "ToyBudget",
    "SpectrumModel",
    "TriggerEmulation",
    "abcd",
    "abcd_significance",
    "closure_scan",
    "cls_limits",
    "emulate_trigger",
    "auc",
    "background_models",
    "bump_hunt",
    "cross_section_limit",
    "describe_z_global",
    "dijet_expected",
    "dijet_fit",
    "dijet_function",
    "global_significance",
    "gross_vitells",
    "hunt",
    "local_scan",
    "mass_resolution",
    "max_sic",
    "null_significances",
    "p_to_z",
    "profile_factors",
    "region_by_efficiency",
    "regions_by_cross_section",
    "rejection_at_efficiency",
    "resolution_binning",
    "roc_curve",
    "sculpting_check",
    "seed002_significance",
    "sensitivity_gain",
    "sic_curve",
    "signal_templates",
    "tpr_at_fpr",
    "upper_limits",
    "working_point",
    "z_to_p",
]
