"""The UI regression check: a pytest-playwright suite that walks every page the robot uses, in order.

Run it with `vcs-robot check [--sandbox | --live] [--read-only]` or as plain pytest:
`pytest robot/check [--live] [--read-only] [--headed] [--tracing retain-on-failure] [--output DIR]`.
With `--record DIR` it also records every page's accessibility snapshot for `vcs-robot fidelity` (record.py).
"""
