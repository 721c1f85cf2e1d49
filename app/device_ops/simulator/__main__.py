"""`python -m app.device_ops.simulator`: run a fleet of simulated phones (see fleet.main)."""

import sys

from app.device_ops.simulator.fleet import main

sys.exit(main())
