"""The tools that change production, and which of their subcommands do.

Each subcommand is found anywhere among the tool's words, so global flags before it
(``terraform -chdir=envs/prod apply``) do not hide it; a multi-word entry (``state rm``) needs
every word. Aliases count as what they stand for (``helm del`` is ``helm uninstall``,
``pulumi down`` is ``pulumi destroy``). A subcommand in ``destroys`` makes the held request
destructive; the others leave it not known, which counts as destructive too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    changes: tuple[str, ...]
    destroys: frozenset[str]
    extra: Callable[[list[str]], tuple[str, bool] | None] | None = None  # more rules: (what, destroys)

    def judge(self, name: str, words: list[str]) -> tuple[str, bool | None] | None:
        """Why these words of the tool change production, and whether they destroy (True) or it is
        not known (None); None when they change nothing."""
        found = [c for c in self.changes if all(part in words for part in c.split())]
        if found:
            destroying = [c for c in found if c in self.destroys]
            what = (destroying or found)[0]
            return f"{name} {what} changes production", True if destroying else None
        if self.extra is not None:
            more = self.extra(words)
            if more is not None:
                return f"{name} {more[0]} changes production", True if more[1] else None
        return None


_TERRAFORM = Tool(
    ("destroy", "apply", "import", "taint", "untaint", "force-unlock", "state rm", "state mv", "state push",
     "state replace-provider", "workspace delete"),
    frozenset({"destroy", "state rm", "workspace delete"}),
)  # fmt: skip

_DESTROYING_VERB = ("delete-", "terminate-", "remove-", "deregister-", "destroy-", "purge-")


def _aws(words: list[str]) -> tuple[str, bool] | None:
    """Beyond CloudFormation: any ``delete-*``/``terminate-*``… operation, and ``s3 rm``/``rb``."""
    for word in words:
        if word.startswith(_DESTROYING_VERB):
            return word, True
    if "s3" in words and ({"rm", "rb"} & set(words) or ("sync" in words and "--delete" in words)):
        return "s3 " + next(w for w in ("rm", "rb", "sync") if w in words), True
    return None


TOOLS: dict[str, Tool] = {
    "terraform": _TERRAFORM,
    "tofu": _TERRAFORM,
    "terragrunt": Tool((*_TERRAFORM.changes, "run-all apply", "run-all destroy"), _TERRAFORM.destroys),
    "pulumi": Tool(
        ("destroy", "down", "up", "update", "refresh", "import", "stack rm", "state delete", "state move"),
        frozenset({"destroy", "down", "stack rm", "state delete"}),
    ),
    "kubectl": Tool(
        ("delete", "drain", "apply", "replace", "scale", "patch", "edit", "set", "rollout restart", "rollout undo",
         "rollout pause", "rollout resume", "cordon", "uncordon", "taint", "create", "run", "expose", "autoscale",
         "label", "annotate", "exec", "cp", "debug"),
        frozenset({"delete", "drain"}),
    ),
    "helm": Tool(
        ("uninstall", "delete", "del", "un", "install", "upgrade", "rollback"),
        frozenset({"uninstall", "delete", "del", "un"}),
    ),
    "aws": Tool(
        ("cloudformation delete-stack", "cloudformation deploy", "cloudformation execute-change-set",
         "cloudformation create-stack", "cloudformation update-stack"),
        frozenset({"cloudformation delete-stack"}),
        _aws,
    ),
    "gcloud": Tool(("delete", "deploy"), frozenset({"delete"})),
    "az": Tool(("delete", "deploy"), frozenset({"delete"})),
}  # fmt: skip

# Names that, given to a program that does not treat them as data, are held (`python -c "…terraform…"`).
MENTIONED = (*sorted(set(TOOLS) - {"aws", "az"}), "cloudformation")
