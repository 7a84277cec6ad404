"""Plan, apply and destroy a stack: find by name + owner tag, compare, create/update/skip, wait."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from oci_genai_gateway.deploy.engine.compare import digest, plain
from oci_genai_gateway.deploy.engine.failures import DeployError, explain
from oci_genai_gateway.deploy.engine.resource_model import (
    DIGEST_TAG,
    OWNER_TAG,
    Action,
    Change,
    Condition,
    Context,
    Desired,
    Resource,
    State,
    is_pending,
)

NOT_OWNED = "exists but not owned; rename the prefix or reuse it explicitly in the config"


@contextmanager
def _named(ctx: Context, res: Resource, doing: str, again: str = "apply") -> Iterator[None]:
    """Turn SDK failures into messages naming the resource and the fix (`again`: the command to re-run)."""
    import oci

    what = f"{doing} {res.kind.label} {res.name!r}"
    try:
        yield
    except (
        oci.exceptions.ServiceError,
        oci.exceptions.RequestException,
        oci.exceptions.ConnectTimeout,
    ) as exc:
        raise DeployError(explain(what, res.kind.family, ctx.compartment_id, exc, again)) from None
    except oci.exceptions.MaximumWaitTimeExceeded:
        raise DeployError(f"{what}: timed out waiting; {again} again to resume") from None


def evaluate(
    ctx: Context,
    res: Resource,
    state: State,
    *,
    refind: bool = True,
    settle: bool = False,
    again: str = "apply",
) -> Change:
    """Find the resource (unless its parent is still to be created) and compare it with its spec.

    settle: wait for a busy (creating, updating) resource first; plan shows it as it is.
    """
    scope = res.scope(state) if res.scope else None
    live = state.live(res.key)
    if scope is not None and is_pending(scope):
        return Change(res, Action.CREATE, spec=res.spec(state), scope=scope)
    if live is None or refind:
        with _named(ctx, res, "looking up", again):
            found = res.kind.find(ctx, res, scope)
        owner = ctx.config.prefix
        owned = [item for item in found if res.kind.tags(item).get(OWNER_TAG) == owner]
        if not owned:
            state.forget(res.key)
            if found:
                return Change(res, Action.CONFLICT, spec=res.spec(state), scope=scope, note=NOT_OWNED)
            return Change(res, Action.CREATE, spec=res.spec(state), scope=scope)
        if len(owned) > 1:
            note = f"{len(owned)} owned resources have this name; delete the extra ones"
            return Change(res, Action.CONFLICT, spec=res.spec(state), scope=scope, note=note)
        with _named(ctx, res, "reading", again):
            live = res.kind.load(ctx, res, scope, owned[0])
        state.put(res.key, live, res.kind.ocid(live))
    condition = res.kind.condition(live)
    if condition is Condition.BUSY and settle:
        with _named(ctx, res, "waiting for", again):
            live = res.kind.settle(ctx, res, scope, live)
        state.put(res.key, live, res.kind.ocid(live))
        condition = res.kind.condition(live)
    spec = res.spec(state)  # after the look-up: a spec may keep what the live resource already has
    if condition is Condition.PENDING_DELETION:
        return Change(res, Action.RESTORE, spec=spec, scope=scope, live=live, note="deletion scheduled")
    if condition is Condition.FAILED:
        note = f"{res.kind.failure(live)}; replaced"
        return Change(res, Action.REPLACE, spec=spec, scope=scope, live=live, note=note)
    if condition is Condition.UNUSABLE:
        note = f"{res.kind.failure(live)}; make it usable in the console, or delete it and apply"
        return Change(res, Action.CONFLICT, spec=spec, scope=scope, live=live, note=note)
    busy = (
        f"{getattr(live, 'lifecycle_state', '')}: apply waits for it" if condition is Condition.BUSY else ""
    )
    with _named(ctx, res, "comparing"):
        fields = res.kind.diff(ctx, res, live, spec)
    if not fields:
        return Change(res, Action.NOOP, spec=spec, scope=scope, live=live, note=busy)
    blocked = sorted(set(fields) & res.kind.immutable)
    if blocked and not res.kind.replaceable:
        note = f"{', '.join(blocked)} cannot change in place; destroy and apply, or restore the old value"
        return Change(res, Action.CONFLICT, fields, spec, scope, live, note)
    return Change(res, Action.REPLACE if blocked else Action.UPDATE, fields, spec, scope, live)


def plan(ctx: Context, stack: Desired) -> list[Change]:
    """What apply would do, changing nothing; specs that refer forward are re-read with the full state."""
    state = State(stack.external)
    first = [evaluate(ctx, res, state) for res in stack.resources]
    return [_settle(ctx, change, state) for change in first]


def _settle(ctx: Context, change: Change, state: State) -> Change:
    # A spec that changes once later resources are known (the VM's dynamic group) is compared again.
    if change.action is Action.CONFLICT or plain(change.resource.spec(state)) == plain(change.spec):
        return change
    return evaluate(ctx, change.resource, state, refind=False)


def _tags(ctx: Context, change: Change) -> dict[str, str]:
    res = change.resource
    kept = dict(res.kind.tags(change.live)) if change.live is not None else {}
    tags = {**kept, OWNER_TAG: ctx.config.prefix}
    if res.digest_fields:
        tags[DIGEST_TAG] = digest(change.spec, res.digest_fields)
    return tags


def execute(ctx: Context, change: Change, state: State) -> Change:
    """Carry out one change and record the result in the state."""
    res, kind = change.resource, change.resource.kind
    action = change.action
    if action is Action.NOOP:
        return change
    if action is Action.CONFLICT:
        raise DeployError(f"{kind.label} {res.name!r}: {change.note}")
    ctx.reporter.progress(f"{action.value:8} {kind.label} {res.name}")
    live: Any
    if action is Action.RESTORE:
        with _named(ctx, res, "restoring"):
            live = kind.restore(ctx, res, change.scope, change.live)
        state.put(res.key, live, kind.ocid(live))
        return execute(ctx, evaluate(ctx, res, state, refind=False), state)
    if action is Action.REPLACE:
        with _named(ctx, res, "deleting (to replace)"):
            kind.delete(ctx, res, change.scope, change.live)
        state.forget(res.key)
        change = Change(res, Action.CREATE, change.fields, change.spec, change.scope, None)
        action = Action.REPLACE
    if change.action is Action.CREATE:
        with _named(ctx, res, "creating"):
            live = kind.create(ctx, res, change.scope, change.spec, _tags(ctx, change))
    else:
        changed = {name: change.spec[name] for name in change.fields if name in change.spec}
        if res.digest_fields & set(change.fields):
            changed.update({name: change.spec[name] for name in res.digest_fields if name in change.spec})
        with _named(ctx, res, "updating"):
            live = kind.update(ctx, res, change.scope, change.live, changed, _tags(ctx, change))
    state.put(res.key, live, kind.ocid(live))
    return Change(res, action, change.fields, change.spec, change.scope, live)


def apply(ctx: Context, stack: Desired, planned: list[Change] | None = None) -> list[Change]:
    """Make the tenancy match the stack; stops at the first failure, and the next apply resumes."""
    planned = plan(ctx, stack) if planned is None else planned
    conflicts = [c for c in planned if c.action is Action.CONFLICT]
    if conflicts:
        lines = "\n".join(f"  {c.resource.kind.label} {c.resource.name!r}: {c.note}" for c in conflicts)
        raise DeployError(f"nothing changed; resolve these first:\n{lines}")
    # Start from what the plan found, so that every spec sees every existing resource (a spec may refer
    # to one later in the list); what the plan did not find is looked up again before it is created.
    state = State(stack.external)
    for change in planned:
        if change.live is not None:
            state.put(change.resource.key, change.live, change.resource.kind.ocid(change.live))
    done = [
        execute(ctx, evaluate(ctx, res, state, refind=False, settle=True), state) for res in stack.resources
    ]
    # Second pass for specs that depend on resources created later (the VM's dynamic group).
    out = []
    for change in done:
        settled = _settle(ctx, change, state)
        out.append(change if settled is change else execute(ctx, settled, state))
    return out


def destroy(ctx: Context, stack: Desired, *, dry_run: bool = False) -> list[Change]:
    """Delete what this prefix owns, in reverse creation order; same-named resources of others stay.

    Re-runnable: what is gone is not looked for, Vault objects already scheduled for deletion are left
    as they are. A failed deletion does not stop the run; what is left is returned with the reason
    (Action.CONFLICT), after everything else was tried.
    """
    state = State(stack.external)
    found: list[Change] = []
    for res in stack.resources:
        change = evaluate(ctx, res, state, again="destroy")
        if change.live is not None and res.kind.tags(change.live).get(OWNER_TAG) == ctx.config.prefix:
            found.append(change)
    out = []
    for change in reversed(found):
        res = change.resource
        if res.kind.pending_deletion(change.live):
            out.append(Change(res, Action.NOOP, scope=change.scope, live=change.live, note=SCHEDULED))
            continue
        if dry_run:
            out.append(Change(res, Action.DELETE, scope=change.scope, live=change.live))
            continue
        ctx.reporter.progress(f"delete   {res.kind.label} {res.name}")
        try:
            with _named(ctx, res, "deleting", "destroy"):
                _delete(ctx, res, change)
        except DeployError as exc:
            out.append(Change(res, Action.CONFLICT, scope=change.scope, live=change.live, note=str(exc)))
            continue
        state.forget(res.key)
        out.append(Change(res, Action.DELETE, scope=change.scope, live=change.live))
    return out


SCHEDULED = "already scheduled for deletion"


def _delete(ctx: Context, res: Resource, change: Change) -> None:
    """Delete; a 404 is success when the resource is indeed no longer listed (a previous run got it)."""
    import oci

    try:
        res.kind.delete(ctx, res, change.scope, change.live)
    except oci.exceptions.ServiceError as exc:
        if exc.status != 404:
            raise
        ocid = res.kind.ocid(change.live)
        if any(res.kind.ocid(item) == ocid for item in res.kind.find(ctx, res, change.scope)):
            raise
