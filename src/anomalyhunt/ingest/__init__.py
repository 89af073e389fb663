"""Events from outside: readers of CMS NanoAOD, ATLAS PHYSLITE, Delphes, LHE (showered by Pythia), HepMC3 and
ADC2021 HDF5, one module each; the importer that writes them as datasets; `read` for any file or dataset; and
`load_samples`, which reads several as one "data" sample."""

from .adc2021 import read_adc2021, write_adc2021
from .formats import READERS, SELECTIONS, detect_format
from .importer import ImportConfig, import_files, plan_import
from .reading import read
from .samples import SampleSummary, dataset_summary, load_samples, unweight

__all__ = ["READERS", "SELECTIONS", "ImportConfig", "SampleSummary", "dataset_summary", "detect_format",
           "import_files", "load_samples", "plan_import", "read", "read_adc2021", "unweight", "write_adc2021"]
