"""Feature spaces: the Rapidity-Mass Matrix, input columns, search masses, padded four-vectors, dijet
substructure inputs. Arrays in, arrays out."""

from .columns import SEARCH_MASS_CELLS, InputColumns, fit_columns, flatten
from .dijet import DIJET_INPUT_NAMES, dijet_inputs, dijet_mass, has_dijet
from .files import load_feature_file
from .fourlepton import FOURLEPTON_INPUTS, fourlepton_input_names, fourlepton_inputs
from .fourvectors import adc2021_names, adc2021_slots, four_vector_names, padded_four_vectors
from .jet_sequences import SEQUENCE_STEP_NAMES, jet_sequences, sequence_feature_spec, sequence_lengths
from .masses import SEARCH_MASSES, search_masses
from .rmm import RMM_PRESETS, RMMLayout, object_labels, rmm, rmm_cell_names, rmm_layout
from .spec import FEATURE_KINDS, FeatureSpec, feature_spec

__all__ = [
    "DIJET_INPUT_NAMES",
    "dijet_inputs",
    "dijet_mass",
    "has_dijet",
    "FEATURE_KINDS",
    "FOURLEPTON_INPUTS",
    "FeatureSpec",
    "feature_spec",
    "RMM_PRESETS",
    "RMMLayout",
    "SEARCH_MASSES",
    "SEARCH_MASS_CELLS",
    "InputColumns",
    "SEQUENCE_STEP_NAMES",
    "jet_sequences",
    "sequence_feature_spec",
    "sequence_lengths",
    "adc2021_names",
    "adc2021_slots",
    "fit_columns",
    "flatten",
    "four_vector_names",
    "fourlepton_input_names",
    "fourlepton_inputs",
    "load_feature_file",
    "object_labels",
    "padded_four_vectors",
    "rmm",
    "rmm_cell_names",
    "rmm_layout",
    "search_masses",
]
