"""The man page and the bash and zsh completion, written from the argument
parser (so they name every command and option there is), the quick card's text
(hwprobe/helptext.py, the same as `bringup --help`) and the user docs (docs/).

``man(parser)``, ``bash(parser)`` and ``zsh(parser)`` return the text.
``shipped(name)`` returns the file of that name that scripts/gen-docs wrote
into the bundle at build time (package ``bringup_docs``), or None when running
from a source tree. ``user_docs()`` returns {file name: text} of docs/*.md,
from the bundle or the source tree ({} when neither has them). Never raises.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from hwprobe.helptext import CARD

DOC_FILES = ("sheet.md", "exit-status.md", "laptop.md")
DOC_TITLES = {"sheet.md": "THE SETTINGS SHEET", "exit-status.md": "EXIT STATUS",
              "laptop.md": "WHAT BRINGUP CHANGES ON THE LAPTOP"}


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """{name: parser} of the sub-commands of ``parser`` (empty when none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings
            if a.help != argparse.SUPPRESS]


def _shipped_dir() -> Path | None:
    try:
        import bringup_docs
    except ImportError:
        return None
    return Path(bringup_docs.__file__).parent


def shipped(name: str) -> str | None:
    d = _shipped_dir()
    try:
        return (d / name).read_text() if d else None
    except OSError:
        return None


def user_docs() -> dict[str, str]:
    out = {}
    for base in (_shipped_dir(), Path(__file__).resolve().parent.parent / "docs"):
        for name in DOC_FILES:
            if base is not None and name not in out and (base / name).is_file():
                out[name] = (base / name).read_text()
    return out


# --- man ------------------------------------------------------------------------

def _esc(text: str) -> str:
    """roff-safe text: backslashes and hyphens escaped, no line starting with . or '."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line
                     for line in text.splitlines())


def _usage(parser: argparse.ArgumentParser) -> str:
    return " ".join(parser.format_usage().replace("usage: ", "").split())


def _man_command(name: str, parser: argparse.ArgumentParser, out: list[str]) -> None:
    out += [".TP", f".B {_esc(name)}", _esc(_usage(parser))]
    if parser.description:
        out += [".br", _esc(" ".join(parser.description.split("\n\n")[0].split()))]
    for action in parser._actions:
        if action.option_strings and action.help not in (None, argparse.SUPPRESS) \
                and "-h" not in action.option_strings:
            out += [".br", f"\\fB{_esc(', '.join(action.option_strings))}\\fR  "
                    + _esc(" ".join(str(action.help).split()).replace("%%", "%"))]
    for sub_name, sub in commands(parser).items():
        _man_command(f"{name} {sub_name}", sub, out)


def man(parser: argparse.ArgumentParser) -> str:
    out = [".TH BRINGUP 1", ".SH NAME", "bringup \\- " + _esc(parser.description or ""),
           ".SH SYNOPSIS", _esc(_usage(parser)), ".SH OPTIONS"]
    for action in parser._actions:
        if action.option_strings and action.help not in (None, argparse.SUPPRESS):
            out += [".TP", f".B {_esc(', '.join(action.option_strings))}",
                    _esc(" ".join(str(action.help).split()))]
    out.append(".SH COMMANDS")
    for name, sub in commands(parser).items():
        _man_command(name, sub, out)
    for title, body in CARD:
        out += [f".SH {_esc(title.upper())}", ".nf", _esc(body), ".fi"]
    for name, text in user_docs().items():
        out += [f".SH {DOC_TITLES[name]}", ".nf", _esc(text.rstrip()), ".fi"]
    out += [".SH SEE ALSO", "docs/ in the bringup source: sheet.md, exit\\-status.md, laptop.md"]
    return "\n".join(out) + "\n"


# --- completion -------------------------------------------------------------------

def _choices(parser: argparse.ArgumentParser) -> list[str]:
    return [str(c) for a in parser._actions if not a.option_strings and a.choices
            and not isinstance(a, argparse._SubParsersAction) for c in a.choices]


def bash(parser: argparse.ArgumentParser) -> str:
    """A bash completion: commands, then each command's sub-commands, options
    and fixed choices; files for everything else."""
    cases = []
    for name, sub in commands(parser).items():
        words = [*commands(sub), *options(sub), *_choices(sub)]
        cases.append(f'        {name}) opts="{" ".join(words)}" ;;')
        for sub_name, subsub in commands(sub).items():
            words = [*options(subsub), *_choices(subsub)]
            cases.append(f'        "{name} {sub_name}") opts="{" ".join(words)}" ;;')
    top = " ".join([*commands(parser), *options(parser)])
    return f"""# bash completion for bringup (generated from its argument parser)
_bringup() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} opts key
    if [ "$COMP_CWORD" -eq 1 ]; then
        opts="{top}"
    else
        key=${{COMP_WORDS[1]}}
        if [ "$COMP_CWORD" -gt 2 ]; then
            case "$key ${{COMP_WORDS[2]}}" in
                "lab "*|"failover "*) key="$key ${{COMP_WORDS[2]}}" ;;
            esac
        fi
        case $key in
{chr(10).join(cases)}
        *) opts="{" ".join(options(parser))}" ;;
        esac
    fi
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    [ ${{#COMPREPLY[@]}} -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))
    return 0
}}
complete -F _bringup bringup
"""


def _zsh_words(words: list[str]) -> str:
    return " ".join(w.replace("'", "") for w in words)


def zsh(parser: argparse.ArgumentParser) -> str:
    """A zsh completion: commands with their one-line help, then options."""
    described = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name in action.choices:
                text = " ".join(helps.get(name, name).split()).replace("'", "").replace(":", " ")
                described.append(f"    '{name}:{text[:70]}'")
    cases = []
    for name, sub in commands(parser).items():
        cases.append(f"    {name}) words_=({_zsh_words([*commands(sub), *options(sub), *_choices(sub)])}) ;;")
    return ("#compdef bringup\n# zsh completion for bringup (generated from its argument parser)\n"
            "_bringup() {\n  local -a cmds words_\n  cmds=(\n" + "\n".join(described) + "\n  )\n"
            "  if (( CURRENT == 2 )); then\n    _describe command cmds\n"
            f"    compadd -- {_zsh_words(options(parser))}\n    return\n  fi\n"
            "  case ${words[2]} in\n" + "\n".join(cases) + "\n    *) words_=() ;;\n  esac\n"
            "  compadd -- $words_\n  _files\n}\n_bringup \"$@\"\n")
