"""docs/migrating.md's walk-through runs as written: on a small fleet as SAM left it (one alias
caught mid-deployment), every `lambda-reconciler` command between the walk-through markers is
run in order with the exit code the document states, every `# file:` block is written where it
says, every `# excerpt:` block is checked against the file, and the hook is the document's own
adapted CodeDeploy hook."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from emulator.fixtures import create_python_function
from tests.cli_helpers import TEST_ENV, run_main

DOC = Path(__file__).resolve().parent.parent / "docs" / "migrating.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def _walkthrough(text: str) -> str:
    start = text.index("<!-- walkthrough:start -->")
    return text[start : text.index("<!-- walkthrough:end -->")]


def _hook_source(text: str) -> str:
    for lang, body in BLOCK.findall(text):
        if lang == "python" and body.startswith("# file: smoke_tests.py\n"):
            return str(body)
    raise AssertionError("docs/migrating.md has no `# file: smoke_tests.py` block")


def _command(line: str) -> tuple[dict[str, str], list[str], int]:
    """`VAR=value lambda-reconciler ARGS   # exit N` → (env, args, N)."""
    code, _, said = line.partition("#")
    m = re.fullmatch(r"\s*exit (\d+)\s*", said)
    assert m, f"no `# exit N` on: {line}"
    words = shlex.split(code)
    env = {}
    while "=" in words[0]:
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    assert words[0] == "lambda-reconciler", line
    return env, words[1:], int(m.group(1))


def _fleet(emulator: Any, hook: str) -> Any:
    emulator.seed(
        [
            {"name": "shop-orders", "versions": 4},
            {"name": "shop-payments", "versions": 6, "aliases": {"live": 6}},
            {"name": "shop-search", "versions": 2, "aliases": {"live": 2}},
        ]
    )
    client = emulator.boto3_client("lambda")
    client.create_alias(
        FunctionName="shop-orders",
        Name="live",
        FunctionVersion="3",
        RoutingConfig={"AdditionalVersionWeights": {"4": 0.1}},
    )
    create_python_function(client, "smoke-tests", hook, handler="smoke_tests.handler")
    return client


def test_the_migration_walkthrough_runs_as_written(emulator: Any, tmp_path: Path) -> None:
    text = DOC.read_text()
    client = _fleet(emulator, _hook_source(text))
    (tmp_path / "manifests").mkdir()
    outputs: list[str] = []
    steps = 0
    for lang, body in BLOCK.findall(_walkthrough(text)):
        first, _, rest = body.partition("\n")
        if lang == "yaml" and first.startswith("# file: "):
            (tmp_path / first.removeprefix("# file: ")).write_text(rest)
        elif lang == "yaml" and first.startswith("# excerpt: "):
            written = (tmp_path / first.removeprefix("# excerpt: ")).read_text()
            assert rest in written, written
        elif lang == "sh":
            for line in filter(None, (x.strip() for x in body.splitlines())):
                env, args, code = _command(line)
                r = run_main(args, {**emulator.env(), **TEST_ENV, **env}, cwd=tmp_path)
                assert r.returncode == code, f"{line}\n{r.stdout}{r.stderr}"
                outputs.append(r.stdout + r.stderr)
                steps += 1
    assert steps == 6
    assert any("shop-orders:live: pre-traffic hook smoke-tests passed" in o for o in outputs)
    live = client.get_alias(FunctionName="shop-orders", Name="live")
    assert (live["FunctionVersion"], live.get("RoutingConfig")) in (("4", None), ("4", {}))

    def versions(name: str) -> list[str]:
        out = client.list_versions_by_function(FunctionName=name)["Versions"]
        return [v["Version"] for v in out if v["Version"] != "$LATEST"]

    assert versions("shop-payments") == ["4", "5", "6"]
    assert versions("shop-orders") == ["2", "3", "4"]
