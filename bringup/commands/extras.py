"""``bringup man``, ``bringup completion bash|zsh``, ``bringup install-extras``:
the man page and shell completion, which the one-file bundle carries (written
from the argument parser when it was built), printed or installed."""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from hwprobe.errors import BadInput, BringupError, NeedsPrivileges

# where each file goes under --prefix, and its name in the bundle
INSTALLED = (("share/man/man1/bringup.1", "bringup.1"),
             ("share/bash-completion/completions/bringup", "bringup.bash"),
             ("share/zsh/site-functions/_bringup", "_bringup"))

INSTALL_HELP = """\
Installs the man page and the bash and zsh completion that this bringup
carries, under PREFIX (default /usr/local):
  PREFIX/share/man/man1/bringup.1                   (man bringup)
  PREFIX/share/bash-completion/completions/bringup  (bash, from the next shell)
  PREFIX/share/zsh/site-functions/_bringup          (zsh, from the next shell)
Run it again after installing a newer bringup. Needs root for /usr/local.
--remove takes those three files away again (only those: the folders stay,
and a file there that is not bringup's is left alone).
"""


def register(sub, root) -> None:
    whole = root.build_whole        # the parser of every command (bringup.cli's)
    m = sub.add_parser("man", help="print the man page (bringup man | man -l -)",
                       description="Print bringup's man page (roff): every command and "
                                   "option, the quick card, the sheet format, the exit "
                                   "status and what bringup changes on the laptop.")
    m.set_defaults(handler=lambda args: _print("bringup.1", whole))
    c = sub.add_parser("completion", help="print the bash or zsh completion script",
                       description="Print the completion script for SHELL, e.g. "
                                   "`source <(bringup completion bash)`.")
    c.add_argument("shell", choices=("bash", "zsh"))
    c.set_defaults(handler=lambda args: _print("bringup.bash" if args.shell == "bash"
                                               else "_bringup", whole))
    i = sub.add_parser("install-extras", help="install the man page and shell completion",
                       description=INSTALL_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("--prefix", default="/usr/local", metavar="DIR",
                   help="install under DIR (default /usr/local)")
    i.add_argument("--remove", action="store_true",
                   help="remove what install-extras wrote under DIR instead")
    i.set_defaults(handler=lambda args: _install(args, whole))


def text_of(name: str, whole: Callable[[], argparse.ArgumentParser]) -> str:
    """The file the bundle carries, or (from a source tree) the same text made
    now from ``whole()``, the parser of every command."""
    from bringup import docgen

    shipped = docgen.shipped(name)
    if shipped is not None:
        return shipped
    make = {"bringup.1": docgen.man, "bringup.bash": docgen.bash, "_bringup": docgen.zsh}[name]
    return make(whole())


def _print(name: str, whole) -> int:
    print(text_of(name, whole), end="")
    return 0


def _install(args, whole) -> int:
    prefix = Path(args.prefix)
    if not prefix.is_dir():
        raise BadInput(f"--prefix {prefix}: no such folder")
    if args.remove:
        return _remove(prefix)
    written = []
    for rel, name in INSTALLED:
        path = prefix / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text(text_of(name, whole))
            tmp.chmod(0o644)
            tmp.replace(path)
        except PermissionError:
            raise NeedsPrivileges(f"cannot write {path}: run `sudo bringup install-extras`"
                                  + (" (nothing was installed)" if not written else
                                     f" (installed so far: {', '.join(written)})")) from None
        except OSError as exc:
            raise BringupError(f"cannot write {path} ({exc.strerror})") from None
        written.append(str(path))
        print(f"installed {path}")
    return 0


# what marks each file as bringup's own (a newer bringup's text differs)
MARKS = {"bringup.1": ".TH BRINGUP", "bringup.bash": "_bringup", "_bringup": "#compdef bringup"}


def _remove(prefix: Path) -> int:
    """Remove the files ``install-extras`` writes under ``prefix``; a file of
    that name that is not bringup's is left alone and named. Returns 0."""
    for rel, name in INSTALLED:
        path = prefix / rel
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            print(f"not installed: {path}")
            continue
        except OSError as exc:
            raise BringupError(f"cannot read {path} ({exc.strerror})") from None
        if MARKS[name] not in text:
            print(f"left alone (not bringup's): {path}")
            continue
        try:
            path.unlink()
        except PermissionError:
            raise NeedsPrivileges(f"cannot remove {path}: run `sudo bringup install-extras "
                                  f"--remove`") from None
        except OSError as exc:
            raise BringupError(f"cannot remove {path} ({exc.strerror})") from None
        print(f"removed {path}")
    return 0
