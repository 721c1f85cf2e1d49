"""Orders and statements: packages, order limits, placing and cancelling orders, the sweep
that activates and expires them, the lists and their Excel exports."""
