"""Programs that run another program: what each one runs, so the hook judges that instead.

``timeout 600 terraform apply`` runs ``terraform apply``; ``sudo -u deploy terraform destroy``
too, and the ``deploy`` there is an option's value, not the program. Each wrapper is described
by the options that take a value, the words it takes before the command, and what it does with
the rest: runs it as a command, joins it into shell text (``watch``, ``ssh``, ``sudo -s``), or
gives it more words the text does not show (``xargs``, ``find -exec``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from bot.gate.shell_script import Word


class Then(Enum):
    COMMAND = "command"  # the words left are a command
    SHELL_TEXT = "shell text"  # the words left, joined with spaces, are read again by a shell
    MORE_WORDS = "more words"  # a command that gets more words from its input (xargs)


@dataclass(frozen=True)
class Wrapper:
    takes_value: frozenset[str] = frozenset()  # options whose value is the next word (or glued: -n5)
    positional: int = 0  # words between the options and the command (timeout's duration)
    then: Then = Then.COMMAND
    runs_nothing: frozenset[str] = frozenset()  # options after which nothing is run (command -v)
    script_value: frozenset[str] = frozenset()  # options whose value is shell text (su -c, flock -c)
    shell_flags: frozenset[str] = frozenset()  # options after which the rest is shell text (sudo -s)
    assignments: bool = False  # NAME=value words may stand before the command (env, sudo)
    needs_command: bool = True  # with no command left it opens a shell or reads its input
    script_only: bool = False  # it runs only what a script option gives; without one, a shell (su)


def _opts(*names: str) -> frozenset[str]:
    return frozenset(names)


WRAPPERS: dict[str, Wrapper] = {
    "sudo": Wrapper(
        _opts("-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-T", "-U", "--user", "--group", "--close-from",
              "--chdir", "--host", "--prompt", "--role", "--type", "--command-timeout", "--other-user"),
        runs_nothing=_opts("-l", "-v", "-k", "-K", "-e", "--list", "--validate", "--edit", "--reset-timestamp",
                           "--remove-timestamp"),
        shell_flags=_opts("-s", "-i", "--shell", "--login"),
        assignments=True,
    ),
    "doas": Wrapper(_opts("-u", "-C"), shell_flags=_opts("-s")),
    "env": Wrapper(_opts("-u", "--unset", "-C", "--chdir"), assignments=True, needs_command=False),
    "timeout": Wrapper(_opts("-s", "--signal", "-k", "--kill-after"), positional=1),
    "nice": Wrapper(_opts("-n", "--adjustment"), needs_command=False),
    "nohup": Wrapper(),
    "setsid": Wrapper(),
    "stdbuf": Wrapper(_opts("-i", "-o", "-e", "--input", "--output", "--error")),
    "ionice": Wrapper(_opts("-c", "-n", "--class", "--classdata"), runs_nothing=_opts("-p", "-P", "-u")),
    "taskset": Wrapper(positional=1, runs_nothing=_opts("-p", "--pid")),
    "chrt": Wrapper(_opts("-T", "-P", "-D"), positional=1, runs_nothing=_opts("-p", "--pid", "-m", "--max")),
    "chroot": Wrapper(_opts("--userspec", "--groups"), positional=1),
    "unbuffer": Wrapper(),
    "time": Wrapper(_opts("-f", "-o", "--format", "--output"), needs_command=False),
    "command": Wrapper(runs_nothing=_opts("-v", "-V"), needs_command=False),
    "builtin": Wrapper(),
    "exec": Wrapper(_opts("-a"), needs_command=False),
    "coproc": Wrapper(),
    "nocorrect": Wrapper(),
    "noglob": Wrapper(),
    "flock": Wrapper(_opts("-w", "--timeout", "-E", "--conflict-exit-code"), positional=1,
                     script_value=_opts("-c", "--command")),
    "watch": Wrapper(_opts("-n", "--interval", "-q", "--equexit"), then=Then.SHELL_TEXT),
    "xargs": Wrapper(
        _opts("-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter", "--eof", "--replace",
              "--max-lines", "--max-args", "--max-procs", "--max-chars", "--process-slot-var"),
        then=Then.MORE_WORDS,
        needs_command=False,
    ),
    "su": Wrapper(_opts("-g", "-G", "-s", "-w", "--group", "--supp-group", "--shell", "--whitelist-environment"),
                  script_value=_opts("-c", "--command", "--session-command"), script_only=True),
    "runuser": Wrapper(_opts("-g", "-G", "-s", "-u", "-w", "--group", "--supp-group", "--shell", "--user"),
                       script_value=_opts("-c", "--command", "--session-command"), script_only=True),
    "script": Wrapper(_opts("-E", "-I", "-O", "-T", "-B", "-m", "--echo", "--log-in", "--log-out",
                            "--log-timing", "--log-io", "--logging-format", "--output-limit"),
                      script_value=_opts("-c", "--command"), script_only=True),
    "ssh": Wrapper(_opts("-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o", "-p",
                         "-Q", "-R", "-S", "-W", "-w", "-B"), positional=1, then=Then.SHELL_TEXT),
}  # fmt: skip

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "posh", "rbash"})
# A shell's options that take the next word: `-o pipefail`, `--rcfile FILE` (a file that runs: held).
SHELL_VALUE_OPTIONS = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})


@dataclass
class Unwrapped:
    """What a wrapper runs."""

    command: list[Word] = field(default_factory=list)  # the command, if it is one
    shell_text: str | None = None  # or shell text to read again
    more_words: bool = False  # the command gets words the text does not show
    assignments: list[str] = field(default_factory=list)  # NAME=value set for it
    unreadable: str | None = None  # why what it runs cannot be read
    runs_nothing: bool = False


def unwrap(spec: Wrapper, args: list[Word]) -> Unwrapped:
    """What ``spec``'s program runs when given ``args``."""
    found = Unwrapped()
    if spec.script_value and _script_text(spec, args, found):
        return found
    i, shell = _options(spec, args, found)
    if found.runs_nothing or found.unreadable is not None:
        return found
    if spec.assignments:
        while i < len(args) and is_assignment(args[i].text):
            found.assignments.append(args[i].text)
            i += 1
    rest = args[i + spec.positional :]
    if not rest:
        if spec.needs_command or shell:
            found.unreadable = "it opens a shell that reads commands the hook cannot see"
        else:
            found.runs_nothing = True  # env, nice, time, xargs alone: print something
    elif shell or spec.then is Then.SHELL_TEXT:
        if all(w.literal for w in rest):
            found.shell_text = " ".join(w.text for w in rest)
            found.command = rest  # `watch -x`, and the like, run the words as they are: both are read
        else:
            found.unreadable = f"shell text it cannot read ({' '.join(w.raw for w in rest)[:80]})"
    else:
        found.command = rest
        found.more_words = spec.then is Then.MORE_WORDS
    return found


def _script_text(spec: Wrapper, args: list[Word], found: Unwrapped) -> bool:
    """``su -c TEXT``, ``flock FILE -c TEXT``: options that stand anywhere and give shell text."""
    for j, word in enumerate(args):
        name, eq, glued = word.text.partition("=")
        if name not in spec.script_value or not word.text.startswith("-"):
            continue
        value = Word(glued, glued, word.literal) if eq else (args[j + 1] if j + 1 < len(args) else None)
        if value is None or not value.literal:
            found.unreadable = f"{name} is given text it cannot read"
        else:
            found.shell_text = value.text
        return True
    if spec.script_only:
        found.unreadable = "without -c it opens a shell that reads commands the hook cannot see"
        return True
    return False


def _options(spec: Wrapper, args: list[Word], found: Unwrapped) -> tuple[int, bool]:
    """Read the options in front: (where the rest starts, whether an option made the rest shell text)."""
    i, shell = 0, False
    while i < len(args):
        word = args[i]
        text = word.text
        if text == "--":
            return i + 1, shell
        if not text.startswith("-") or text == "-":
            if not word.literal and not i:
                break
            return i, shell
        if not word.literal:
            found.unreadable = f"an option it cannot read ({word.raw[:80]})"
            return i, shell
        i += 1
        if text.startswith("--"):
            name, eq, _ = text.partition("=")
            if not eq and name in spec.takes_value:
                i += 1
            letters = [name]
        else:
            letters = []
            for pos, letter in enumerate(text[1:], 1):
                letters.append("-" + letter)
                if "-" + letter in spec.takes_value:
                    i += 0 if text[pos + 1 :] else 1  # -n5 holds its value; -n 5 takes the next word
                    break
        for name in letters:
            if name in spec.runs_nothing:
                found.runs_nothing = True
                return i, shell
            if name in ("-S", "--split-string") and spec.assignments and not spec.shell_flags:
                found.unreadable = "env -S splits text the hook does not read"
                return i, shell
            shell = shell or name in spec.shell_flags
    return i, shell


def is_assignment(text: str) -> bool:
    """``NAME=value``: a variable set for the command, not the command."""
    name, eq, _ = text.partition("=")
    name = name.removesuffix("+")
    return (
        bool(eq)
        and bool(name)
        and (name[0].isalpha() or name[0] == "_")
        and name.isascii()
        and all(c.isalnum() or c == "_" for c in name)
    )
