from bringup.cli import entry

entry()
