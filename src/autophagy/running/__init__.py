"""Running loops: config validation, sweep expansion, the plan, executors (inline, loky,
Ray), tasks and the runner that commits them, signals, failures and size budgets.

Imports ``results`` and below; :mod:`autophagy.api` is the one door above it.
"""
