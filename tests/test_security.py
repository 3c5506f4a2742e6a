"""Security: no secret is ever printed; endpoints and proxies are honoured; the account guard
refuses before any Lambda call.

Secrets are planted where the CLI must handle them: the access key, secret key and session
token of its own process, and function environment values created and changed through the API
so that a publish is planned (the CLI reads them with every ListVersionsByFunction). Every
output of every command is then searched for them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path
from typing import Any

import pytest

from emulator.fixtures import create_function, publish, wait_updated
from tests.cli_helpers import CliResult, lambda_calls, run_cli, run_main, write_manifest, writes
from tests.test_reliability_support import Proxy, gated_cli, run_gated

ACCESS_KEY = "AKIAPLANTEDKEYID7Q3Z"
SECRET_KEY = "planted-secret-key-5a1b9c0d7e3f"
SESSION_TOKEN = "planted-session-token-0f9e8d7c6b5a"
ENV_SECRETS = {
    "first DB_PASSWORD": "planted-env-password-one-41f2",
    "API_TOKEN": "planted-env-api-token-77ac",
    "changed DB_PASSWORD": "planted-env-password-two-9b3e",
    "third DB_PASSWORD": "planted-env-password-three-c5d8",
    "fourth DB_PASSWORD": "planted-env-password-four-e6a0",
}
SECRETS = {
    "access key id": ACCESS_KEY,
    "secret access key": SECRET_KEY,
    "session token": SESSION_TOKEN,
    **ENV_SECRETS,
}
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_SESSION_TOKEN": SESSION_TOKEN,
}


def leaks(text: str) -> list[str]:
    """Which planted secrets (or a 16-character piece of one) appear in `text`."""
    return [
        what
        for what, value in SECRETS.items()
        if value in text or any(value[i : i + 16] in text for i in range(len(value) - 15))
    ]


def set_env(client: Any, password: str) -> None:
    client.update_function_configuration(
        FunctionName="vault",
        Environment={"Variables": {"DB_PASSWORD": password, "API_TOKEN": ENV_SECRETS["API_TOKEN"]}},
    )
    wait_updated(client, "vault")


def test_credentials_and_environment_values_never_appear_in_any_output(
    emulator: Any, tmp_path: Path
) -> None:
    """With planted credentials in the CLI's environment and planted function environment
    values (changed, so a publish is planned): plan -v in text, markdown and JSON, the --out
    plan file, drift -v --format json and markdown, apply of the saved plan, a stale saved
    plan refused under -v --debug (with its traceback), an apply whose publish fails under -v, a
    successful apply -v and import -v contain none of them. The proxy in between proves that
    the CLI did send those credentials and did receive those values."""
    client = emulator.boto3_client("lambda")
    create_function(
        client,
        "vault",
        Environment={
            "Variables": {
                "DB_PASSWORD": ENV_SECRETS["first DB_PASSWORD"],
                "API_TOKEN": ENV_SECRETS["API_TOKEN"],
            }
        },
    )
    publish(client, "vault")
    client.create_alias(FunctionName="vault", Name="prod", FunctionVersion="1")
    set_env(client, ENV_SECRETS["changed DB_PASSWORD"])
    emulator.clear_calls()
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        allowed_account_ids: ["123456789012"]
        functions:
          vault:
            publish: true
            aliases:
              prod: {version: latest, description: Production}
            retention: {keep_last: 1}
        """,
    )
    saved = tmp_path / "plan.json"
    outputs: dict[str, str] = {}
    with Proxy(upstream=emulator.url) as proxy:
        env = {**CREDENTIALS, "AWS_ENDPOINT_URL": proxy.url}

        def run(label: str, *args: str, rc: tuple[int, ...] = (0,)) -> str:
            r = run_cli(emulator, *args, env=env)
            assert r.returncode in rc, (label, r.stdout, r.stderr)
            outputs[label] = r.stdout + r.stderr
            return r.stdout + r.stderr

        text = run("plan -v", "plan", m, "-v")
        assert "configuration changed: environment" in text
        run("plan -v markdown", "plan", m, "-v", "--format", "markdown")
        run("plan -v json --out", "plan", m, "-v", "--format", "json", "--out", str(saved))
        outputs["plan file"] = saved.read_text()
        run("drift -v json", "drift", m, "-v", "--format", "json", rc=(2,))
        run("drift markdown", "drift", m, "--format", "markdown", rc=(2,))
        run("apply plan file -v", "apply", str(saved), "-v")
        set_env(client, ENV_SECRETS["third DB_PASSWORD"])
        stale = tmp_path / "stale.json"
        run("plan --out before a change", "plan", m, "--out", str(stale))
        outputs["stale plan file"] = stale.read_text()
        set_env(client, ENV_SECRETS["fourth DB_PASSWORD"])
        text = run("stale plan apply -v --debug", "apply", str(stale), "-v", "--debug", rc=(1,))
        assert "Traceback" in text  # --debug asks for one: the traceback too must be clean
        emulator.faults(
            fail_write={"n": 1, "status": 400, "code": "InvalidParameterValueException"}
        )
        text = run("failing apply -v", "apply", m, "--auto-approve", "-v", rc=(1,))
        assert "injected failure" in text
        emulator.faults()
        run("apply -v", "apply", m, "--auto-approve", "-v")
        run("import -v", "import", "vault", "-v", "--region", "us-east-1")
        run("drift after", "drift", m, "-v")
        sent = list(proxy.exchanges)
    found = {label: leaks(out) for label, out in outputs.items()}
    leaked = sum(len(v) for v in found.values())
    print(f"\nFIGURE security: secrets leaked = {leaked} ({len(outputs)} outputs searched)")
    assert found == {label: [] for label in outputs}
    # Non-vacuous: the planted credentials were used and the values were read.
    assert sent
    assert all(e.headers.get("X-Amz-Security-Token") == SESSION_TOKEN for e in sent)
    assert all(ACCESS_KEY in e.headers.get("Authorization", "") for e in sent)
    listed = b"".join(e.response for e in sent if "/versions" in e.path and e.method == "GET")
    for value in ENV_SECRETS.values():
        assert value.encode() in listed, value
    assert writes(emulator).count(("PublishVersion", "vault")) == 2


def base_env(emulator: Any) -> dict[str, str]:
    """The emulator's CLI environment without any endpoint or proxy variable."""
    drop = {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_STS"}
    drop |= {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"}
    return {k: v for k, v in emulator.env().items() if k.upper() not in drop}


MANIFEST = """
version: 1
region: us-east-1
allowed_account_ids: ["123456789012"]
functions:
  orders:
    aliases:
      prod: {version: 2}
"""


def seed_orders(emulator: Any) -> Any:
    emulator.seed([{"name": "orders", "versions": 2}])
    client = emulator.boto3_client("lambda")
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="1")
    emulator.clear_calls()
    return client


def run_exactly(args: list[str], env: dict[str, str]) -> CliResult:
    """The CLI with exactly `env` (run_cli would add the emulator's endpoint variable)."""
    return run_main(args, env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_endpoint_url_option_is_respected(emulator: Any, tmp_path: Path) -> None:
    """With no endpoint variable at all, --endpoint-url (before or after the command) brings
    the CLI to the emulator for STS and Lambda; it also wins over AWS_ENDPOINT_URL pointing at
    a closed port."""
    seed_orders(emulator)
    m = write_manifest(tmp_path, MANIFEST)
    env = base_env(emulator)
    assert not any(k.startswith("AWS_ENDPOINT_URL") for k in env)
    for args in (
        ["--endpoint-url", emulator.url, "plan", m, "--detailed-exitcode"],
        ["plan", m, "--detailed-exitcode", "--endpoint-url", emulator.url],
    ):
        emulator.clear_calls()
        r = run_exactly(args, env)
        assert r.returncode == 2, r.stdout + r.stderr
        ops = {(c["service"], c["operation"]) for c in emulator.calls()}
        assert ("sts", "GetCallerIdentity") in ops
        assert ("lambda", "ListAliases") in ops
    dead = {**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    emulator.clear_calls()
    r = run_exactly(["apply", m, "--auto-approve", "--endpoint-url", emulator.url], dead)
    assert r.returncode == 0, r.stdout + r.stderr
    assert writes(emulator) == [("UpdateAlias", "orders")]


def test_http_proxy_is_respected(emulator: Any, tmp_path: Path) -> None:
    """HTTP_PROXY set, --endpoint-url http://…: every AWS request of an apply (STS and Lambda)
    goes through the proxy, in proxy form (absolute URL), and the apply succeeds."""
    seed_orders(emulator)
    m = write_manifest(tmp_path, MANIFEST)
    with Proxy() as proxy:
        env = {**base_env(emulator), "HTTP_PROXY": proxy.url}
        r = run_exactly(["apply", m, "--auto-approve", "--endpoint-url", emulator.url], env)
        proxy.wait_idle()
        through = list(proxy.exchanges)
    assert r.returncode == 0, r.stdout + r.stderr
    calls = emulator.calls()
    assert len(through) == len(calls) > 0
    assert all(e.target.startswith(emulator.url + "/") for e in through)
    assert {c["service"] for c in calls} == {"sts", "lambda"}
    assert writes(emulator) == [("UpdateAlias", "orders")]


def test_https_proxy_is_respected(emulator: Any, tmp_path: Path) -> None:
    """HTTPS_PROXY set, --endpoint-url https://…: the CLI opens its connection with CONNECT
    through the proxy (which refuses the tunnel; the CLI, retrying, is then stopped). No
    request reaches anything else."""
    m = write_manifest(tmp_path, MANIFEST)
    with Proxy() as proxy:
        env = {**base_env(emulator), "HTTPS_PROXY": proxy.url}
        proc = gated_cli(["plan", m, "--endpoint-url", "https://lambda.example.invalid"], env)
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        seen = proxy.connect_event.wait(60)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        connects = list(proxy.connects)
    assert seen
    assert connects[0] == "lambda.example.invalid:443"
    assert emulator.calls() == []


@pytest.mark.parametrize("command", ["plan", "apply", "drift", "apply PLAN.json"])
def test_account_guard_refuses_before_any_lambda_call(
    emulator: Any, tmp_path: Path, command: str
) -> None:
    """allowed_account_ids ["111111111111"] while the credentials are for 123456789012: plan,
    apply and drift exit 1 naming both accounts, and the call log holds exactly one STS
    GetCallerIdentity and no Lambda call. A saved plan made for 111111111111 is refused the
    same way. With the right account listed, the same manifest is planned (control)."""
    client = seed_orders(emulator)
    guarded = write_manifest(tmp_path, MANIFEST.replace("123456789012", "111111111111"), "g.yaml")
    if command == "apply PLAN.json":
        saved = tmp_path / "plan.json"
        r = run_cli(emulator, "plan", write_manifest(tmp_path, MANIFEST), "--out", str(saved))
        assert r.returncode == 0, r.stderr
        doc = json.loads(saved.read_text())
        for fp in doc["functions"]:
            fp["account"] = "111111111111"
        saved.write_text(json.dumps(doc))
        args = ["apply", str(saved)]
        expected = "the plan was made for account 111111111111"
    else:
        args = [command, guarded] + (["--auto-approve"] if command == "apply" else [])
        expected = "account 123456789012 is not in allowed_account_ids (111111111111)"
    emulator.clear_calls()
    r = run_cli(emulator, *args)
    assert r.returncode == 1, r.stdout + r.stderr
    assert expected in r.stderr, r.stderr
    assert "nothing was" in r.stderr
    assert "Traceback" not in r.stderr
    calls = emulator.calls()
    assert [(c["service"], c["operation"]) for c in calls] == [("sts", "GetCallerIdentity")]
    assert lambda_calls(emulator) == []
    assert client.get_alias(FunctionName="orders", Name="prod")["FunctionVersion"] == "1"
    both = MANIFEST.replace('["123456789012"]', '["111111111111", "123456789012"]')
    r = run_cli(emulator, "plan", write_manifest(tmp_path, both, "ok.yaml"), "--detailed-exitcode")
    assert r.returncode == 2, r.stdout + r.stderr


def test_gated_launcher_runs_the_cli() -> None:
    """The launcher the kill and HTTPS proxy tests rely on: the process waits, then becomes
    the CLI itself (same pid), here printing its version."""
    proc = gated_cli(["--version"], dict(os.environ))
    rc, out, _ = run_gated(proc)
    assert rc == 0
    assert out.startswith("lambda-reconciler, version ")
