"""The appliance's page map: web paths, form field names and console prompts.

Loaded from ``pagemap.toml`` beside this module, shared by the simulator and the
drivers, so a new firmware layout is a data change. ``load()`` returns a
read-only view; ``PAGES`` is the map shipped with bringup.
"""
from __future__ import annotations

import tomllib
from importlib import resources
from types import MappingProxyType
from typing import Any, Mapping


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def load(text: str | None = None) -> Mapping[str, Any]:
    """Parse a page map (the shipped one when ``text`` is None)."""
    if text is None:
        text = resources.files(__package__).joinpath("pagemap.toml").read_text()
    return _freeze(tomllib.loads(text))


def page_of(spec: Mapping[str, Any]) -> str | None:
    """The path of the page a section lives on (its "path", or the "page" its
    form is on)."""
    return spec.get("path") or spec.get("page")


def menu_names(pages: Mapping[str, Any]) -> dict[str, str]:
    """Page path -> its name in the menu ("Status > Basics"), for every page
    the map's [menu] lists (the first entry wins when two share a page)."""
    names: dict[str, str] = {}
    for section, entries in pages.get("menu", {}).items():
        for title, key in entries:
            page = page_of(pages.get(key, {}))
            if page:
                names.setdefault(page, f"{section} > {title}")
    return names


PAGES: Mapping[str, Any] = load()
CONSOLE: Mapping[str, Any] = PAGES["console"]


def profiles() -> Mapping[str, Any]:
    """The firmware profiles (``[profiles.NAME]`` of the page map)."""
    return PAGES.get("profiles", MappingProxyType({}))


def profile(name: str) -> Mapping[str, Any]:
    """One profile by name; KeyError naming the known ones when there is none."""
    known = profiles()
    if name not in known:
        raise KeyError(f"no firmware profile {name!r}; known: {', '.join(known)}")
    return known[name]


def profile_for(version: str) -> tuple[str, Mapping[str, Any]] | None:
    """(name, profile) for a software version as Status > Basics shows it, by
    the profiles' version prefixes; None when no profile claims it."""
    for name, prof in profiles().items():
        if any(version.strip().startswith(p) for p in prof.get("versions", ())):
            return name, prof
    return None


def pages_for(name: str | None, pages: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """The page map as firmware profile ``name`` lays it out: each table of
    ``[profiles.NAME.pages]`` replaces the base section of that name. The base
    map itself for None or a profile without pages. KeyError for an unknown
    profile name."""
    base = PAGES if pages is None else pages
    if name is None:
        return base
    known = base.get("profiles", {})
    if name not in known:
        raise KeyError(f"no firmware profile {name!r}; known: {', '.join(known)}")
    own = known[name].get("pages", {})
    if not own:
        return base
    return MappingProxyType({**base, **own})


def pages_for_version(version: str) -> tuple[str | None, Mapping[str, Any]]:
    """(profile name, its page map) for a software version as Status > Basics
    shows it; (None, the base map) when no profile claims the version."""
    found = profile_for(version or "")
    return (None, PAGES) if found is None else (found[0], pages_for(found[0]))


def renamed(pages: Mapping[str, Any], old: str, new: str) -> Mapping[str, Any]:
    """A copy of ``pages`` where the form field or element id ``old`` is called
    ``new`` wherever a section names it (the simulator's ``--rename-field``: a
    firmware that renamed one field, for `bringup survey` drills). Paths, the
    menu, the console and what a section ``holds`` (its own keys, not names
    on the page) are left as they are."""
    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return new if value == old else value
        if isinstance(value, tuple):
            return tuple(swap(v) for v in value)
        if isinstance(value, Mapping):
            return {k: (v if k == "holds" else swap(v)) for k, v in value.items()}
        return value

    out = {k: (v if k in ("menu", "console", "common") else swap(v)) for k, v in pages.items()}
    return _freeze(_thaw(out))


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value
