"""The five inference cases through the real binary: `tollgate probe`, `pipeline run/status`, `sql`."""

from __future__ import annotations

import json
import subprocess

from conftest import TOLLGATE_BIN


def tollgate(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(TOLLGATE_BIN), *args], capture_output=True, text=True, timeout=timeout)


def assert_five_cases(done):
    """Every case of the probe's table was observed as meant."""
    assert done.returncode == 0, done.stdout + done.stderr
    for case in ["predict_valid", "predict_blocked", "stream_valid", "stream_blocked_immediately", "stream_blocked_partially"]:
        line = next(line for line in done.stdout.splitlines() if line.startswith(case + " "))
        assert line.split()[1] == case, line
    assert "all five inference cases produced" in done.stdout


def test_probe_produces_all_five_cases_against_the_simulator(gateway):
    done = tollgate("probe", "simulated", "--url", gateway.base_url, "--store", f"sqlite:{gateway.db_path}")
    assert_five_cases(done)


def test_probe_reports_the_guardrail_gap_of_the_local_model(gateway):
    done = tollgate("probe", "smollm2", "--url", gateway.base_url, "--store", f"sqlite:{gateway.db_path}")
    assert done.returncode != 0
    assert "GUARDRAIL GAP" in done.stderr
    assert "predict_valid" in done.stdout and "stream_valid" in done.stdout


def test_probe_produces_all_five_cases_against_the_local_model_with_guardrails(gateway):
    # Input keywords block the two harmful prompts; output keywords cut the crime story after
    # what was safely sent: the blocked cases come from Tollgate's own guardrails.
    done = tollgate("probe", "smollm2-guarded", "--url", gateway.base_url, "--store", f"sqlite:{gateway.db_path}")
    assert_five_cases(done)


def test_pipeline_status_and_sql(gateway):
    store = f"sqlite:{gateway.db_path}"
    run = tollgate("pipeline", "run", "--store", store)
    assert run.returncode == 0, run.stderr
    status = tollgate("pipeline", "status", "--store", store)
    assert status.returncode == 0, status.stderr
    assert "tokens_add_up" in status.stdout
    query = tollgate("sql", "--store", store, "--json", "SELECT inference_case, COUNT(*) AS n FROM gold_requests GROUP BY 1")
    assert query.returncode == 0, query.stderr
    cases = {row["inference_case"] for row in json.loads(query.stdout)}
    assert {"predict_valid", "stream_valid", "predict_blocked"} <= cases
    refused = tollgate("sql", "--store", store, "DELETE FROM gold_requests")
    assert refused.returncode != 0
