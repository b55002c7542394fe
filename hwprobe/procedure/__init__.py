"""The procedure: one bring-up session (take the port, find, choose, log in,
preview, apply, read back, report, give the port back) used by every face,
the plan/apply engine, the run journal, the report and verify.

- ``session``: ``BringupSession``, the one procedure object (``target``:
  what it is pointed at); its steps before the plan are written in
  ``finding`` (the laptop port, the search, choosing the appliance, the wire
  check), ``listening`` (when nothing answers: listen, name what is on the
  cable, the capture, reaching an earlier site's address) and ``login``
  (connecting, logging in);
- ``passwords``: which password is used and how a face is asked for one
  (the ``Prompter`` each face implements);
- ``engine``: plan and apply with read-back; ``runjournal``: what runs did
  to one appliance, on disk; ``report``; ``verify``; ``argcheck``.

May import: every other room but ``runbook``.
"""
