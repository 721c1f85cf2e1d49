"""What every screen shares: scope (the one answer to "what may the current principal see"),
the fast list, the scoped base views, the dashboard, menus, errors and input guards, the
operation log, the mail outbox, leases and the job scheduler, the public URL and headers."""
