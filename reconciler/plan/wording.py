"""Every word the plan is shown in: the text and Markdown renderers and the JSON plan's
`changes`, `reason` and `message` fields all come from here, so they say the same thing.

The plan itself holds data (`reconciler.plan`); each function here turns one kind of value into
English. No dependencies beyond the plan's types: `validate` imports `plural` too.
"""

from typing_extensions import assert_never

from reconciler.aws import AliasTie, CodeStorage
from reconciler.plan import attachment_wording
from reconciler.plan.phrases import (
    KNOWN_AFTER_APPLY,
    Notes,
    age,
    canary,
    duration,
    noted,
    plural,
    quoted,
    rate,
    routing,
    state,
    utc_time,
    weight,
)
from reconciler.plan.rollout_wording import (
    LIVE_COLUMNS,
    cause,
    cause_now,
    hold,
    live_row,
    no_data,
    off_course,
    off_course_headline,
    record_problem,
    record_problem_from,
    rolled_back,
    rollout_checks,
    rollout_message,
)

# re-exported: callers import these from here
__all__ = [
    "KNOWN_AFTER_APPLY",
    "LIVE_COLUMNS",
    "Notes",
    "age",
    "canary",
    "cause",
    "cause_now",
    "duration",
    "hold",
    "live_row",
    "no_data",
    "noted",
    "off_course",
    "off_course_headline",
    "plural",
    "quoted",
    "rate",
    "record_problem",
    "record_problem_from",
    "rolled_back",
    "rollout_checks",
    "rollout_message",
    "routing",
    "state",
    "utc_time",
    "weight",
]
from reconciler.plan.types import (
    Action,
    AddPermission,
    AliasDeletion,
    Aliased,
    AliasField,
    AliasState,
    Brake,
    CapacityReason,
    CodeChanged,
    ConfigChanged,
    CreateAlias,
    CreateFunctionUrl,
    DeleteAlias,
    DeleteEventInvokeConfig,
    DeleteFunctionUrl,
    DeleteLayerVersion,
    DeleteVersion,
    InUse,
    KeepReason,
    Kept,
    KeptLayer,
    LayerKeepReason,
    NewVersion,
    NothingPublished,
    Operation,
    Previous,
    Protected,
    PublishReason,
    PublishVersion,
    PutEventInvokeConfig,
    RemovePermission,
    Replicated,
    SetProvisionedConcurrency,
    Shared,
    UnmanagedAlias,
    UpdateAlias,
    UpdateFunctionUrl,
    UsedBy,
    Young,
)


def count(action: Action, n: int) -> str:
    """The summary line's words for `n` operations of one kind."""
    match action:
        case Action.PUBLISH_VERSION:
            return f"{n} to publish"
        case Action.CREATE_ALIAS:
            return f"{n} to create"
        case Action.UPDATE_ALIAS:
            return f"{n} to update"
        case Action.DELETE_ALIAS:
            return f"{plural(n, 'alias', 'aliases')} to delete"
        case Action.DELETE_VERSION:
            return f"{plural(n, 'version', 'versions')} to delete"
        case Action.DELETE_LAYER_VERSION:
            return f"{plural(n, 'layer version', 'layer versions')} to delete"
        case (
            Action.CREATE_FUNCTION_URL
            | Action.UPDATE_FUNCTION_URL
            | Action.DELETE_FUNCTION_URL
            | Action.PUT_EVENT_INVOKE_CONFIG
            | Action.DELETE_EVENT_INVOKE_CONFIG
            | Action.ADD_PERMISSION
            | Action.REMOVE_PERMISSION
        ):
            return attachment_wording.count(action, n)
        case Action.SET_PROVISIONED_CONCURRENCY:
            changes = plural(n, "provisioned concurrency change", "provisioned concurrency changes")
            return changes
        case _:
            assert_never(action)


# ---- publish -----------------------------------------------------------------------------


def publish_reason(reason: PublishReason) -> str:
    match reason:
        case NothingPublished():
            return "no version published yet"
        case CodeChanged(before=before, after=after):
            return f"code changed: sha256 {before[:4]}… → {after[:4]}…"
        case ConfigChanged(fields=fields):
            return "configuration changed: " + ", ".join(fields)
        case _:
            assert_never(reason)


# ---- alias changes -----------------------------------------------------------------------


def _field_change(
    f: AliasField, before: AliasState, after: AliasState, notes: Notes | None = None
) -> str:
    match f:
        case AliasField.VERSION:
            text = f"version: {noted(before.version, notes)} → {noted(after.version, notes)}"
            return text + (" (back to an older version)" if _older(after, before) else "")
        case AliasField.CANARY:
            return f"canary: {canary(before.canary)} → {canary(after.canary)}"
        case AliasField.DESCRIPTION:
            return f"description: {before.description or ''!r} → {after.description or ''!r}"
        case _:
            assert_never(f)


def _older(after: AliasState, before: AliasState) -> bool:
    """The primary moves to a lower version number: a rollback, shown as one."""
    a, b = after.version, before.version
    return (
        isinstance(a, str)
        and isinstance(b, str)
        and a.isdigit()
        and b.isdigit()
        and int(a) < int(b)
    )


def alias_deletion(reason: AliasDeletion) -> str:
    match reason:
        case AliasDeletion.NOT_IN_MANIFEST:
            return "not in the manifest (prune_aliases: true)"
        case _:
            assert_never(reason)


def deletion_reason(op: DeleteVersion | DeleteLayerVersion) -> str:
    outside = f"outside keep_last={op.keep_last}, " if op.keep_last is not None else ""
    return f"{outside}{op.age_days} days old"


def changes(op: Operation, notes: Notes | None = None) -> tuple[str, ...]:
    """The human-readable differences an operation makes (the JSON plan's `changes`); with
    `notes`, each version an alias moves to or from with its description or age."""
    match op:
        case PublishVersion():
            return tuple(publish_reason(r) for r in op.reasons)
        case CreateAlias():
            primary = noted(op.after.version, notes)
            tail = "" if op.after.canary is None else f" + {canary(op.after.canary)}"
            return (f"→ {primary}{tail}",)
        case UpdateAlias():
            lines = tuple(_field_change(f, op.before, op.after, notes) for f in op.fields)
            if op.rollout is not None:
                lines += (f"rollout: {rollout_message(op.rollout.status)}",)
            if op.untag:
                lines += (MIGRATION,)
            return lines
        case DeleteAlias():
            return (f"{op.alias} → {state(op.before)} (not in the manifest)",)
        case DeleteVersion() | DeleteLayerVersion():
            return ()
        case (
            CreateFunctionUrl()
            | UpdateFunctionUrl()
            | DeleteFunctionUrl()
            | PutEventInvokeConfig()
            | DeleteEventInvokeConfig()
            | AddPermission()
            | RemovePermission()
        ):
            return attachment_wording.changes(op)
        case SetProvisionedConcurrency():
            return (capacity_change(op),)
        case _:
            assert_never(op)


MIGRATION = "an earlier release's state tags → the alias record (the tags are then removed)"


def reason(op: Operation) -> str:
    """Why an operation happens, in one phrase (the JSON plan's `reason`)."""
    match op:
        case PublishVersion():
            return "; ".join(publish_reason(r) for r in op.reasons)
        case CreateAlias():
            return ""
        case UpdateAlias():
            return "" if op.rollout is None else rollout_message(op.rollout.status)
        case DeleteAlias():
            return alias_deletion(op.reason)
        case DeleteVersion() | DeleteLayerVersion():
            return deletion_reason(op)
        case (
            CreateFunctionUrl()
            | UpdateFunctionUrl()
            | DeleteFunctionUrl()
            | PutEventInvokeConfig()
            | DeleteEventInvokeConfig()
            | AddPermission()
            | RemovePermission()
        ):
            return attachment_wording.reason(op)
        case SetProvisionedConcurrency():
            return capacity_reason(op)
        case _:
            assert_never(op)


def target(op: Operation) -> str:
    """What an operation acts on: `$LATEST`, an alias name, or a version number."""
    match op:
        case PublishVersion():
            return "$LATEST"
        case CreateAlias() | UpdateAlias() | DeleteAlias() | SetProvisionedConcurrency():
            return op.alias
        case DeleteVersion() | DeleteLayerVersion():
            return str(op.version)
        case (
            CreateFunctionUrl()
            | UpdateFunctionUrl()
            | DeleteFunctionUrl()
            | PutEventInvokeConfig()
            | DeleteEventInvokeConfig()
            | AddPermission()
            | RemovePermission()
        ):
            return op.alias
        case _:
            assert_never(op)


def _publishes_into(s: AliasState) -> bool:
    return any(isinstance(v, NewVersion) for v in s.versions())


def detail(op: Operation, notes: Notes | None = None) -> str:
    """What an operation changes, or why it happens, in one line (text and Markdown); `notes`
    (`FunctionPlan.notes()`) add each version's description or age."""
    match op:
        case PublishVersion():
            why = reason(op)
            new = "→ new version"
            if op.description is not None:
                new += f" described {quoted(op.description)}"
            return f"{new} ({why})" if why else new
        case CreateAlias() | UpdateAlias():
            text = "; ".join(changes(op, notes)) or f"→ {state(op.after)}"
            if _publishes_into(op.after) and KNOWN_AFTER_APPLY not in text:
                text = text.replace("new version", KNOWN_AFTER_APPLY, 1)
            return text
        case DeleteAlias():
            return f"routes to {state(op.before)}; {alias_deletion(op.reason)}"
        case DeleteVersion() | DeleteLayerVersion():
            return deletion_reason(op)
        case (
            CreateFunctionUrl()
            | UpdateFunctionUrl()
            | DeleteFunctionUrl()
            | PutEventInvokeConfig()
            | DeleteEventInvokeConfig()
            | AddPermission()
            | RemovePermission()
        ):
            return "; ".join(attachment_wording.changes(op))
        case SetProvisionedConcurrency():
            if op.why is CapacityReason.DECLARED:
                return capacity_change(op)
            return f"{capacity_change(op)}: {capacity_reason(op)}"
        case _:
            assert_never(op)


# ---- provisioned concurrency -------------------------------------------------------------

# Provisioned concurrency's price per GB-second in us-east-1 (https://aws.amazon.com/lambda/pricing/),
# approximate and region-dependent: docs/manifest.md §2 says so beside the table.
PRICE_PER_GB_SECOND = {"x86_64": 0.0000041667, "arm64": 0.0000033334}
MONTH_SECONDS = 2_592_000  # 30 days


def monthly_cost(count: int, memory_mb: int, arm64: bool) -> float:
    """The approximate monthly price of `count` environments of `memory_mb` kept provisioned
    (the invocations they serve are billed apart)."""
    price = PRICE_PER_GB_SECOND["arm64" if arm64 else "x86_64"]
    return count * (memory_mb / 1024) * MONTH_SECONDS * price


def capacity_reason(op: SetProvisionedConcurrency) -> str:
    """Why a capacity change is made."""
    match op.why:
        case CapacityReason.DECLARED:
            return "provisioned_concurrency differs from the manifest"
        case CapacityReason.MOVE_TARGET:
            return f"alias {op.alias} moves to it: no traffic moves before it is READY"
        case CapacityReason.CONVERTED:
            if op.after == 0:
                return (
                    f"alias {op.alias}'s own config gives way to version-level ones before it "
                    "is repointed (once; the version it leaves has none once the move is done)"
                )
            return f"the version alias {op.alias} leaves keeps it until the move is done"
        case CapacityReason.MOVED_FROM:
            return f"alias {op.alias} has moved off this version for good"
        case CapacityReason.ROLLED_BACK_FROM:
            return f"alias {op.alias}'s rollout to this version was rolled back"
        case CapacityReason.ROLLED_BACK_TO:
            return (
                f"`rollback` moved alias {op.alias} here first (safety before capacity); "
                "its provisioned concurrency follows"
            )
        case _:
            assert_never(op.why)


def capacity_change(op: SetProvisionedConcurrency) -> str:
    """ "provisioned concurrency 0 → 50 on alias prod (≈ $52.56/month)"."""
    where = f"version {op.qualifier}" if op.qualifier.isdigit() else f"alias {op.qualifier}"
    text = f"provisioned concurrency {op.before} → {op.after} on {where}"
    if op.memory_mb:
        before = monthly_cost(op.before, op.memory_mb, op.arm64)
        after = monthly_cost(op.after, op.memory_mb, op.arm64)
        sign = "+" if after >= before else "-"
        text += f" (≈ {sign}${abs(after - before):,.2f}/month at {op.memory_mb} MB)"
    return text


# ---- retention and the brake -------------------------------------------------------------


def keep_reason(r: KeepReason) -> str:
    match r:
        case Aliased(aliases=aliases):
            return "aliased by " + ", ".join(aliases)
        case Protected():
            return "protected"
        case Previous(alias=alias, n=n):
            return f"{alias}'s previous version" + ("" if n == 1 else f" ({n} back)")
        case Young(days=days, keep_days=keep_days):
            return f"young ({days} days old, keep_days={keep_days})"
        case InUse(what=what):
            return "used by " + (
                ", ".join(what) if what else "an event source mapping or provisioned concurrency"
            )
        case Replicated(distribution=distribution, event_type=event_type):
            return f"replicated (Lambda@Edge): CloudFront distribution {distribution} {event_type}"
        case _:
            assert_never(r)


def kept(k: Kept) -> str:
    return "; ".join(keep_reason(r) for r in k.reasons)


def layer_keep_reason(r: LayerKeepReason) -> str:
    match r:
        case Protected():
            return "protected"
        case Young(days=days, keep_days=keep_days):
            return f"young ({days} days old, keep_days={keep_days})"
        case UsedBy(functions=functions, total=n):
            more = f" and {n - len(functions)} more" if n > len(functions) else ""
            return f"used by {', '.join(functions)}{more}"
        case Shared(grantees=grantees):
            return f"shared: its policy grants {', '.join(grantees)} (their use cannot be seen)"
        case _:
            assert_never(r)


def kept_layer(k: KeptLayer) -> str:
    return "; ".join(layer_keep_reason(r) for r in k.reasons)


# ---- code storage ------------------------------------------------------------------------


def storage_size(n: int) -> str:
    """Binary units, as the quota is stated: 80_530_636_800 → "75 GB", 13_314_398_617 →
    "12.4 GB" (whole numbers without a decimal)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            text = f"{size:.1f}".removesuffix(".0") if unit != "B" else f"{n}"
            return f"{text} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def percent(used: int, limit: int) -> str:
    return f"{used * 100 / limit:.0f} %" if limit else "? %"


def storage_line(s: CodeStorage, freed: int) -> str:
    """ "code storage in us-east-1: 12.4 GB of 75 GB, 17 %; this plan frees 1.2 MB"."""
    if s.error:
        return f"code storage in {s.region}: unknown ({s.error})"
    text = f"code storage in {s.region}: {storage_size(s.used)} of {storage_size(s.limit)}, "
    text += percent(s.used, s.limit)
    return text + (f"; this plan frees {storage_size(freed)}" if freed else "")


def storage_warning(s: CodeStorage, threshold: float) -> str | None:
    """A warning when the region's use is above `threshold` (a share of the quota)."""
    if s.error or not s.limit or s.used <= s.limit * threshold:
        return None
    return (
        f"code storage in {s.region} is at {percent(s.used, s.limit)} of its quota, above "
        f"--storage-warn {threshold * 100:g} %: delete unused versions (retention) or ask AWS "
        "for more"
    )


def brake(b: Brake) -> str:
    return (
        f"{plural(b.deletions, 'deletion', 'deletions')} in this run (versions and aliases), "
        f"more than --max-deletions={b.limit}; apply refuses the whole plan "
        "(check retention and prune_aliases, or raise the limit)"
    )


def alias_tie(tie: AliasTie) -> str:
    match tie:
        case AliasTie.PROVISIONED_CONCURRENCY:
            return "provisioned concurrency"
        case AliasTie.PERMISSION:
            return "a resource-policy statement"
        case AliasTie.EVENT_SOURCE_MAPPING:
            return "an event source mapping"
        case AliasTie.FUNCTION_URL:
            return "a function URL"
        case _:
            assert_never(tie)


def unmanaged(u: UnmanagedAlias) -> str:
    """An unmanaged alias's row: where it routes, and why prune_aliases left it."""
    text = f"→ {state(u.state)}"
    if u.ties:
        carried = ", ".join(alias_tie(t) for t in u.ties)
        text += f"; not deleted: it carries {carried} (prune_aliases: force deletes it)"
    return text


def housekeeping(versions: int, layer_versions: int) -> str | None:
    """The retention deletions due that `drift` shows but does not count as drift."""
    parts = []
    if versions:
        parts.append(plural(versions, "version", "versions"))
    if layer_versions:
        parts.append(plural(layer_versions, "layer version", "layer versions"))
    if not parts:
        return None
    return (
        f"Housekeeping due: {' and '.join(parts)} to delete under retention (apply deletes "
        "them; not drift, see --housekeeping-is-drift)."
    )


def drift_unknown(errors: int, first: str) -> str:
    """The drift headline when some live state could not be read: no verdict, its cause once."""
    return (
        f"Drift unknown: {plural(errors, 'error', 'errors')} kept live state from being read or "
        f"planned (first: {first}); nothing can be said of what was not read."
    )


def young_run(least: int, most: int, keep_days: int) -> str:
    """The reason of a run of versions kept for being young, said once."""
    days = f"{least} days" if least == most else f"{least}–{most} days"
    return f"young ({days} old, keep_days={keep_days})"
