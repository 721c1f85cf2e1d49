"""The tenant tree: channels, enterprises, their master accounts, the enterprise's
authorization of its channel, acting as another tenant, and RPS devices."""
