"""`make demo`: the main job end to end against the local Lambda endpoint, no AWS account.

Starts the emulator, creates the example functions with a few published versions, then walks
validate → plan → apply → plan (empty) → a change behind git's back → drift (exit 2) → apply
to heal, and the rest of the product: retention, a canary, a rollout step, import, iam-policy.
Every step prints a one-line heading and the real CLI's output; the emulator stops at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emulator.client import start_emulator
from emulator.fixtures import create_function, create_python_function, publish, update_code
from reconciler.manifest import load_manifests

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifests/multi-function.yaml"
BOLD = "" if os.environ.get("NO_COLOR") else "\033[1m"
RESET = "" if os.environ.get("NO_COLOR") else "\033[0m"


def heading(text: str) -> None:
    print(f"\n{BOLD}━━ {text}{RESET}", flush=True)


def cli(
    env: dict[str, str], *args: str, expect: Sequence[int] = (0,)
) -> subprocess.CompletedProcess[str]:
    shown = "lambda-reconciler " + " ".join(args)
    print(f"$ {shown}", flush=True)
    r = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    sys.stdout.write(r.stdout)
    sys.stdout.write(r.stderr)
    print(f"(exit {r.returncode})", flush=True)
    if r.returncode not in expect:
        raise SystemExit(f"demo: `{shown}` exited {r.returncode}, expected {list(expect)}")
    return r


def seed(emu: Any, manifest: str) -> None:
    """Create every function the manifest names, with enough published versions."""
    for t in load_manifests([str(ROOT / manifest)]).functions:
        client = emu.boto3_client("lambda", t.region or "us-east-1")
        wanted = [s.version for s in t.spec.aliases.values() if isinstance(s.version, int)] + [
            s.canary.version
            for s in t.spec.aliases.values()
            if s.canary and isinstance(s.canary.version, int)
        ]
        count = max([3, *wanted]) + 1
        create_function(client, t.name, code="release-1")
        publish(client, t.name)
        for i in range(2, count + 1):
            update_code(client, t.name, f"release-{i}")
            publish(client, t.name)
        for v in range(1, count):
            # Age all but the newest version, so that retention by age has work to show.
            emu.age(t.name, v, "2026-01-01T00:00:00Z", region=t.region or "us-east-1")
        print(f"  created {t.name} ({t.region or 'us-east-1'}) with versions 1-{count}")


ROLLOUT = """\
version: 1
region: us-east-1
functions:
  checkout:
    aliases:
      live:
        version: 3
        provisioned_concurrency: 5
        rollout:
          steps: [10%, 50%]
          interval: 2s
          hooks: {pre_traffic: checkout-smoke-test}
"""
SMOKE = "def handler(event, context):\n    return {'status': 'Succeeded'}\n"


def rollout_with_wait(emu: Any, env: dict[str, str], tmp: Path) -> None:
    """A two-step rollout on two-second intervals, a pre-traffic hook, one `apply --wait`, on
    an alias with provisioned concurrency: the new version's is READY before traffic moves."""
    heading(
        "a progressive rollout with provisioned concurrency: the new version's capacity READY "
        "first, a pre-traffic hook, 10% → 50% → 100%, in one apply --wait"
    )
    client = emu.boto3_client("lambda")
    create_function(client, "checkout", code="release-1")
    publish(client, "checkout")
    for i in (2, 3):
        update_code(client, "checkout", f"release-{i}")
        publish(client, "checkout")
    client.create_alias(FunctionName="checkout", Name="live", FunctionVersion="2")
    emu.provision("checkout", "live", 5)  # already READY, on the alias (as `import` finds it)
    emu.provisioned_settings(allocation_delay=2)  # Lambda takes minutes; the emulator seconds
    create_python_function(client, "checkout-smoke-test", SMOKE)
    manifest = tmp / "rollout.yaml"
    manifest.write_text(ROLLOUT)
    print(ROLLOUT, end="")
    cli(env, "plan", str(manifest), "--format", "markdown", expect=(0, 2))
    cli(env, "apply", str(manifest), "--auto-approve", "--wait", "--poll", "1s")
    described = client.get_alias(FunctionName="checkout", Name="live")["Description"]
    print(f"\nThe rollout's state lives in the alias itself, written with each move: {described}")
    configs = client.list_provisioned_concurrency_configs(FunctionName="checkout")
    held = ", ".join(
        f"{c['FunctionArn'].rsplit(':', 1)[-1]}: {c['RequestedProvisionedConcurrentExecutions']} "
        f"{c['Status']}"
        for c in configs["ProvisionedConcurrencyConfigs"]
    )
    print(f"Provisioned concurrency now, by version: {held}")


def main() -> int:
    with start_emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, **emu.env(), "NO_COLOR": "1"}
        heading(f"Local Lambda endpoint at {emu.url}; creating the example functions")
        seed(emu, MANIFEST)

        heading("validate: schema and semantic checks, no AWS calls")
        cli(env, "validate", MANIFEST)

        heading("plan: what apply would change")
        cli(env, "plan", MANIFEST, "--detailed-exitcode", expect=(2,))

        heading("apply: make live state match git")
        cli(env, "apply", MANIFEST, "--auto-approve")

        heading("plan again: nothing left to do")
        cli(env, "plan", MANIFEST, "--detailed-exitcode")

        first = load_manifests([str(ROOT / MANIFEST)]).functions[0]
        client = emu.boto3_client("lambda", first.region or "us-east-1")
        alias = next(iter(first.spec.aliases))
        heading(f"someone moves {first.name}:{alias} by hand, behind git's back")
        client.update_alias(FunctionName=first.name, Name=alias, FunctionVersion="1")
        client.create_alias(FunctionName=first.name, Name="hotfix", FunctionVersion="1")
        print(
            f"  aws lambda update-alias --function-name {first.name} --name {alias} "
            "--function-version 1"
        )
        print(
            f"  aws lambda create-alias --function-name {first.name} --name hotfix "
            "--function-version 1"
        )

        heading("drift: live state differs from git (exit 2)")
        cli(env, "drift", MANIFEST, expect=(2,))

        heading("apply: heal the drift (the unmanaged alias is listed, not deleted)")
        cli(env, "apply", MANIFEST, "--auto-approve")
        cli(env, "plan", MANIFEST, "--detailed-exitcode")

        heading("a new release: $LATEST changes, publish and move the aliases that follow latest")
        update_code(client, first.name, "release-next")
        cli(env, "plan", MANIFEST, "--detailed-exitcode", expect=(0, 2))
        saved = str(Path(tmp) / "plan.json")
        heading("save the plan for review, then apply exactly that plan")
        cli(env, "plan", MANIFEST, "--out", saved, expect=(0,))
        cli(env, "apply", saved)

        heading("markdown for the pull-request comment")
        cli(env, "plan", MANIFEST, "--format", "markdown")

        rollout_with_wait(emu, env, Path(tmp))

        heading("import: a manifest that reproduces the live aliases exactly")
        cli(env, "import", first.name, "--region", first.region or "us-east-1")

        heading("iam-policy: the least privilege that apply needs")
        cli(env, "iam-policy", MANIFEST)

        heading("demo complete — it showed:")
        for line in (
            "validate, plan (exit 2), apply, and an empty plan right after it",
            "retention pruning old versions, with the storage it frees",
            "a change made by hand, found by drift (exit 2) and healed by apply",
            "a release: $LATEST published and the aliases that follow `latest` moved",
            "a saved plan applied exactly, the PR markdown, import and iam-policy",
            "a progressive rollout with a pre-traffic hook, driven to 100% by apply --wait, on an "
            "alias with provisioned concurrency that was READY on the new version first",
        ):
            print(f"  - {line}")
        print("The local endpoint stops now; nothing is left behind.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
