"""`flask ymcs …` commands: init (roles), demo (seed data), scheduler (the job process), fleet
(the demo's simulated phones)."""

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db


@click.group()
def ymcs():
    """YMCS portal administration."""


@ymcs.command("init")
@with_appcontext
def init_command():
    """Create permissions and sync the roles defined in app/accounts/roles.py (idempotent)."""
    current_app.appbuilder.sm.sync_roles()
    click.echo("Roles synced.")


@ymcs.command("demo")
@with_appcontext
def demo_command():
    """Seed the demo tenants, devices and accounts (idempotent); prints the logins."""
    from app.demo import DEMO_PASSWORD, seed_demo

    current_app.appbuilder.sm.sync_roles()
    accounts = seed_demo(db.session)
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, role, *_ in accounts:
        click.echo(f"  {email:<24} {role}")


@ymcs.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the job scheduler in the foreground; extra copies wait as standbys
    (app/core/jobs.py)."""
    from app.core.jobs import run_scheduler_process

    run_scheduler_process(current_app._get_current_object())


@ymcs.command("fleet")
@click.option("--acs-url", default="http://127.0.0.1:8080/acs", show_default=True)
@click.option("--count", type=int, default=None, help="default: DEMO_FLEET_SIZE")
@with_appcontext
def fleet_command(acs_url, count):
    """Run the demo's simulated phones against an ACS until interrupted."""
    from app.device_ops.demo_fleet import run_demo_fleet

    count = current_app.config["DEMO_FLEET_SIZE"] if count is None else count
    if count <= 0:
        click.echo("DEMO_FLEET_SIZE is 0: no simulated phones.")
        return
    raise SystemExit(run_demo_fleet(acs_url, count, click.echo))
