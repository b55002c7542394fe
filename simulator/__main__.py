"""``python -m simulator serve ...``: run a simulated B Series appliance (see server.py)."""
import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
