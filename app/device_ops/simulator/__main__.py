"""`python -m app.device_ops.simulator`: run a fleet of simulated phones (see fleet.main), or
with --raise-alarm CODE, boot phones and raise those alarms on them (see alarms.main)."""

import sys

from app.device_ops.simulator.fleet import main

if any(arg.startswith("--raise-alarm") for arg in sys.argv[1:]):
    from app.device_ops.simulator.alarms import main
sys.exit(main())
