"""Our OpenAPI against the official TMF621 v5.0.1 document (its extract, tests/api/tmf621_v5_extract.yaml):
every TMF path and field we claim exists there with the same type, and what is not TMF's is ours by `@type`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from api.app import create_app
from api.models import OUR_TICKET_TYPE

OFFICIAL = yaml.safe_load((Path(__file__).parent / "tmf621_v5_extract.yaml").read_text(encoding="utf-8"))
OURS: dict[str, Any] = create_app(None).openapi()  # type: ignore[arg-type]  # the document needs no engine
SCHEMAS: dict[str, Any] = OURS["components"]["schemas"]
BASE = OFFICIAL["basePath"]

# Our component -> the TMF schema it claims to be.
CLAIMS = {
    "TroubleTicket": "TroubleTicket_RES",
    "TroubleTicketCreate": "TroubleTicket_FVO",
    "TroubleTicketPatch": "TroubleTicket_MVO",
    "Note": "Note",
    "StatusChange": "StatusChange",
    "RelatedEntity": "RelatedEntity",
    "RelatedParty": "RelatedPartyRefOrPartyRoleRef",
    "EntityRef": "EntityRef",
    "PartyRoleRef": "PartyRoleRef",
    "ChannelRef": "ChannelRef",
    "TroubleTicketRelationship": "TroubleTicketRelationship",
    "Error": "Error",
    "TmfStatus": "TroubleTicketStatusType",
}
# Schemas that are not TMF's at all: each answers an `@type` of our own.
OWN_TYPES = {"Adjustment": "ComplaintAdjustment", "PendingQuestion": "ComplaintQuestion",
             "TaskResult": "ComplaintTaskResult", "RegulatoryClock": "ComplaintRegulatoryClock",
             "Rejection": "ComplaintRejection"}


def official_properties(name: str) -> tuple[dict[str, Any], set[str]]:
    """A TMF schema's properties and required names, with its allOf chain folded in."""
    schema = OFFICIAL["schemas"][name]
    properties: dict[str, Any] = {}
    required: set[str] = set()
    for parent in schema.get("allOf", []):
        inherited, needed = official_properties(parent)
        properties.update(inherited)
        required |= needed
    properties.update(schema.get("properties", {}))
    required |= set(schema.get("required", []))
    return properties, required


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`X | None` in our document is anyOf [X, null]: the TMF type is X (we omit absent values)."""
    options = [option for option in schema.get("anyOf", []) if option.get("type") != "null"]
    return options[0] if len(options) == 1 else schema


def shape(schema: dict[str, Any]) -> tuple[str, str | None]:
    """(JSON type, the schema it refers to or its format) of one of our properties."""
    schema = _without_null(schema)
    if "$ref" in schema:
        return "object", CLAIMS.get(schema["$ref"].rsplit("/", 1)[-1], schema["$ref"])
    if schema.get("type") == "array":
        item_type, item_ref = shape(schema["items"])
        return "array", item_ref if item_type == "object" else item_type
    return schema.get("type", "object"), schema.get("format")


def official_shape(schema: Any) -> tuple[str, str | None]:
    if isinstance(schema, str):  # a reference by name in the extract
        return "object", schema
    if "oneOf" in schema:
        return "object", "|".join(schema["oneOf"])
    if schema.get("type") == "array":
        items = schema["items"]
        return "array", items if isinstance(items, str) else items.get("type")
    return schema["type"], schema.get("format")


def same_shape(ours: tuple[str, str | None], theirs: tuple[str, str | None]) -> bool:
    if ours[0] != theirs[0]:
        return False
    if theirs[1] is None:
        return True
    # TMF's _FVO (create) and _MVO (patch) variants are the same type with other required fields.
    theirs = (theirs[0], theirs[1].removesuffix("_FVO").removesuffix("_MVO"))
    if ours[1] == theirs[1]:
        return True
    # A party reference: TMF's is oneOf PartyRef/PartyRoleRef; ours is PartyRoleRef.
    return theirs[1] is not None and ours[1] in theirs[1].split("|")


@pytest.mark.parametrize("ours", sorted(set(CLAIMS) - {"TmfStatus"}))
def test_every_field_we_claim_is_tmfs_with_the_same_type(ours: str) -> None:
    theirs, _ = official_properties(CLAIMS[ours])
    own_type = SCHEMAS[ours]["properties"].get("@type", {}).get("default")
    for field, schema in SCHEMAS[ours]["properties"].items():
        if field not in theirs:
            # Not TMF's: allowed only on a model whose @type is our own (TMF's extension pattern).
            assert own_type == OUR_TICKET_TYPE, f"{ours}.{field} is not in TMF's {CLAIMS[ours]}"
            continue
        ours_shape, their_shape = shape(schema), official_shape(theirs[field])
        if their_shape == ("object", "TroubleTicketStatusType"):
            assert ours_shape == ("object", "TroubleTicketStatusType"), f"{ours}.{field}"
            continue
        assert same_shape(ours_shape, their_shape), f"{ours}.{field}: ours {ours_shape}, TMF {their_shape}"


@pytest.mark.parametrize("ours", sorted(set(CLAIMS) - {"TmfStatus"}))
def test_what_tmf_requires_we_require(ours: str) -> None:
    _, required = official_properties(CLAIMS[ours])
    our_required = set(SCHEMAS[ours].get("required", []))
    for field in required - {"@type"}:
        assert field in our_required, f"TMF's {CLAIMS[ours]} requires {field}; ours ({ours}) does not"
    # @type (TMF's Extensible requires it) is always written: a default in every model we answer.
    if ours not in {"TroubleTicketCreate", "TroubleTicketPatch"}:
        assert "default" in SCHEMAS[ours]["properties"]["@type"], ours


def test_the_status_values_are_tmfs_exactly() -> None:
    assert SCHEMAS["TmfStatus"]["enum"] == OFFICIAL["schemas"]["TroubleTicketStatusType"]["enum"]


@pytest.mark.parametrize("schema", sorted(OWN_TYPES))
def test_our_extensions_carry_our_own_type_names(schema: str) -> None:
    type_schema = SCHEMAS[schema]["properties"]["@type"]
    assert type_schema.get("const", type_schema.get("default")) == OWN_TYPES[schema]
    assert OWN_TYPES[schema].startswith("Complaint")
    assert OUR_TICKET_TYPE.startswith("Complaint") and SCHEMAS["TroubleTicket"]["properties"]["@baseType"][
        "default"] == "TroubleTicket"


@pytest.mark.parametrize(("path", "method"), [(p, m) for p, ops in OFFICIAL["paths"].items() for m in ops])
def test_every_tmf_operation_we_claim_is_there_with_its_parameters(path: str, method: str) -> None:
    official = OFFICIAL["paths"][path][method]
    operation = OURS["paths"][BASE + path][method]
    ours = {parameter["name"]: parameter for parameter in operation.get("parameters", [])}
    for name in official["parameters"]:
        spec = OFFICIAL["parameters"][name]
        assert name in ours, f"{method.upper()} {path} lacks TMF's {name}"
        assert ours[name]["in"] == spec["in"]
        assert shape(ours[name]["schema"])[0] == spec["schema"]["type"], f"{method.upper()} {path} {name}"
    success = next(code for code in operation["responses"] if code.startswith("2"))
    for header in official.get("responseHeaders", []):
        declared = operation["responses"][success]["headers"][header]
        assert declared["schema"]["type"] == OFFICIAL["headers"][header]["schema"]["type"]
    body = official.get("requestBody")
    if body is not None:
        content = operation["requestBody"]["content"]
        for media in content:
            assert media in official.get("requestContentTypes", ["application/json"]), f"{path}: {media}"
            ref = content[media]["schema"]["$ref"].rsplit("/", 1)[-1]
            assert CLAIMS[ref] == body
    response = official["response"]
    response_schema = operation["responses"][success]["content"]["application/json"]["schema"]
    if isinstance(response, dict):
        assert response_schema["type"] == "array"
        assert CLAIMS[response_schema["items"]["$ref"].rsplit("/", 1)[-1]] == response["items"]
    else:
        assert CLAIMS[response_schema["$ref"].rsplit("/", 1)[-1]] == response


def test_patch_takes_merge_patch() -> None:
    content = OURS["paths"][f"{BASE}/troubleTicket/{{id}}"]["patch"]["requestBody"]["content"]
    assert "application/merge-patch+json" in content
