"""The procedure: one bring-up session (take the port, find, log in, plan,
apply, read back, report, give the port back) used by every face, the
plan/apply engine with its run journal, the report and verify.

May import: every other room but ``runbook``.
"""
