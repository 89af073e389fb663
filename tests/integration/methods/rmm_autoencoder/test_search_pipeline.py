"""The search command's refusals. The whole run folder it writes is checked by the contract tests
(`test_methods_contract.py`: every method, and the CLI rerun after a kill -9)."""

import subprocess
import sys


def test_run_rejects_unknown_config_fields(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("samples: [x]\nepochz: 3\n")
    result = subprocess.run([sys.executable, "-m", "anomalyhunt.cli", "run", str(config)], capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert "unknown field(s) ['epochz']" in result.stderr and "Traceback" not in result.stderr
