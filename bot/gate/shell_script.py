"""Read a shell command as the shell would, to find every simple command it can run.

The agent hook must see the ``terraform destroy`` inside ``bash -c '…'``, ``( … )``,
``{ …; }``, ``$( … )``, backticks, ``if``/``for``/``while``/``case`` bodies, functions,
process substitutions and here-documents, and must know which words it cannot read (an
expansion, a glob, a brace expansion) before anything runs. This module splits the text into
words and operators (quotes, escapes, ``;``, ``&&``, ``||``, ``|``, ``&``, newlines,
redirections) and returns every simple command found anywhere in it, flat: their order and
nesting do not matter to a check that asks "could any of these change production".

It reads POSIX sh and bash syntax. Whatever it does not understand raises ``Unreadable``, so
the caller holds the command: unbalanced quotes or parentheses, a here-document without its
end, nesting past ``MAX_DEPTH``. It runs nothing and expands nothing.

We wrote this instead of taking ``bashlex``: that parser is GPL-3.0 (signoff is MIT), and it
refuses valid bash that we would then have to hold anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_DEPTH = 16  # substitutions inside substitutions; deeper is held as unreadable
_META = frozenset(" \t\n;&|()<>")
_RESERVED_SKIPPED = frozenset({"!", "{", "}", "then", "else", "do", "done", "fi", "if", "elif", "while", "until"})
_ANSI_C = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ANSI_C.update({"\\": "\\", "'": "'", '"': '"', "?": "?"})


class Unreadable(Exception):
    """The text cannot be read with certainty; the message says where."""


@dataclass
class Word:
    text: str  # the word after quote removal; expansions are left as written
    raw: str  # as it stands in the command
    literal: bool = True  # nothing in it changes when the shell runs it (no $, `, glob, brace, ~)


@dataclass
class HereDoc:
    delimiter: str
    quoted: bool  # a quoted delimiter: the body is taken as it is, nothing expands
    strip_tabs: bool
    body: str = ""


@dataclass
class SimpleCommand:
    words: list[Word] = field(default_factory=list)
    stdin: list[str] = field(default_factory=list)  # here-strings and here-documents given to it
    stdin_from_file: bool = False  # `< file`: what it reads is not in the text
    heredocs: list[HereDoc] = field(default_factory=list)

    def inputs(self) -> list[str]:
        """The text it is given on its standard input, where the command itself holds it."""
        return [*self.stdin, *(doc.body for doc in self.heredocs)]


def read_script(source: str) -> list[SimpleCommand]:
    """Every simple command in ``source``, or ``Unreadable``."""
    reader = _Reader(source, 0, 0)
    reader.parse(closer=None)
    return reader.commands


class _Reader:
    """One level of shell text: a whole script, or what stands inside ``$( … )``."""

    def __init__(self, source: str, start: int, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise Unreadable("it nests substitutions too deeply")
        self.s = source
        self.i = start
        self.depth = depth
        self.commands: list[SimpleCommand] = []
        self._heredocs: list[HereDoc] = []  # begun on this line; their bodies follow its end

    # ---- commands -----------------------------------------------------------------------------

    def parse(self, closer: str | None) -> None:
        """Read commands up to the end, or (``closer`` ``)``) up to the ``)`` that closes a ``$(``."""
        current = SimpleCommand()
        parens = 0
        case_depth = 0
        in_pattern = False  # between `case … in` / `;;` and the `)` that ends a pattern
        skip_words = ""  # `for NAME in …` and `[[ … ]]`: words that are not commands
        expect_case_in = False

        def end_command() -> None:
            nonlocal current
            if current.words or current.heredocs or current.stdin:
                self.commands.append(current)
            current = SimpleCommand()

        while True:
            token = self._token()
            if token is None:
                if closer is not None:
                    raise Unreadable("a $( … ) is not closed")
                if parens:
                    raise Unreadable("a ( is not closed")
                end_command()
                self._close_heredocs()
                return
            kind, value = token
            if kind == "word":
                assert isinstance(value, Word)
                at_start = not current.words
                if skip_words == "]]":
                    if value.raw == "]]":
                        skip_words = ""
                    continue
                if skip_words == "for":
                    if value.raw == "do" and value.literal:
                        skip_words = ""
                    continue
                if expect_case_in:
                    if value.raw == "in":
                        expect_case_in, in_pattern = False, True
                    continue
                if in_pattern:
                    if value.raw == "esac":
                        in_pattern, case_depth = False, case_depth - 1
                    continue
                if at_start and value.raw == value.text and value.text.isascii():
                    if value.text in _RESERVED_SKIPPED:
                        continue
                    if value.text in ("for", "select"):
                        skip_words = "for"
                        continue
                    if value.text == "[[":
                        skip_words = "]]"
                        continue
                    if value.text == "case":
                        case_depth += 1
                        expect_case_in = True
                        continue
                    if value.text == "esac" and case_depth:
                        case_depth -= 1
                        continue
                    if value.text == "function":
                        self._function_name()
                        continue
                current.words.append(value)
            elif kind == "redirect":
                assert isinstance(value, str)
                self._redirect(value, current)
            elif kind == "op":
                assert isinstance(value, str)
                if value == "\n":
                    end_command()
                    if self._heredocs:
                        self._read_heredocs()
                    continue
                if in_pattern:
                    if value == ")":
                        in_pattern = False
                    elif value not in ("(", "|"):
                        raise Unreadable(f"an unexpected {value!r} in a case pattern")
                    continue
                if value in (";;", ";&", ";;&"):
                    if not case_depth:
                        raise Unreadable(f"{value!r} outside a case")
                    end_command()
                    in_pattern = True
                    continue
                if value == "(":
                    if len(current.words) == 1 and self._function_parens():
                        current = SimpleCommand()  # `name ()`: a function definition; its body follows
                        continue
                    if current.words:
                        raise Unreadable("a ( where the shell does not allow one")
                    if self._peek_char() == "(":
                        self.i += 1
                        self._arithmetic("((")
                        continue
                    parens += 1
                    continue
                if value == ")":
                    end_command()
                    if parens:
                        parens -= 1
                        continue
                    if closer == ")":
                        self._close_heredocs()
                        return
                    raise Unreadable("a ) that closes nothing")
                end_command()  # ; & && || | |&
            else:  # pragma: no cover - the tokenizer makes only these kinds
                raise AssertionError(kind)

    def _function_parens(self) -> bool:
        """After ``name (``: whether ``)`` follows, making it a function definition."""
        start = self.i
        self._skip_blanks()
        if self._peek_char() == ")":
            self.i += 1
            return True
        self.i = start
        return False

    def _function_name(self) -> None:
        """After ``function``: the name (not a command), then an optional ``()``."""
        token = self._token()
        if token is None or token[0] != "word":
            raise Unreadable("function without a name")
        self._skip_blanks()
        if self.s.startswith("()", self.i):
            self.i += 2

    def _redirect(self, op: str, current: SimpleCommand) -> None:
        target = self._token()
        if target is None or target[0] != "word":
            raise Unreadable(f"the redirection {op!r} has no target")
        word = target[1]
        assert isinstance(word, Word)
        if op in ("<<", "<<-"):
            doc = HereDoc(word.text, quoted=word.raw != word.text, strip_tabs=op == "<<-")
            current.heredocs.append(doc)
            self._heredocs.append(doc)
        elif op == "<<<":
            current.stdin.append(word.text)
        elif op in ("<", "<>"):
            current.stdin_from_file = True

    def _read_heredocs(self) -> None:
        """The bodies of the here-documents begun on the line that just ended."""
        for doc in self._heredocs:
            lines = []
            while True:
                if self.i >= len(self.s):
                    raise Unreadable(f"the here-document {doc.delimiter!r} has no end")
                end = self.s.find("\n", self.i)
                line = self.s[self.i :] if end < 0 else self.s[self.i : end]
                self.i = len(self.s) if end < 0 else end + 1
                if (line.lstrip("\t") if doc.strip_tabs else line) == doc.delimiter:
                    break
                lines.append(line)
            doc.body = "\n".join(lines)
            if not doc.quoted:  # `$( … )` and backticks in the body run
                self.commands += _expansions_in(doc.body, self.depth + 1)
        self._heredocs = []

    def _close_heredocs(self) -> None:
        if self._heredocs:
            raise Unreadable(f"the here-document {self._heredocs[0].delimiter!r} has no end")

    def _arithmetic(self, opened: str) -> None:
        """``(( … ))`` or ``$(( … ))``: numbers, but ``$( … )`` inside still runs."""
        depth, start = 2, self.i
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            self.i += 1
        else:
            raise Unreadable(f"an arithmetic {opened} is not closed")
        body = self.s[start : self.i - 1]
        if self.s[self.i - 1] != ")":
            raise Unreadable(f"an arithmetic {opened} is not closed with ))")
        self.i += 1
        self.commands += _expansions_in(body, self.depth + 1)
        # Arithmetic evaluates the values of the variables it names, and their array subscripts
        # run command substitutions: it is read like `let TEXT`, so a production tool named in it is held.
        unquoted = body.replace("'", "").replace('"', "").replace("\\", "")  # bash removes quotes here too
        self.commands.append(SimpleCommand([Word("let", "let"), Word(unquoted, body)]))

    # ---- tokens -------------------------------------------------------------------------------

    def _peek_char(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def _skip_blanks(self) -> None:
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in " \t":
                self.i += 1
            elif self.s.startswith("\\\n", self.i):
                self.i += 2
            elif ch == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                return

    def _token(self) -> tuple[str, Word | str] | None:
        self._skip_blanks()
        if self.i >= len(self.s):
            return None
        s, i = self.s, self.i
        if s[i] in "<>" and s.startswith("(", i + 1):  # <( … ) and >( … ): process substitution
            return "word", self._word()
        digits = i
        while digits < len(s) and s[digits].isdigit() and s[digits].isascii():
            digits += 1
        for op in ("&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">&", ">>", ">|", "<", ">"):
            if s.startswith(op, digits) and (digits == i or not op.startswith("&")):
                self.i = digits + len(op)
                return "redirect", op
        for op in (";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|", "(", ")", "\n"):
            if s.startswith(op, i):
                self.i = i + len(op)
                return "op", op
        return "word", self._word()

    def _word(self) -> Word:
        s = self.s
        start = self.i
        text: list[str] = []
        literal = True
        brace_open = False  # an unquoted `{` seen: a `,` or `..` before its `}` is brace expansion
        if s[self.i] == "~":
            literal = False
        while self.i < len(s):
            ch = s[self.i]
            if ch in _META:
                if ch in "<>" and s.startswith("(", self.i + 1):
                    self.i += 2
                    self._substitution()
                    literal = False
                    continue
                if ch == "(" and text and _is_assignment_start("".join(text)):
                    self._array_assignment()
                    literal = False
                    continue
                break
            if ch == "\\":
                if self.i + 1 >= len(s):
                    raise Unreadable("the command ends with a lone backslash")
                if s[self.i + 1] != "\n":
                    text.append(s[self.i + 1])
                self.i += 2
            elif ch == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise Unreadable("a ' is not closed")
                text.append(s[self.i + 1 : end])
                self.i = end + 1
            elif ch == '"':
                self.i += 1
                inner, plain = self._double_quoted()
                text.append(inner)
                literal = literal and plain
            elif ch == "$":
                if s.startswith("$'", self.i):
                    self.i += 2
                    text.append(self._ansi_c())
                elif s.startswith('$"', self.i):
                    self.i += 2
                    inner, plain = self._double_quoted()
                    text.append(inner)
                    literal = literal and plain
                else:
                    text.append(self._dollar())
                    literal = False
            elif ch == "`":
                self._backticks()
                text.append("`…`")
                literal = False
            else:
                if ch in "*?" or (ch == "[" and "]" in s[self.i + 1 : self._word_end()]):
                    literal = False
                elif ch == "{":
                    brace_open = True
                elif ch == "}":
                    brace_open = False
                elif brace_open and (ch == "," or s.startswith("..", self.i)):
                    literal = False
                text.append(ch)
                self.i += 1
        return Word("".join(text), s[start : self.i], literal)

    def _word_end(self) -> int:
        """Where the unquoted run from here ends, roughly: enough to tell ``[`` from a glob."""
        end = self.i
        while end < len(self.s) and self.s[end] not in _META:
            end += 1
        return end

    def _double_quoted(self) -> tuple[str, bool]:
        """After ``"``: the text up to the closing quote, and whether nothing in it expands."""
        s = self.s
        text: list[str] = []
        plain = True
        while True:
            if self.i >= len(s):
                raise Unreadable('a " is not closed')
            ch = s[self.i]
            if ch == '"':
                self.i += 1
                return "".join(text), plain
            if ch == "\\" and self.i + 1 < len(s) and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    text.append(s[self.i + 1])
                self.i += 2
            elif ch == "$" and self.i + 1 < len(s) and (s[self.i + 1] in "({_@*#?$!-" or s[self.i + 1].isalnum()):
                text.append(self._dollar())
                plain = False
            elif ch == "`":
                self._backticks()
                text.append("`…`")
                plain = False
            else:
                text.append(ch)
                self.i += 1

    def _dollar(self) -> str:
        """At ``$``: read an expansion, reading any command inside it, and return it as written."""
        s = self.s
        start = self.i
        self.i += 1
        if s.startswith("((", self.i):
            if _arithmetic_closes(s, self.i + 2):
                self.i += 2
                self._arithmetic("$((")
                return s[start : self.i]
            self.i += 1  # `$( (…) )`: a subshell inside a substitution
            self._substitution()
        elif s.startswith("(", self.i):
            self.i += 1
            self._substitution()
        elif s.startswith("{", self.i):
            self.i += 1
            self._parameter()
        else:
            while self.i < len(s) and (s[self.i].isalnum() or s[self.i] == "_"):
                self.i += 1
            if self.i == start + 1 and self.i < len(s) and s[self.i] in "@*#?$!-0123456789":
                self.i += 1
        return s[start : self.i]

    def _substitution(self) -> None:
        """After ``$(`` (or ``<(``): the commands up to the matching ``)``."""
        inner = _Reader(self.s, self.i, self.depth + 1)
        inner.parse(closer=")")
        self.commands += inner.commands
        self.i = inner.i

    def _parameter(self) -> None:
        """After ``${``: up to the matching ``}``; ``$( … )`` in a default value still runs."""
        s = self.s
        depth = 1
        while self.i < len(s):
            ch = s[self.i]
            if ch == "\\":
                self.i += 2
            elif ch == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise Unreadable("a ' is not closed")
                self.i = end + 1
            elif ch == '"':
                self.i += 1
                self._double_quoted()
            elif ch == "$":
                self._dollar()
            elif ch == "`":
                self._backticks()
            elif ch == "{":
                depth += 1
                self.i += 1
            elif ch == "}":
                depth -= 1
                self.i += 1
                if depth == 0:
                    return
            else:
                self.i += 1
        raise Unreadable("a ${ is not closed")

    def _backticks(self) -> None:
        """At a backtick: the old form of ``$( … )``, read again as a script of its own."""
        s = self.s
        self.i += 1
        inner: list[str] = []
        while True:
            if self.i >= len(s):
                raise Unreadable("a ` is not closed")
            ch = s[self.i]
            if ch == "`":
                self.i += 1
                break
            if ch == "\\" and self.i + 1 < len(s) and s[self.i + 1] in "$`\\":
                inner.append(s[self.i + 1])
                self.i += 2
            else:
                inner.append(ch)
                self.i += 1
        nested = _Reader("".join(inner), 0, self.depth + 1)
        nested.parse(closer=None)
        self.commands += nested.commands

    def _ansi_c(self) -> str:
        """After ``$'``: the string with its escapes decoded, as bash does."""
        s = self.s
        out: list[str] = []
        while True:
            if self.i >= len(s):
                raise Unreadable("a $' is not closed")
            ch = s[self.i]
            if ch == "'":
                self.i += 1
                return "".join(out)
            if ch != "\\":
                out.append(ch)
                self.i += 1
                continue
            self.i += 1
            esc = s[self.i : self.i + 1]
            if esc in _ANSI_C:
                out.append(_ANSI_C[esc])
                self.i += 1
            elif esc in ("x", "u", "U"):
                width = {"x": 2, "u": 4, "U": 8}[esc]
                self.i += 1
                digits = _take(s, self.i, width, "0123456789abcdefABCDEF")
                if not digits:
                    raise Unreadable(f"an escape \\{esc} without digits")
                self.i += len(digits)
                out.append(_char(int(digits, 16)))
            elif esc and esc in "01234567":
                digits = _take(s, self.i, 3, "01234567")
                self.i += len(digits)
                out.append(_char(int(digits, 8) & 0xFF))
            elif esc == "c" and self.i + 1 < len(s):
                out.append(chr(ord(s[self.i + 1]) & 0x1F))
                self.i += 2
            else:
                raise Unreadable(f"an escape \\{esc} that the hook does not read")

    def _array_assignment(self) -> None:
        """``name=( … )``: words, whose substitutions still run."""
        self.i += 1
        while True:
            token = self._token()
            if token is None:
                raise Unreadable("an array ( … ) is not closed")
            if token == ("op", ")"):
                return
            if token[0] == "op" and token[1] != "\n":
                raise Unreadable(f"an unexpected {token[1]!r} in an array")


def _expansions_in(text: str, depth: int) -> list[SimpleCommand]:
    """The commands in text where only ``$…`` and backticks mean anything (a here-document's
    body, arithmetic)."""
    reader = _Reader(text, 0, depth)
    while reader.i < len(text):
        ch = text[reader.i]
        if ch == "\\":
            reader.i += 2
        elif ch == "$":
            reader._dollar()
        elif ch == "`":
            reader._backticks()
        else:
            reader.i += 1
    return reader.commands


def _is_assignment_start(text: str) -> bool:
    name = text[:-2] if text.endswith("+=") else text[:-1] if text.endswith("=") else ""
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)


def _arithmetic_closes(s: str, i: int) -> bool:
    """Whether ``$((`` at ``i`` is arithmetic: its parentheses close with ``))`` together."""
    depth = 2
    while i < len(s):
        if s[i] == "(":
            depth += 1
        elif s[i] == ")":
            depth -= 1
            if depth == 1:
                return s.startswith(")", i + 1)
        i += 1
    return False


def _take(s: str, i: int, most: int, allowed: str) -> str:
    end = i
    while end < len(s) and end - i < most and s[end] in allowed:
        end += 1
    return s[i:end]


def _char(code: int) -> str:
    try:
        return chr(code)
    except ValueError:
        raise Unreadable("an escape names no character") from None
