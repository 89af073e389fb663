"""The search command's refusals. The whole run folder it writes is checked by the contract tests
(`test_methods_contract.py`: every method, and the CLI rerun after a kill -9)."""


def test_run_rejects_unknown_config_fields(tmp_path, cli):
    config = tmp_path / "bad.yaml"
    config.write_text("samples: [x]\nepochz: 3\n")
    code, _, err = cli("run", config)
    assert code == 2
    assert "unknown field(s) ['epochz']" in err and "Traceback" not in err
