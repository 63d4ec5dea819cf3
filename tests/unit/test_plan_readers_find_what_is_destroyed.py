"""Each plan format, read from a real-shaped example under tests/plans: what it destroys, by
address, with why; replace in both orders; OpenTofu's forget is not destructive; anything
that is not a whole plan is refused rather than read as "nothing destroyed"."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bot.domain.plan_summary import MAX_RESOURCES, merge, parse_blast_radius
from bot.gate.plans import PlanError, digest_of, read_plan, read_plan_file

PLANS = Path(__file__).parents[1] / "plans"


def test_terraform_delete_and_replace_in_both_orders() -> None:
    radius = read_plan_file(str(PLANS / "terraform_destroys.json"))
    assert (radius.creates, radius.updates, radius.deletes, radius.replaces) == (1, 1, 1, 2)
    assert radius.destroys and radius.headline() == "Deletes 1, replaces 2"
    by_address = {d.address: d for d in radius.resources}
    assert by_address["aws_instance.legacy"].action == "delete"
    assert by_address["aws_db_instance.main"].action == "replace"  # ["delete", "create"]
    assert by_address["module.edge.aws_lb.front[0]"].action == "replace"  # ["create", "delete"]
    assert "replace_because_cannot_update" in by_address["aws_db_instance.main"].reason
    assert "replace_paths: engine_version" in by_address["aws_db_instance.main"].reason
    assert by_address["module.edge.aws_lb.front[0]"].reason == "replace_because_tainted"
    raw = (PLANS / "terraform_destroys.json").read_bytes()
    assert radius.sha256 == (hashlib.sha256(raw).hexdigest(),) and radius.formats == ("terraform",)


def test_opentofu_forget_removes_from_state_without_destroying() -> None:
    radius = read_plan_file(str(PLANS / "opentofu_forget.json"))
    assert not radius.destroys
    assert (radius.creates, radius.deletes, radius.replaces, radius.resources) == (1, 0, 0, ())
    assert radius.headline().startswith("Deletes nothing, replaces nothing")


def test_a_plan_with_no_changes_destroys_nothing() -> None:
    radius = read_plan_file(str(PLANS / "terraform_no_changes.json"))
    assert not radius.destroys and radius.creates == radius.updates == 0


def test_pulumi_counts_a_replacement_once_however_many_steps_name_it() -> None:
    radius = read_plan_file(str(PLANS / "pulumi_preview.json"))
    assert (radius.creates, radius.updates, radius.deletes, radius.replaces) == (1, 1, 1, 1)
    by_address = {d.address: d for d in radius.resources}
    db = by_address["urn:pulumi:prod::shop::aws:rds/instance:Instance::db"]
    assert db.action == "replace" and db.reason == "replaceReasons: engine, storageEncrypted"
    assert by_address["urn:pulumi:prod::shop::aws:ec2/instance:Instance::bastion"].action == "delete"
    assert radius.formats == ("pulumi",)


@pytest.mark.parametrize("op", ["replace", "create-replacement", "delete-replaced", "discard-replaced",
                                "import-replacement"])  # fmt: skip
def test_every_pulumi_replacing_op_replaces(op: str) -> None:
    doc = {"steps": [{"op": op, "urn": "urn:pulumi:s::p::aws:x:Y::r"}]}
    radius = read_plan(json.dumps(doc).encode())
    assert radius.replaces == 1 and radius.resources[0].action == "replace"


def test_cloudformation_remove_and_replacement_but_not_a_retained_resource() -> None:
    radius = read_plan_file(str(PLANS / "cloudformation_change_set.json"))
    assert (radius.creates, radius.updates, radius.deletes, radius.replaces) == (1, 1, 1, 2)
    by_address = {d.address: d for d in radius.resources}
    assert by_address["Bastion (AWS::EC2::Instance)"].action == "delete"
    assert by_address["Database (AWS::RDS::DBInstance)"].reason == "Replacement True; PolicyAction ReplaceAndDelete"
    assert by_address["Queue (AWS::SQS::Queue)"].reason == "Replacement Conditionally"
    assert not any(a.startswith("ArchiveBucket") for a in by_address)  # PolicyAction Retain: kept


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("terraform_truncated.json", "is not JSON"),
        ("not_a_plan.json", "not a Terraform, OpenTofu, Pulumi or CloudFormation plan"),
    ],
)
def test_what_is_not_a_whole_plan_is_refused(name: str, says: str) -> None:
    with pytest.raises(PlanError, match=says):
        read_plan_file(str(PLANS / name))


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"PK\x03\x04binary", "binary Terraform plan"),
        (b'{"resource_changes": [{"address": "a.b", "change": {}}]}', "has no list of actions"),
        (b'{"resource_changes": "everything"}', "is not a list of objects"),
        (b'{"steps": [{"op": "delete"}]}', "has no name"),
        (b'{"format_version": "1.0", "terraform_version": "1.9.5", "values": {"root_module": {}}}',
         "is Terraform state, not a plan"),
        (b'{"Changes": [], "NextToken": "page-2"}', "one page of a change set"),
        (b"\xff\xfe", "is not JSON"),
        (b"[1, 2]", "not a Terraform"),
    ],
)  # fmt: skip
def test_malformed_plans_are_refused_with_what_is_wrong(raw: bytes, says: str) -> None:
    with pytest.raises(PlanError, match=says):
        read_plan(raw, "plan.json")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read"):
        read_plan_file(str(tmp_path / "nope.json"))
    with pytest.raises(PlanError, match="cannot read"):
        digest_of(str(tmp_path / "nope.json"))


def test_a_huge_plan_lists_a_few_hundred_but_counts_all() -> None:
    changes = [{"address": f"aws_instance.n[{i}]", "change": {"actions": ["delete"]}} for i in range(2000)]
    radius = read_plan(json.dumps({"resource_changes": changes}).encode())
    assert radius.deletes == 2000 and len(radius.resources) == MAX_RESOURCES
    assert parse_blast_radius(radius.to_json()) == (radius, None)  # what the CLI sends, the API takes


def test_several_plans_add_up() -> None:
    a = read_plan_file(str(PLANS / "terraform_destroys.json"))
    b = read_plan_file(str(PLANS / "pulumi_preview.json"))
    both = merge([a, b])
    assert (both.deletes, both.replaces) == (2, 3) and both.sha256 == a.sha256 + b.sha256
    assert both.formats == ("terraform", "pulumi")


@pytest.mark.parametrize(
    ("doc", "address"),
    [
        ({"resource_changes": [{"address": "a.b", "change": {"actions": ["create", "obliterate"]}}]}, "a.b"),
        ({"steps": [{"op": "vaporize", "urn": "urn:pulumi:s::p::aws:x:Y::r"}]}, "urn:pulumi:s::p::aws:x:Y::r"),
        ({"Changes": [{"Type": "Resource", "ResourceChange": {"Action": "Explode", "LogicalResourceId": "X"}}]}, "X"),
        ({"Changes": [{"Type": "Resource", "ResourceChange": {"Action": "Dynamic", "LogicalResourceId": "Y"}}]}, "Y"),
    ],
)
def test_an_action_a_reader_does_not_know_counts_as_destructive(doc: dict[str, object], address: str) -> None:
    radius = read_plan(json.dumps(doc).encode())
    assert radius.destroys
    [found] = radius.resources
    assert found.address == address and "counted as destructive" in found.reason


def test_a_plan_without_resources_destroys_nothing_but_state_is_refused() -> None:
    empty_plan = {"format_version": "1.2", "terraform_version": "1.9.5", "planned_values": {"root_module": {}}}
    assert not read_plan(json.dumps(empty_plan).encode()).destroys
