"""`vcs-robot migrate ORGS.yaml`: moves every organization's workspaces, registry modules and policy sets off
the providers on dying routes (legacy Azure DevOps OAuth apps; PATs with `--from pat`, since Terraform Cloud
cannot tell a global PAT from an organization-scoped one) to a provider on `--to` (entra-app or pat), made by
that route's flow when missing. Journaled and resumable like provisioning (flows/migrate.py)."""
from __future__ import annotations

import argparse
from pathlib import Path

from flows.context import FlowContext
from flows.migrate import migrate_org, plan_org
from flows.safety import DELETE_OLD

from .. import interrupt
from ..config import OrgSpec, Plan
from ..errors import BadInput, RobotError
from .options import browser_options, output_options, plan_options, sites_options
from .plan_run import PlanRun, run_plan

TARGETS = ("entra-app", "pat")
LEAVING = ("oauth-app", "pat")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="move workspaces off the dying routes (legacy OAuth apps, global PATs)",
                       description=(__doc__ or "").split("\n\n")[0],
                       parents=[plan_options(), sites_options(), browser_options(), output_options("out/migrate")])
    p.add_argument("--to", choices=TARGETS, default="entra-app", help="the route of the new provider")
    p.add_argument("--from", dest="leaving", nargs="+", choices=LEAVING, default=["oauth-app"],
                   help="the routes to leave (default oauth-app; pat: providers holding PATs, e.g. global ones)")
    p.add_argument("--from-provider", nargs="+", default=[], metavar="NAME",
                   help="leave exactly these providers too (names or ids), whatever their route; a provider whose "
                        "route is not proven is never left otherwise")
    p.add_argument("--dry-run", action="store_true", help="print the plan per org and item; change nothing")
    p.add_argument("--delete-old", action="store_true", help="delete a left provider once nothing uses it")
    p.set_defaults(handler=lambda args: migrate(PlanRun.from_args(args), args.to, tuple(args.leaving),
                                                args.dry_run, args.delete_old, tuple(args.from_provider)))


def migrate(run: PlanRun, to: str, leaving: tuple[str, ...], dry: bool, delete_old: bool,
            named: tuple[str, ...] = ()) -> int:
    if to in leaving:
        raise BadInput(f"--to {to} is one of the routes to leave (--from {' '.join(leaving)}): choose another")

    def check_and_plan(plan: Plan, specs: list[OrgSpec], out: Path) -> int | None:
        for spec in specs:
            if not spec.task.azure_devops_organization:
                raise BadInput(f"{run.orgs_file}: organization {spec.name}: --to {to} needs azure_devops_organization "
                               f"(add it to the organization or to defaults)")
            if not plan.job(spec)[1].tfc_token:
                raise BadInput("migrate needs TFC_TOKEN (the API moves the workspaces): set it in the environment "
                               "or in .env")
        if dry:
            return interrupt.run(_print_plans(plan, specs, to, leaving, named))
        return None

    async def flow(ctx: FlowContext) -> None:
        await migrate_org(ctx, to, leaving, delete_old, named)

    if delete_old:
        run.allow = run.allow | {DELETE_OLD}

    return run_plan(run, "migrate", flow, before=check_and_plan)


async def _print_plans(plan: Plan, specs: list[OrgSpec], to: str, leaving: tuple[str, ...],
                       named: tuple[str, ...]) -> int:
    failed = 0
    for spec in specs:
        task, settings = plan.job(spec)
        try:
            for line in await plan_org(settings, task, to, leaving, named):
                print(line)
        except RobotError as e:
            failed += 1
            print(f"{spec.name}: cannot plan: {str(e).splitlines()[0]}")
    return 1 if failed else 0
