"""What the CLI prints: the plan (with the IAM page), progress, the new keys once, the result."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, TextIO

from oci_genai_gateway.deploy.commands.status import Check
from oci_genai_gateway.deploy.engine.compare import plain
from oci_genai_gateway.deploy.engine.resource_model import Action, Change
from oci_genai_gateway.deploy.resources import identity
from oci_genai_gateway.deploy.resources.network import describe_rules
from oci_genai_gateway.deploy.resources.stack import Stack

_SIGNS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.RESTORE: "^",
    Action.NOOP: "=",
    Action.CONFLICT: "!",
    Action.DELETE: "-",
}


class PrintReporter:
    """Progress to the stream; new keys are held and printed once, at the end of apply."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.new_keys: dict[str, str] = {}

    def progress(self, message: str) -> None:
        """One progress line."""
        print(f"  {message}", file=self.stream, flush=True)

    def secret(self, name: str, value: str) -> None:
        """Keep a generated key for the one-time display (never logged)."""
        self.new_keys[name] = value


def _short(value: Any) -> str:
    if isinstance(value, list) and value and all(hasattr(v, "direction") for v in value):
        return "; ".join(describe_rules(value))
    text = json.dumps(plain(value), sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def format_plan(
    changes: list[Change], stack: Stack, *, offline: bool, missing_prerequisites: list[str] | None = None
) -> str:
    """Each resource's action, what differs, the IAM statements, and the totals."""
    config = stack.config
    lines = [
        f"Plan for prefix {config.prefix!r} ({config.target}) in {config.region}, "
        f"compartment {config.compartment_id}",
        f"Owned resources carry the freeform tag {json.dumps(config.owner_tags)}.",
    ]
    if offline:
        lines.append("Offline: against an empty tenancy; <...> values are known after apply.")
    if stack.facts.domain is not None:
        lines.append(f"Dynamic group in identity domain {stack.facts.domain.name!r}.")
    else:
        lines.append("Dynamic group in legacy IAM (no identity domains).")
    lines.append("")
    for change in changes:
        res = change.resource
        sign = _SIGNS[change.action]
        head = f"{sign:>3} {change.action.value:8} {res.kind.label:24} {res.name}"
        lines.append(head + (f"  ({change.note})" if change.note else ""))
        if change.action in (Action.CREATE, Action.NOOP):
            for name in res.show:
                if name in change.spec and change.action is Action.CREATE and name != "statements":
                    lines.append(f"        {name} = {_short(change.spec[name])}")
        for name, (old, new) in change.fields.items():
            lines.append(f"        {name}: {_short(old)} -> {_short(new)}")
    policy = next((c for c in changes if c.resource.key == "identity.policy"), None)
    statements = policy.spec["statements"] if policy is not None else stack.policy_statements()
    lines += ["", f"IAM policy {config.prefix}-gateway (in the compartment) - exactly these statements:"]
    lines += [f"    {s}" for s in statements]
    for dg in (c for c in changes if c.resource.key.startswith("identity.") and "group" in c.resource.key):
        lines.append(f"Dynamic group {dg.resource.name}: {dg.spec['matching_rule']}")
    wanted = identity.prerequisites(config)
    if wanted:
        missing = set(wanted if missing_prerequisites is None else missing_prerequisites)
        lines += ["", "Functions service prerequisites (an administrator adds them in the root compartment):"]
        for statement in wanted:
            if missing_prerequisites is None:
                state = "not checked offline"
            else:
                state = "MISSING: add it" if statement in missing else "found"
            lines.append(f"    {statement}    ({state})")
    counts = Counter(change.action for change in changes)
    summary = ", ".join(
        f"{counts[a]} to {a.value}"
        for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.RESTORE)
        if counts[a]
    )
    lines += ["", f"{summary or 'nothing to change'}; {counts[Action.NOOP]} unchanged."]
    if counts[Action.CONFLICT]:
        lines.append(f"{counts[Action.CONFLICT]} conflict(s): apply will not start until they are resolved.")
    return "\n".join(lines)


def format_destroy(changes: list[Change]) -> str:
    """What destroy deletes, in order, and the Vault objects it leaves scheduled."""
    deleting = [c for c in changes if c.action is Action.DELETE]
    scheduled = [c for c in changes if c.action is Action.NOOP]
    if not deleting and not scheduled:
        return "Nothing owned by this prefix was found."
    lines = []
    if deleting:
        lines.append("Deleting, in this order (only resources carrying this prefix's tag):")
        lines += [f"  - {c.resource.kind.label:24} {c.resource.name}" for c in deleting]
    else:
        lines.append("Nothing left to delete.")
    lines += [f"  = {c.resource.kind.label:24} {c.resource.name}  ({c.note})" for c in scheduled]
    return "\n".join(lines)


def format_destroyed(changes: list[Change]) -> str:
    """What destroy left, and why; or that the tenancy is clean."""
    left = [c for c in changes if c.action is Action.CONFLICT]
    scheduled = [
        c
        for c in changes
        if c.action is not Action.CONFLICT and getattr(c.resource.kind, "scheduled_delete", False)
    ]
    lines = []
    if left:
        lines.append(f"Left in the tenancy ({len(left)}), and why:")
        lines += [f"  ! {c.resource.kind.label:24} {c.resource.name}: {c.note}" for c in left]
        lines.append("Fix what is named above (or wait, for a VNIC OCI still holds), then run destroy again.")
    else:
        lines.append("Done: nothing of this prefix is left but what is scheduled for deletion.")
    if scheduled:
        lines.append(
            "Vault objects are scheduled for deletion (OCI deletes them after the waiting period; until "
            "then they are listed as pending deletion and can be restored)."
        )
    return "\n".join(lines)


def snippet(base_url: str, key: str) -> str:
    """The OpenAI SDK call that proves the deployment works."""
    return (
        "from openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{base_url}", api_key="{key}")\n'
        "print([m.id for m in client.models.list()])\n"
        "reply = client.chat.completions.create(\n"
        '    model="meta.llama-3.3-70b-instruct", messages=[{"role": "user", "content": "Hello"}]\n'
        ")\n"
        "print(reply.choices[0].message.content)"
    )


def format_checks(checks: list[Check]) -> str:
    """Status results, one per line."""
    return "\n".join(f"  {'ok  ' if c.ok else 'FAIL'} {c.name:8} {c.detail}" for c in checks)
