"""The finish of a site (issue 23): what the vendor's hardware installation
leaves after the network settings ("proceed to restore the certificates and
/login administrative interface", Hardware Installation, line 114), from a
recovery kit (hwprobe/settings/kit.py), as one procedure with the network
settings and one run journal.

Each finish step is one module, as each settings area is, and the table
``STEPS`` (steps.py) is the order the session runs them in (documented:
the network first, then the certificates, then /login):

- ``certificate``: import the kit's PKCS#12 unless a certificate with its
  fingerprint is held, make it the default, prove it from the laptop (a TLS
  handshake naming the sheet's hostname gets exactly it), move bringup's pin;
- ``site_software``: nothing when installed, else from the kit's update file,
  else from Updates when the appliance reaches the vendor, then wait through
  the restart; when neither is possible, say what is missing and where to get it;
- ``login_backup``: Restore Settings on /login with the NSB and its backup
  password, wait for /login, prove it (an API account only the backup holds
  gets a token; check_health answers with the site's hostname); skipped on
  the backup of a pair, saying why and printing the failover steps.

``inputs`` checks the kit before anything is sent (complete, unchanged, the
certificate opens, covers the hostname and has not expired) and gathers the
secrets; ``run`` walks the steps (``BringupSession.finish``); ``waiting``
waits through a restart, bounded, with progress. Every step is journalled
before and after it is sent (RunJournal.finish_step), so a run killed
mid-upload or mid-restart converges and never imports or restores twice.

Part of the ``procedure`` room: may import every other room but ``runbook``.
"""
