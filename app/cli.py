"""`flask ymcs …` commands: init (roles), demo (seed data), scheduler (the job process)."""

import click
from flask import current_app
from flask.cli import with_appcontext

from .extensions import db


@click.group()
def ymcs():
    """YMCS portal administration."""


@ymcs.command("init")
@with_appcontext
def init_command():
    """Create permissions and sync the roles defined in app/roles.py (idempotent)."""
    current_app.appbuilder.sm.sync_roles()
    click.echo("Roles synced.")


@ymcs.command("demo")
@with_appcontext
def demo_command():
    """Seed the demo tenants, devices and accounts (idempotent); prints the logins."""
    from .demo import DEMO_PASSWORD, seed_demo

    current_app.appbuilder.sm.sync_roles()
    accounts = seed_demo(db.session)
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, role, *_ in accounts:
        click.echo(f"  {email:<24} {role}")


@ymcs.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the job scheduler in the foreground; extra copies wait as standbys (see app/jobs.py)."""
    from .jobs import run_scheduler_process

    run_scheduler_process(current_app._get_current_object())
