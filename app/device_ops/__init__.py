"""Everything that talks to devices: the TR-069 ACS, provisioning files, the command queue,
the fleet simulator. Registered on the app by ``init_device_ops`` (called by create_app)."""


def init_device_ops(app):
    """Mount the ACS (a lean WSGI app beside Flask: no portal session, CSRF or menus on the
    devices' hot path) and the provisioning/RPS blueprint."""
    from app.device_ops.connreq import parse_networks
    from app.device_ops.cwmp import mount_acs
    from app.device_ops.provisioning import provisioning_bp
    from app.extensions import csrf

    try:  # a typo here must stop the start, not fail every "Connect now" later
        parse_networks(app.config["CONNECTION_REQUEST_NETWORKS"])
    except ValueError as exc:
        raise RuntimeError(f"CONNECTION_REQUEST_NETWORKS: {exc}") from None

    csrf.exempt(provisioning_bp)
    app.register_blueprint(provisioning_bp)
    mount_acs(app)
