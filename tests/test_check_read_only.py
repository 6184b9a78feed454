"""`vcs-robot check --read-only` walks the pages and creates nothing: run as a live check against a sandbox
the test holds (the robot cannot tell), then the sandbox's own records are inspected."""
from __future__ import annotations

from sandbox.server import Sandbox
from sandbox.world import SandboxOptions
from tests.conftest import run_cli

ORG = "example-org-1"


def snapshot(sb: Sandbox) -> dict:
    w = sb.world
    return {"azure apps": {a.id: (a.callback_url, [s.value for s in a.client_secrets]) for a in w.azure.apps.values()},
            "azure tokens": len(w.azure.tokens), "pats": len(w.azure.pats),
            "tfc providers": len(w.tfc.clients), "entra apps": len(w.entra.apps)}


def test_read_only_check_walks_the_pages_and_creates_nothing(tmp_path):
    with Sandbox(SandboxOptions(render_delay_ms=(10, 40))) as sb:
        sb.world.azure.create_app("Terraform Cloud (example-org-1)", ["vso.code", "vso.code_status"],
                                  "https://example.com/cb")  # an app to look at: its secret stays hidden
        before = snapshot(sb)
        proc = run_cli(["check", "--live", "--read-only", "--org", ORG, "--output", str(tmp_path / "out"), "-v"],
                       env=sb.env(), cwd=tmp_path, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        for page in ("register_application_form", "application_details", "providers_list", "add_provider",
                     "azure_devops_personal_access_tokens"):  # walked, not skipped
            assert any(page in line and "PASSED" in line for line in proc.stdout.splitlines()), page
        assert sb.world.sign_ins["tfc"] >= 1 and sb.world.sign_ins["microsoft"] >= 1
        assert snapshot(sb) == before, "a read-only check created or changed something on the sites"
