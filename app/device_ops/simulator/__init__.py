"""The CWMP fleet simulator: simulated Yealink phones (TR-181 or TR-098 data models) that
answer every RPC the ACS sends, take connection requests and send periodic Informs.
`python -m app.device_ops.simulator` runs a fleet from the command line."""
