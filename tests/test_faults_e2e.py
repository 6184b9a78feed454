"""Twenty organizations on a sandbox that misbehaves: all end connected, none duplicated."""
from __future__ import annotations

from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_robot

NAMES = [f"org-{n:02d}" for n in range(1, 21)]
FAULTS = {
    "seed": 3,
    "page_5xx": {"share": 0.03, "max": 4},
    "slow": 0.05, "slow_ms": 300,
    "session_expiry": {"share": 0.02, "max": 1},
    "second_totp": {"share": 0.05, "max": 1},
    "api_429": 0.2,
    "token_5xx": {"share": 0.3, "max": 2},
    "connection_reset": {"share": 0.01, "max": 2},
}


def test_twenty_orgs_with_faults_all_connect_without_duplicates(tmp_path):
    with Sandbox(SandboxOptions(orgs=tuple(NAMES), faults=FAULTS, render_delay_ms=(20, 80))) as sandbox:
        results = run_robot(sandbox.env(), tmp_path, NAMES, workers=4, step_screenshots=False,
                            doc_images=False, attempts=8)
        failed = {r.org: r.error for r in results if r.status != "connected"}
        assert not failed
        counts = sandbox.world.fault_counts
        assert counts.get("page_5xx") and counts.get("api_429") and counts.get("token_5xx"), counts
        for name in NAMES:
            assert len(sandbox.world.azure.apps_named(f"Terraform Cloud ({name})")) == 1, name
            clients = sandbox.world.tfc.clients_for(name)
            assert len(clients) == 1 and clients[0].token is not None, name
