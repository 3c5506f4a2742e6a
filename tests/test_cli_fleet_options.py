"""AWS options only on the commands that call AWS; the README's option lists match `--help`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli_helpers import run_main

README = Path(__file__).resolve().parent.parent / "README.md"
# The options the root group shares with the commands.
SHARED = {
    "--region",
    "--profile",
    "--endpoint-url",
    "--parallelism",
    "--max-rate",
    "--read-mode",
    "--no-color",
    "--verbose",
    "--debug",
}
AWS_COMMANDS = ("plan", "apply", "drift", "adopt", "rollback", "import")


def shared_options(command: str) -> set[str]:
    """The shared options that `COMMAND --help` lists."""
    r = run_main([command, "--help"], {})
    assert r.returncode == 0, r.stderr
    listed = set(re.findall(r"(?m)^\s+(?:-\w, )?(--[a-z-]+)", r.stdout))
    return listed & SHARED


def readme_paragraph() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("Options of the commands that call AWS")
    return text[start : text.index("\n\n", start)]


@pytest.mark.parametrize("command", AWS_COMMANDS)
def test_commands_that_call_aws_list_every_shared_option(command: str) -> None:
    """plan, apply, drift, adopt, rollback and import take all the AWS and output options."""
    assert shared_options(command) == SHARED


@pytest.mark.parametrize(
    ("command", "expected"),
    [("validate", {"--debug"}), ("schema", {"--debug"}), ("iam-policy", {"--region", "--debug"})],
)
def test_commands_without_aws_calls_list_no_aws_option(command: str, expected: set[str]) -> None:
    """validate and schema list only --debug; iam-policy --region (its ARNs) and --debug."""
    assert expected == shared_options(command)


def test_an_aws_option_on_validate_is_a_usage_error(tmp_path: Path) -> None:
    """`validate m.yaml --profile x` is refused (exit 1) rather than silently ignored."""
    m = tmp_path / "m.yaml"
    m.write_text("version: 1\nregion: us-east-1\nfunctions: {f: {}}\n")
    r = run_main(["validate", str(m), "--profile", "x"], {})
    assert r.returncode == 1
    assert "No such option '--profile'" in r.stderr


def test_the_readme_lists_the_options_that_help_lists() -> None:
    """The README's option paragraph names the commands that call AWS and exactly the shared
    options their --help lists, and says what validate, schema and iam-policy take."""
    paragraph = readme_paragraph()
    head, _, rest = paragraph.partition("):")
    commands = tuple(re.findall(r"`([a-z-]+)`", head))
    assert commands == AWS_COMMANDS
    aws_part, _, others = rest.partition("`validate` and `schema`")
    named = set(re.findall(r"`(--[a-z-]+)", aws_part)) | {"--verbose"} & set(
        re.findall(r"-v/(--verbose)", aws_part)
    )
    for command in commands:
        assert named == shared_options(command)
    assert {"--debug"} == set(re.findall(r"`(--[a-z-]+)`", others.split("`iam-policy`")[0]))
    iam_part = others.split("`iam-policy`")[1].split("`--version`")[0]
    assert shared_options("iam-policy") == set(re.findall(r"`(--[a-z-]+)`", iam_part))
