"""Validators for apiward's security events, from the schemas' own packages:

- OCSF 1.8.0: the OCSF project's schema export shipped by the `ocsf-json-schema` package, turned
  into JSON Schema (draft 2020-12) per class with the `security_control` profile, checked with
  `jsonschema` (unknown attributes are refused: additionalProperties false).
- ECS 9.x: Elastic's generated field dictionary (`ecs_flat`) from the npm package `@elastic/ecs`
  (tests/e2e/ecs/package.json, installed by `make test-e2e`): every field of a document must be
  an ECS field (or under `labels`), of its ECS type, and categorisation fields must hold allowed
  values. No ECS JSON Schema ships in a registry package; the field dictionary is ECS's own
  definition, so it is what we check against.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
import subprocess
from pathlib import Path

import jsonschema
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

OCSF_VERSION = "1.8.0"
ECS_DIR = Path(__file__).resolve().parent / "ecs"
OCSF_CLASSES = {4002: "http_activity", 2004: "detection_finding"}


@functools.lru_cache(maxsize=None)
def _ocsf_validator(class_name: str) -> jsonschema.protocols.Validator:
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=OCSF_VERSION))
    js = schema.get_class_schema(class_name, ["security_control"])
    cls = jsonschema.validators.validator_for(js)
    cls.check_schema(js)
    return cls(js, format_checker=cls.FORMAT_CHECKER)


def ocsf_errors(event: dict) -> list[str]:
    """Schema violations of one OCSF event ([] when valid)."""
    name = OCSF_CLASSES.get(event.get("class_uid"))
    if name is None:
        return [f"class_uid {event.get('class_uid')!r} is not one apiward emits"]
    v = _ocsf_validator(name)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(event)]


@functools.lru_cache(maxsize=None)
def ecs_fields() -> dict:
    """ECS's flat field dictionary {dotted name: definition}."""
    script = (
        "const f=require('@elastic/ecs/build/commonjs/ecs_flat.js');"
        "process.stdout.write(JSON.stringify(f.EcsFlat));"
    )
    out = subprocess.run(
        ["node", "-e", script], cwd=ECS_DIR, capture_output=True, check=True, timeout=60
    ).stdout
    return json.loads(out)


def _flatten(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, out)
    else:
        out[prefix] = value


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _type_ok(ecs_type: str, value) -> bool:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if ecs_type in ("keyword", "constant_keyword", "wildcard", "text", "match_only_text"):
            ok = isinstance(v, str)
        elif ecs_type in ("long", "integer", "short", "byte"):
            ok = isinstance(v, int) and not isinstance(v, bool)
        elif ecs_type in ("float", "scaled_float", "double", "half_float"):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        elif ecs_type == "boolean":
            ok = isinstance(v, bool)
        elif ecs_type == "ip":
            try:
                ipaddress.ip_address(v)
                ok = True
            except (ValueError, TypeError):
                ok = False
        elif ecs_type == "date":
            ok = isinstance(v, str) and bool(_DATE.match(v))
        else:
            ok = True
        if not ok:
            return False
    return True


def ecs_errors(doc: dict) -> list[str]:
    """Violations of ECS's field definitions in one document ([] when valid)."""
    fields = ecs_fields()
    flat: dict = {}
    _flatten("", doc, flat)
    errors = []
    for name in ("@timestamp", "ecs.version"):
        if name not in flat:
            errors.append(f"{name}: required by ECS")
    for name, value in flat.items():
        if name.startswith("labels."):
            if not isinstance(value, str):
                errors.append(f"{name}: labels are keywords, got {value!r}")
            continue
        spec = fields.get(name)
        if spec is None:
            errors.append(f"{name}: not an ECS field")
            continue
        if not _type_ok(spec["type"], value):
            errors.append(f"{name}: {value!r} is not of ECS type {spec['type']}")
        allowed = spec.get("allowed_values")
        if allowed:
            names = {a["name"] for a in allowed}
            for v in value if isinstance(value, list) else [value]:
                if v not in names:
                    errors.append(f"{name}: {v!r} is not an allowed value ({sorted(names)})")
    # event.type must be expected by one of the event categories.
    cats = flat.get("event.category") or []
    types = flat.get("event.type") or []
    cat_specs = {a["name"]: a for a in fields["event.category"].get("allowed_values", [])}
    expected = set()
    for c in cats:
        expected.update(cat_specs.get(c, {}).get("expected_event_types", []))
    for t in types:
        if expected and t not in expected:
            errors.append(f"event.type: {t!r} not expected for categories {cats}")
    return errors
