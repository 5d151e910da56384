"""The STIX bundle passes the official validator and carries no credentials."""

from __future__ import annotations

import dataclasses
import json

import pytest
from stix2validator import ValidationOptions, validate_string
from tests.graph.cases_fixture import (
    HOSTILE_AGENT,
    all_cases,
    azure_proxy_case,
    bedrock_case,
    huge_case,
)

from stormwatch.graph.model import Case, Entity
from stormwatch.graph.stix import MARKING, cases_to_stix


def validated(bundle: str) -> dict[str, object]:
    """The parsed bundle; fails with every validator message when it is not valid STIX 2.1."""
    result = validate_string(bundle, ValidationOptions(strict=False))
    messages = [str(m) for m in (*result.errors, *result.warnings)]
    assert result.is_valid, "\n".join(messages)
    # Only the custom user-agent SCO may draw a warning: the validator does not know its type is
    # an observable, so it expects a UUIDv4 where STIX gives observables a UUIDv5.
    unexpected = [m for m in messages if "stormwatch-user-agent--" not in m]
    assert not unexpected, "\n".join(unexpected)
    parsed: dict[str, object] = json.loads(bundle)
    return parsed


def objects_of(bundle: dict[str, object]) -> list[dict[str, object]]:
    objects = bundle.get("objects", [])
    assert isinstance(objects, list)
    return objects


def patterns(bundle: dict[str, object]) -> list[str]:
    return [str(o["pattern"]) for o in objects_of(bundle) if o["type"] == "indicator"]


def with_entities(case: Case, *extra: Entity) -> Case:
    return dataclasses.replace(case, entities=(*case.entities, *extra))


def test_bundle_of_both_cases_is_valid_stix() -> None:
    bundle = validated(cases_to_stix(all_cases(), tool_version="0.1.0"))
    types = {o["type"] for o in objects_of(bundle)}
    assert {"identity", "intrusion-set", "infrastructure", "indicator", "sighting"} <= types
    assert {"relationship", "report", "ipv4-addr", "ipv6-addr", "stormwatch-user-agent"} <= types


def test_empty_case_list_gives_a_valid_bundle() -> None:
    bundle = validated(cases_to_stix([], tool_version="0.1.0"))
    assert {o["type"] for o in objects_of(bundle)} == {
        "marking-definition",
        "identity",
        "extension-definition",
    }


def test_every_object_is_marked_tlp_amber() -> None:
    bundle = validated(cases_to_stix(all_cases(), tool_version="0.1.0"))
    for obj in objects_of(bundle):
        if obj["type"] != "marking-definition":
            assert obj["object_marking_refs"] == [MARKING.id], obj["id"]


def test_patterns_cover_addresses_networks_and_escaped_user_agents() -> None:
    found = patterns(validated(cases_to_stix(all_cases(), tool_version="0.1.0")))
    assert "[ipv4-addr:value = '203.0.113.45']" in found
    assert "[ipv6-addr:value = '2001:db8:4::17']" in found
    assert "[ipv4-addr:value ISSUBSET '198.51.100.0/24']" in found
    assert "[ipv6-addr:value ISSUBSET '2001:db8:ab::/48']" in found
    escaped = HOSTILE_AGENT.replace("\\", "\\\\").replace("'", "\\'")
    ua = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"
    assert f"[{ua} = '{escaped}']" in found


def test_masked_azure_address_becomes_its_network() -> None:
    masked = Entity("network", "192.0.2.***", count=5)
    found = patterns(
        validated(cases_to_stix([with_entities(azure_proxy_case(), masked)], tool_version="x"))
    )
    assert "[ipv4-addr:value ISSUBSET '192.0.2.0/24']" in found


def test_values_that_are_no_address_are_left_out() -> None:
    odd = Entity("ip", "bedrock.amazonaws.com", count=1)
    bundle = validated(cases_to_stix([with_entities(bedrock_case(), odd)], tool_version="x"))
    assert "bedrock.amazonaws.com" not in json.dumps(bundle)


def test_no_credential_exposure_or_principal_reaches_the_bundle() -> None:
    case = bedrock_case()
    text = cases_to_stix([case], tool_version="0.1.0")
    for entity in case.entities:
        if entity.kind in ("credential", "exposure", "principal", "identity"):
            assert entity.value not in text
    for item in case.checklist:
        assert item.target not in text or item.action == "block-network"


def test_proxy_and_key_checker_hypotheses_become_infrastructure() -> None:
    bundle = validated(cases_to_stix([bedrock_case()], tool_version="0.1.0"))
    infrastructure = {
        str(o["name"]): o["infrastructure_types"]
        for o in objects_of(bundle)
        if o["type"] == "infrastructure"
    }
    assert infrastructure == {
        "Key checker 203.0.113.45 (hypothesis)": ["reconnaissance"],
        "Suspected proxy 2001:db8:4::17 (hypothesis)": ["anonymization"],
    }
    relations = {
        str(o["relationship_type"]) for o in objects_of(bundle) if o["type"] == "relationship"
    }
    assert relations == {"indicates", "uses", "consists-of"}


def test_sightings_count_and_place() -> None:
    bundle = validated(cases_to_stix([bedrock_case()], tool_version="0.1.0"))
    sightings = [o for o in objects_of(bundle) if o["type"] == "sighting"]
    assert sorted(int(str(s["count"])) for s in sightings) == [14, 26, 40, 4170, 4170]
    identity = next(o["id"] for o in objects_of(bundle) if o["type"] == "identity")
    assert all(s["where_sighted_refs"] == [identity] for s in sightings)


def test_export_is_deterministic() -> None:
    assert cases_to_stix(all_cases(), tool_version="0.1.0") == cases_to_stix(
        all_cases(), tool_version="0.1.0"
    )


def test_address_in_two_cases_is_one_observable() -> None:
    first, second = bedrock_case(), bedrock_case()
    second = dataclasses.replace(second, id="case-0009")
    bundle = validated(cases_to_stix([first, second], tool_version="0.1.0"))
    ids = [o["id"] for o in objects_of(bundle)]
    assert len(ids) == len(set(ids))
    assert sum(o["type"] == "intrusion-set" for o in objects_of(bundle)) == 2


@pytest.mark.slow
def test_huge_case_exports_every_address() -> None:
    bundle = json.loads(cases_to_stix([huge_case()], tool_version="0.1.0"))
    assert sum(o["type"] == "indicator" for o in bundle["objects"]) == 2999
