"""Data files shipped with bringup: styles and the example settings sheet."""
from importlib import resources


def path(name: str):
    """Return a Traversable for a shipped asset (for example ``example-sheet.toml``)."""
    return resources.files(__name__).joinpath(name)
