"""The agent hook lets a command through only when every part of it can be read and none changes
production. Wrappers, subshells, compound commands, shell text given to `bash -c` or `eval`,
aliases of held subcommands, glued redirections and programs it cannot name are all held; so are
a script run by path, a shell reading its input, signoff's own settings and flags that would
lower the bar. Commands that are plainly harmless still pass, so the hook stays worth keeping on."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.gate.held_commands import Judge
from bot.gate.shell_script import Unreadable, read_script

NOT_ON_PATH = {"tf", "deploy-it"}


def which(name: str) -> str | None:
    return None if name in NOT_ON_PATH else f"/usr/bin/{name}"


JUDGE = Judge([], which=which, trusted_dirs=["/usr/bin", "/usr/local/bin"])

# Each form that once walked around the hook, and more of their kind.
HELD = [
    # shell text run by a shell or eval
    "bash -c 'terraform destroy -auto-approve'",
    'sh -c "kubectl delete ns prod"',
    "zsh -c 'helm uninstall shop'",
    "eval 'terraform destroy'",
    "bash -lc 'terraform destroy'",
    "bash -e -o pipefail -c 'terraform destroy'",
    "bash <<EOF\nterraform destroy\nEOF",
    "bash <<< 'terraform destroy'",
    "trap 'terraform destroy' EXIT",
    # prefixes with an option's argument
    "sudo -u deploy terraform destroy",
    "sudo -s terraform destroy",
    "env -u AWS_PROFILE terraform destroy",
    "env AWS_PROFILE=prod terraform destroy",
    "exec -a tf terraform destroy",
    "doas -u root terraform destroy",
    # runners
    "timeout 600 terraform apply -auto-approve",
    "timeout -s KILL 10m terraform destroy",
    "nice -n 5 terraform destroy",
    "nohup terraform destroy &",
    "stdbuf -oL terraform destroy",
    "time terraform destroy",
    "command terraform destroy",
    "echo prod | xargs kubectl delete ns",
    "xargs -I{} kubectl delete ns {} < namespaces.txt",
    "watch -n 5 kubectl delete pod web-1",
    "watch -x bash -c 'terraform destroy -auto-approve'",
    "flock /tmp/lock terraform destroy",
    "su -c 'terraform destroy' deploy",
    "ssh bastion terraform destroy",
    "find . -name prod -exec terraform {} \\;",
    # subshells and compound commands
    "(cd infra && terraform apply)",
    "( terraform destroy )",
    "{ terraform destroy; }",
    "if true; then terraform destroy; fi",
    "if false; then :; else terraform destroy; fi",
    "for env in prod; do terraform destroy; done",
    "while true; do terraform destroy; break; done",
    "case prod in prod) terraform destroy;; esac",
    "! terraform destroy",
    "true && terraform destroy",
    "false || terraform destroy",
    "terraform plan; terraform destroy",
    "terraform destroy & wait",
    "f() { terraform destroy; }; f",
    "echo $(terraform destroy)",
    "echo `terraform destroy`",
    "echo ${x:-$(terraform destroy)}",
    "diff <(terraform destroy) plan.txt",
    "cat <<EOF\n$(terraform destroy)\nEOF",
    "x=$(( 1 + $(terraform destroy) ))",
    "x='a[$(terraform destroy)]'; echo $(( x ))",  # arithmetic evaluates the variable's value
    "echo $(( terraform destroy ))",
    "echo $(( t''erraform destroy ))",
    "(( $(terraform destroy) ))",
    # aliases of held subcommands
    "helm delete shop",
    "helm del shop",
    "helm un shop",
    "pulumi down --yes",
    "pulumi update --yes",
    "kubectl drain node-1",
    "terragrunt run-all destroy",
    "aws cloudformation delete-stack --stack-name shop",
    "aws s3 rm s3://shop-assets --recursive",
    "aws ec2 terminate-instances --instance-ids i-0abc",
    # glued syntax and quoting
    "terraform destroy>tf.log",
    "terraform apply</dev/null",
    "terraform destroy 2>&1|tee log",
    "'terraform' destroy",
    "terr''aform destroy",
    "t\\erraform destroy",
    "$'\\x74erraform' destroy",
    "/usr/local/bin/terraform destroy",
    # a program it cannot name before it runs
    "$(command -v terraform) destroy",
    "`which terraform` destroy",
    "x=terraform; $x destroy",
    "terraform $ACTION",
    "terraform {destroy,plan}",
    "terraform destro?",
    # scripts, shells reading their input, aliases and functions it cannot see
    "./deploy.sh prod",
    "infra/bin/apply",
    "~/bin/deploy",
    "bash deploy.sh",
    "sh < deploy.sh",
    "source deploy.sh",
    ". ./deploy.sh",
    "echo 'terraform destroy' | bash",
    "alias tf=terraform; tf destroy",
    "tf destroy",
    "python3 -c \"import os; os.system('terraform destroy')\"",
    "make deploy TOOL=terraform",
    # what changes the program a name runs, or runs what history holds
    "hash -p /tmp/x ls; ls",
    "alias ls='./x'; ls",
    "history -s 'terraform destroy'; fc -s",
    "enable -f /tmp/x.so ls",
    "git -c alias.x='!sh ./x' x",
    "git -c core.sshCommand=./x fetch",
    "git config alias.d '!./x'",
    "git config --global core.hooksPath /tmp/hooks",
    "echo 'terraform destroy' | xargs -I{} sh -c '{}'",
    # signoff's own settings, and flags that would lower the bar
    "SIGNOFF_REQUESTER=U0SENIOR1 signoff guard -- ls",
    "export SIGNOFF_URL=http://127.0.0.1:9999",
    "unset CLAUDECODE; signoff guard -- terraform destroy",
    "signoff guard --no-ai-assisted --requester U0JUNIOR1 -- terraform destroy -auto-approve",
    "signoff guard --ai-assisted --not-destructive --requester U0SENIOR1 -- ls",
    "signoff guard --server http://127.0.0.1:9999 -- ls",
    "signoff request --break-glass 'now' --url https://x --title t",
    "signoff guard -- terraform destroy",
    "PATH=/tmp/evil:$PATH ls",
    "LD_PRELOAD=/tmp/x.so ls",
    # text it cannot read at all
    "echo 'unbalanced",
    'echo "unbalanced',
    "echo $(unclosed",
    "cat <<EOF\nno end",
    "echo hi )",
    "terraform @(destroy)",
]

PASSES = [
    "ls -la && git status",
    "terraform plan -out plan.tfplan",
    "terraform -chdir=infra validate",
    "kubectl get pods -n prod",
    "kubectl logs deploy/web --tail 50",
    "helm list -A",
    "pulumi preview",
    "git commit -m 'fix terraform apply'",
    "git -C infra log --oneline",
    "grep -r 'terraform destroy' docs",
    "echo terraform destroy",
    "cat terraform/main.tf",
    "python3 -m pytest tests/terraform -q",
    "sed -i 's/a/b/' terraform/main.tf",
    "timeout 5 ls",
    "bash -c 'ls -la'",
    "cd infra && terraform plan",
    "for f in *.tf; do echo $f; done",
    "[ -f x ] && echo y",
    "[[ -f x ]] && echo y",
    "npm test 2>&1 | tail -20",
    "find . -name '*.tf' -exec grep -l aws {} +",
    "cat <<'EOF' > notes.txt\nterraform destroy\nEOF",
    "x=$(date); echo $x",
    "python3 -c 'print(1)'",
    "env",
    "env FOO=1 ls",
    "sudo apt-get install -y jq",
    "mkdir -p a/b && touch a/b/c",
    "let 'n = 1 + 2'",
    "git config user.name 'June Junior'",
    "git config --get alias.d",
    "alias",
    "fc -l",
    "echo $(( 6 * 7 ))",
]


@pytest.mark.parametrize("command", HELD)
def test_each_form_is_held(command: str) -> None:
    assert JUDGE.held(command) is not None, command


@pytest.mark.parametrize("command", PASSES)
def test_plainly_harmless_commands_pass(command: str) -> None:
    assert JUDGE.held(command) is None, (command, JUDGE.held(command))


def test_a_destroy_anywhere_makes_the_request_destructive() -> None:
    held = JUDGE.held("terraform apply && helm del shop")
    assert held is not None and held.destructive is True
    applied = JUDGE.held("timeout 60 terraform apply")
    assert applied is not None and applied.destructive is None  # not known: counts as destructive


def test_the_reason_says_what_was_found() -> None:
    assert JUDGE.held("bash -c 'helm del shop'") == JUDGE.held("helm del shop")
    unread = JUDGE.held("$(command -v terraform) destroy")
    assert unread is not None and "not known until it runs" in unread.why
    script = JUDGE.held("./deploy.sh")
    assert script is not None and "by path" in script.why


def test_the_reader_refuses_what_it_cannot_read() -> None:
    for text in ("echo 'a", "echo $(a", "echo `a", "cat <<EOF\nx", "echo ${a", "a )"):
        with pytest.raises(Unreadable):
            read_script(text)


def test_nesting_too_deep_is_held_not_crashed() -> None:
    command = "echo " + "$(" * 50 + "terraform destroy" + ")" * 50
    assert JUDGE.held(command) is not None


# The property: any held command, wrapped in any mix of wrappers, operators and quoting, is held.
CORES = [
    ["terraform", "destroy", "-auto-approve"],
    ["terraform", "apply"],
    ["kubectl", "delete", "ns", "prod"],
    ["helm", "del", "shop"],
    ["pulumi", "down", "--yes"],
    ["aws", "cloudformation", "delete-stack", "--stack-name", "shop"],
]
PREFIXES = [
    [], ["timeout", "600"], ["nice", "-n", "5"], ["sudo", "-u", "deploy"], ["env", "-u", "AWS_PROFILE"],
    ["env", "A=b"], ["nohup"], ["stdbuf", "-oL"], ["time"], ["command"], ["exec", "-a", "x"], ["doas"],
    ["flock", "/tmp/l"], ["setsid"],
]  # fmt: skip


def _quote_word(word: str, style: int) -> str:
    if style == 1:
        return f"'{word}'"
    if style == 2:
        return f'"{word}"'
    if style == 3 and len(word) > 1:
        return word[0] + "''" + word[1:]
    if style == 4:
        return "\\" + word
    return word


WRAPS = [
    lambda c: f"bash -c {shlex.quote(c)}",
    lambda c: f"sh -c {shlex.quote(c)}",
    lambda c: f"eval {shlex.quote(c)}",
    lambda c: f"( {c} )",
    lambda c: f"{{ {c}; }}",
    lambda c: f"if true; then {c}; fi",
    lambda c: f"for i in 1; do {c}; done",
    lambda c: f"! {c}",
    lambda c: f"true && {c}",
    lambda c: f"false || {c}",
    lambda c: f"echo x | {c}",
    lambda c: f"{c} &",
    lambda c: f"{c}; true",
    lambda c: f"{c} >out.log 2>&1",
    lambda c: f"{c}</dev/null",
    lambda c: f"echo $({c})",
    lambda c: f"watch {c}",
    lambda c: f"case x in x) {c};; esac",
    lambda c: f"bash <<'EOF'\n{c}\nEOF",
]


# Deterministic, so a change elsewhere never meets a new example by chance in CI; it was run with
# 36,000 random examples over six seeds when the reader last changed.
@settings(max_examples=1000, deadline=None, derandomize=True)
@given(
    core=st.sampled_from(CORES),
    prefix=st.sampled_from(PREFIXES),
    styles=st.lists(st.integers(0, 4), min_size=6, max_size=6),
    wraps=st.lists(st.sampled_from(range(len(WRAPS))), max_size=3),
)
def test_a_held_command_in_any_wrapping_is_held(
    core: list[str], prefix: list[str], styles: list[int], wraps: list[int]
) -> None:
    words = [*prefix, *(_quote_word(w, s) for w, s in zip(core, styles, strict=False)), *core[len(styles) :]]
    command = " ".join(words)
    for index in wraps:
        command = WRAPS[index](command)
    assert JUDGE.held(command) is not None, command
