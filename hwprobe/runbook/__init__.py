"""The other recovery paths: the runbook's checklists, triage and readiness,
and the RMA request.

May import: the loose modules, ``settings`` and ``appliance``.
"""
