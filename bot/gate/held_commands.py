"""Which shell commands the agent hook holds for sign-off; everything else passes at once.

A command passes only when every part of it can be read and none changes production. It is
read as the shell reads it (``shell_script.py``): every simple command anywhere in it, inside
``bash -c``, ``eval``, subshells, groups, ``if``/``for``/``case`` bodies, ``$( … )``, backticks
and here-documents, through wrappers and their options (``command_wrappers.py``). Each is held
when it:

  * runs a production tool (``production_tools.py``) with a subcommand that changes production,
    aliases included (``helm del``, ``pulumi down``), or with a word the hook cannot read, or
    with words it gets from its input (``xargs``);
  * runs a program it cannot name before it runs (``$(command -v terraform) destroy``,
    ``$TOOL``, a glob), a script by path (``./deploy.sh``), a script file through a shell or
    ``source``, or a shell that reads commands from its input;
  * runs something that is not a program on ``PATH`` (an alias or a shell function from the
    agent's shell: the hook cannot see what it stands for);
  * gives a production tool's name to a program that is not known to treat it as data
    (``python -c "os.system('terraform destroy')"``, ``alias tf=terraform``);
  * sets signoff's own settings (``SIGNOFF_*``, the agent marker) or what the shell runs
    (``PATH``, ``LD_PRELOAD``, ``BASH_ENV``, …), or runs ``signoff guard``/``request`` with a
    flag that would lower the bar or point it elsewhere;
  * cannot be read at all (unbalanced quotes, a here-document without its end).

This is a guard rail for an agent trying to help, not a boundary: a program that is allowed may
still start another. The boundary is production credentials that the agent never holds,
released by ``signoff guard --credentials`` once a senior approved (docs/pipelines.md).

A patterns file (``SIGNOFF_HOOK_PATTERNS``) adds more: one regular expression per line, searched
in the whole command, optionally led by ``destructive:`` or ``not-destructive:`` (what the held
request says; unknown, the default, counts as destructive). ``#`` starts a comment line.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.gate.command_wrappers import SHELL_VALUE_OPTIONS, SHELLS, WRAPPERS, is_assignment, unwrap
from bot.gate.production_tools import MENTIONED, TOOLS
from bot.gate.shell_script import SimpleCommand, Unreadable, Word, read_script


@dataclass(frozen=True)
class Held:
    why: str  # what matched, for the request's description
    destructive: bool | None  # True: it destroys; None: not known (counts as destructive)


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    destructive: bool | None


class PatternError(Exception):
    """The patterns file cannot be read or holds a line that is not a regular expression."""


def load_patterns(path: str | None) -> list[Pattern]:
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise PatternError(f"SIGNOFF_HOOK_PATTERNS {path}: cannot be read ({exc.strerror or exc})") from None
    patterns = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        destructive: bool | None = None
        for prefix, value in (("not-destructive:", False), ("destructive:", True)):
            if text.startswith(prefix):
                text, destructive = text[len(prefix) :].strip(), value
                break
        try:
            patterns.append(Pattern(re.compile(text), destructive))
        except re.error as exc:
            raise PatternError(
                f"SIGNOFF_HOOK_PATTERNS {path}, line {number}: not a regular expression ({exc})"
            ) from None
    return patterns


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Programs that never run what their words name: a production tool's name among their words is data.
DATA_ONLY = _names(
    "echo printf cat head tail wc grep egrep fgrep rg ag ls tree pwd cd pushd popd dirs mkdir rmdir touch cp mv "
    "rm ln chmod chown stat file du df diff cmp sort uniq cut tr tee basename dirname realpath readlink which "
    "type whereis test [ [[ true false : date sleep jq nl paste column comm join fold fmt rev tac od hexdump xxd "
    "base64 sha256sum sha1sum md5sum cksum seq printenv id whoami hostname uname ps wait exit return shift "
    "break continue ulimit umask read set shopt jobs kill export declare typeset local readonly "
    "unset"
)
# Builtins and keywords of bash: they need no program on PATH.
BUILTINS = DATA_ONLY | _names(
    "alias bg bind builtin caller command compgen complete compopt disown enable eval exec fc fg getopts help "
    "logout mapfile readarray source . suspend times trap unalias time coproc let hash history"
)
SHELL_CHANGING = frozenset(
    {"PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "ENV", "IFS", "SHELLOPTS", "BASHOPTS", "PROMPT_COMMAND",
     "ZDOTDIR", "CDPATH", "GIT_EXEC_PATH"}
)  # fmt: skip
SYSTEM_BIN = ("/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin")
# `signoff guard` and `signoff request` flags an agent must not pass: they lower the bar or point it elsewhere.
BAR_LOWERING = frozenset(
    {"--no-ai-assisted", "--not-destructive", "--requester", "--break-glass", "--idempotency-key", "--server",
     "--token"}
)  # fmt: skip
GIT_READS = _names(
    "status log show diff add commit branch checkout switch restore stash fetch pull push remote tag rev-parse "
    "ls-files blame grep init clone merge rebase reset describe shortlog reflog cherry-pick revert mv rm"
)
_MENTION = re.compile(
    r"(?:^|[\s'\"`;&|(=,\[])(?:[~.]?/(?:\S*/)?)?(" + "|".join(MENTIONED) + r")(?=$|[\s'\"`;&|),\]])"
)  # a word of its own, or a path to it that starts with /, ./ or ~/; not a directory named like it
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


class Judge:
    """Reads commands for the hook. ``agent_variable`` names the variable that marks an agent's
    shell; ``which`` finds programs on PATH; ``trusted_dirs`` are where programs by path are
    read as their name."""

    def __init__(
        self,
        patterns: list[Pattern],
        agent_variable: str = "CLAUDECODE",
        which: Callable[[str], str | None] = shutil.which,
        trusted_dirs: Iterable[str] | None = None,
    ) -> None:
        self._patterns = patterns
        self._agent_variable = agent_variable
        self._which = which
        path_dirs = os.environ.get("PATH", "").split(os.pathsep) if trusted_dirs is None else list(trusted_dirs)
        self._trusted = {os.path.normpath(d) for d in (*path_dirs, *SYSTEM_BIN) if os.path.isabs(d)}

    def held(self, command: str) -> Held | None:
        """Why ``command`` must wait for sign-off, or None when it may run at once."""
        for pattern in self._patterns:
            if pattern.regex.search(command):
                return Held(f"it matches the pattern {pattern.regex.pattern!r}", pattern.destructive)
        return self._script(command)

    def _script(self, text: str) -> Held | None:
        try:
            commands = read_script(text)
        except Unreadable as exc:
            return Held(f"the hook cannot read it as the shell would: {exc}", None)
        found = [v for v in (self._simple(c) for c in commands) if v is not None]
        destroying = [v for v in found if v.destructive]
        return (destroying or found)[0] if found else None

    def _simple(self, command: SimpleCommand) -> Held | None:
        return self._words(command.words, command, more_words=False)

    def _words(self, words: list[Word], command: SimpleCommand, more_words: bool) -> Held | None:
        while words and is_assignment(words[0].text):
            why = self._assignment(words[0].text)
            if why is not None:
                return why
            words = words[1:]
        if not words:
            return None
        program, args = words[0], words[1:]
        if not program.literal:
            return Held(f"which program it runs is not known until it runs ({_shown(program.raw)})", None)
        name = program.text
        if "/" in name:
            if os.path.dirname(os.path.normpath(name)) not in self._trusted or name.endswith("/"):
                return Held(f"it runs {_shown(name)}, a script or program by path that the hook cannot read", None)
            name = os.path.basename(name)
        if name in TOOLS:
            return _tool(name, args, more_words)
        if name in WRAPPERS:
            return self._wrapper(name, args, command, more_words)
        if name in SHELLS:
            if more_words:
                return Held(f"{name} gets the commands it runs from its input, which the hook cannot see", None)
            return self._shell(name, args, command)
        special = self._special(name, args, command)
        if not isinstance(special, bool):
            return special
        if name in DATA_ONLY:
            return self._declaration(name, args)
        mentioned = next((m.group(1) for w in args for m in [_MENTION.search(w.raw) or _MENTION.search(w.text)] if m),
                         None)  # fmt: skip
        if mentioned is not None:
            return Held(f"{name} is given {mentioned} in a way the hook cannot follow", None)
        if name not in BUILTINS and self._which(name) is None:
            return Held(
                f"{_shown(name)} is not a program on PATH (an alias or a shell function?), so the hook cannot tell "
                "what it runs",
                None,
            )
        return None

    def _wrapper(self, name: str, args: list[Word], command: SimpleCommand, more_words: bool) -> Held | None:
        inner = unwrap(WRAPPERS[name], args)
        if inner.unreadable is not None:
            return Held(f"{name}: {inner.unreadable}", None)
        for assignment in inner.assignments:
            why = self._assignment(assignment)
            if why is not None:
                return why
        if inner.runs_nothing:
            return None
        if inner.shell_text is not None:  # held when either reading holds it: in doubt, hold
            as_text = self._script(inner.shell_text)
            if as_text is not None or not inner.command:
                return as_text
        return self._words(inner.command, command, more_words or inner.more_words)

    def _shell(self, name: str, args: list[Word], command: SimpleCommand) -> Held | None:
        """``bash -c TEXT`` reads TEXT; ``bash FILE`` runs a file; ``bash`` alone reads its input."""
        i, text_given, from_input = 0, False, False
        while i < len(args):
            word = args[i]
            flag = word.text
            if not word.literal:
                return Held(f"{name} is given words the hook cannot read ({_shown(word.raw)})", None)
            if flag == "--":
                i += 1
                break
            if flag in ("--rcfile", "--init-file"):
                return Held(f"{name} {flag} runs a file the hook cannot read", None)
            if flag in SHELL_VALUE_OPTIONS:
                i += 2
                continue
            if flag.startswith("--"):
                i += 1
                continue
            if len(flag) > 1 and flag[0] in "-+":
                letters = flag[1:]
                text_given = text_given or (flag[0] == "-" and "c" in letters)
                from_input = from_input or "s" in letters
                i += 2 if letters[-1] in "oO" else 1
                continue
            break
        rest = args[i:]
        if text_given:
            return self._script(rest[0].text) if rest else Held(f"{name} -c without the text to run", None)
        if rest and not from_input:
            return Held(f"{name} runs the script {_shown(rest[0].text)}, which the hook cannot read", None)
        inputs = command.inputs()
        if command.stdin_from_file or not inputs:
            return Held(f"{name} reads commands from its input, which the hook cannot see", None)
        verdicts = [self._script(text) for text in inputs]
        return next((v for v in verdicts if v is not None), None)

    def _special(self, name: str, args: list[Word], command: SimpleCommand) -> Held | bool | None:
        """Builtins and programs that run text or files; False: ``name`` is none of them."""
        if name == "eval" or name == "trap":
            given = args[:1] if name == "trap" else args
            if not all(w.literal for w in given):
                return Held(f"{name} runs text the hook cannot read", None)
            return self._script(" ".join(w.text for w in given)) if given else None
        if name in ("source", "."):
            return Held(f"{name} runs a script file the hook cannot read", None)
        if name == "find":
            return self._find(args, command)
        if name == "signoff":
            return self._signoff(args, command)
        if name == "git":
            return _git(args)
        renamed = _renames(name, [w.text for w in args])
        if renamed is not None:
            return renamed
        return False

    def _find(self, args: list[Word], command: SimpleCommand) -> Held | None:
        """``find … -exec CMD {} ;``: CMD runs, with file names in the place of ``{}``."""
        i = 0
        while i < len(args):
            if args[i].text in _FIND_EXEC:
                end = next((j for j in range(i + 1, len(args)) if args[j].text in (";", "+")), len(args))
                run = [Word(w.text, w.raw, w.literal and "{}" not in w.text) for w in args[i + 1 : end]]
                why = self._words(run, command, more_words=False)
                if why is not None:
                    return why
                i = end
            i += 1
        return self._declaration("find", args)

    def _signoff(self, args: list[Word], command: SimpleCommand) -> Held | None:
        """``signoff guard … -- CMD`` is CMD; a flag that would lower the bar is held."""
        names = [w.text.partition("=")[0] for w in args]
        sub = next((n for n in names if not n.startswith("-")), "")
        if sub not in ("guard", "request"):
            return None
        end = names.index("--") if "--" in names else len(names)
        lowering = sorted({n for n in names[:end] if n in BAR_LOWERING})
        if lowering:
            flags = ", ".join(lowering)
            return Held(f"signoff {sub} with {flags}, which would lower the bar or send it elsewhere", None)
        if sub == "guard" and end < len(args):
            return self._words(args[end + 1 :], command, more_words=False)
        return None

    def _declaration(self, name: str, args: list[Word]) -> Held | None:
        """``export``, ``declare``, ``unset`` …: setting or dropping signoff's own settings is held."""
        if name not in ("export", "declare", "typeset", "local", "readonly", "unset"):
            return None
        for word in args:
            if name == "unset" and (word.text.startswith("SIGNOFF_") or word.text == self._agent_variable):
                return Held(f"it unsets {word.text}, one of signoff's own settings", None)
            if is_assignment(word.text):
                why = self._assignment(word.text)
                if why is not None:
                    return why
        return None

    def _assignment(self, text: str) -> Held | None:
        variable, _, value = text.partition("=")
        variable = variable.removesuffix("+")
        mentioned = _MENTION.search(value)
        if mentioned is not None:  # `x='a[$(terraform destroy)]'; echo $((x))` runs it
            return Held(f"it stores {mentioned.group(1)} in {variable}, which the hook cannot follow", None)
        if variable.startswith("SIGNOFF_") or variable == self._agent_variable:
            return Held(f"it sets {variable}, one of signoff's own settings", None)
        if variable in SHELL_CHANGING:
            return Held(f"it sets {variable}, which changes what the shell runs", None)
        return None


def _tool(name: str, args: list[Word], more_words: bool) -> Held | None:
    unread = next((w for w in args if not w.literal), None)
    if unread is not None:
        return Held(f"{name} is given a word the hook cannot read ({_shown(unread.raw)})", None)
    if more_words:
        return Held(f"{name} gets more words from its input, which the hook cannot read", None)
    found = TOOLS[name].judge(name, [w.text for w in args])
    return Held(*found) if found is not None else None


_GIT_CONFIG_READS = frozenset({"--get", "--get-all", "--get-regexp", "--list", "-l", "--show-origin", "get", "list"})
_GIT_RUNS = ("alias.", "core.", "credential.", "diff.", "filter.", "merge.", "gpg.", "sequence.", "uploadpack.")


def _git(args: list[Word]) -> Held | bool | None:
    """git may run other programs through its configuration: ``-c``, ``--config-env`` and
    ``--exec-path`` are held, and so is ``git config`` setting a key that names a program (an
    alias, a pager, an editor, a hook path, a filter, …). A subcommand that reads is data; the
    rest is judged like any program (False)."""
    texts = [w.text for w in args]
    for flag in texts:
        if flag.partition("=")[0] in ("-c", "--config-env", "--exec-path"):
            return Held(f"git {flag.partition('=')[0]} can make git run any program", None)
        if not flag.startswith("-"):
            break
    if "config" in texts and not _GIT_CONFIG_READS & set(texts):
        keys = [t for t in texts[texts.index("config") + 1 :] if not t.startswith("-")]
        if keys and keys[0].lower().startswith(_GIT_RUNS):
            return Held(f"git config {keys[0]} can make git run another program", None)
    return None if _git_reads(args) else False


def _renames(name: str, args: list[str]) -> Held | None:
    """Builtins that change what a name runs, or run what history holds: the hook cannot follow them."""
    if name == "alias" and any("=" in a for a in args):
        return Held("alias makes a name run something else, which the hook cannot follow", None)
    if name == "hash" and any(a.startswith("-") and "p" in a for a in args):
        return Held("hash -p makes a name run another program, which the hook cannot follow", None)
    if name == "enable" and any(a.startswith("-") and "f" in a for a in args):
        return Held("enable -f loads code into the shell, which the hook cannot read", None)
    if name == "fc" and not any(a.startswith("-") and "l" in a for a in args):
        return Held("fc runs commands from the shell's history, which the hook cannot see", None)
    return None


def _git_reads(args: list[Word]) -> bool:
    """git with a subcommand that treats its words as data, and no option that runs something."""
    i = 0
    while i < len(args) and args[i].text.startswith("-"):
        flag = args[i].text.partition("=")[0]
        if flag in ("-c", "--config-env", "--exec-path") or not args[i].literal:
            return False
        i += 2 if flag in ("-C", "--git-dir", "--work-tree", "--namespace") and "=" not in args[i].text else 1
    return i < len(args) and args[i].literal and args[i].text in GIT_READS


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"
