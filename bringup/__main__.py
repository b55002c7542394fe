from hwprobe import stopping

stopping.guard()            # first: signals are heard before the command line loads
from bringup.cli import entry  # noqa: E402

entry()
