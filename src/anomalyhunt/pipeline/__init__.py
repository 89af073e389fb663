"""What every method shares: config loading, samples on demand, the atomic run folder with provenance, the HTML
page, the demo."""

from .demo import DEFAULT_SAMPLES, DemoConfig
from .generation import ensure_samples, yield_table
from .page import find_browser, render_report, write_page
from .run import RunOutcome, provenance, run
from .run_folder import RunFolder
from .runconfig import RunConfig, SampleRequest, build_run_config, load_run_config

__all__ = ["DEFAULT_SAMPLES", "DemoConfig", "RunConfig", "RunFolder", "RunOutcome", "SampleRequest",
           "build_run_config", "ensure_samples", "find_browser", "load_run_config", "provenance", "render_report",
           "run", "write_page", "yield_table"]
