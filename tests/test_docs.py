"""The documentation is part of the contract, so it is tested like code (Datasette's
documentation unit tests are the model): every CLI command and option, every config key
and every analyst-query parameter and chart type must be written down, and every TOML
example in the README must be a config Inward accepts. Adding an option without
documenting it fails here, which is the point: the README is how a new user finds it."""

from __future__ import annotations

import argparse
import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from dashboard import config as cfg
from dashboard.analyst.spec import CHART_TYPES, PARAM_TYPES
from dashboard.cli import parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
QUERIES_README = (ROOT / "queries" / "README.md").read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The body of the `## heading` section, up to the next heading of its level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"README has no '## {heading}' section"
    return match.group(1)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every command path (`ingest`, `queries check`) with its parser."""
    out: dict[str, argparse.ArgumentParser] = {}

    def walk(prefix: str, p: argparse.ArgumentParser) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    path = f"{prefix} {name}".strip()
                    out[path] = child
                    walk(path, child)

    walk("", parser())
    return out


COMMANDS = subcommands()
CLI_SECTION = section(README, "Command line")
CLI_BLOCK = "\n".join(re.findall(r"```bash\n(.*?)```", CLI_SECTION, re.S))
CLI_PROSE = re.sub(r"```.*?```", "", CLI_SECTION, flags=re.S)


def test_the_doc_test_sees_the_cli() -> None:
    assert {"demo", "ingest", "metrics", "report", "queries check"} <= set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_and_option_is_in_the_readme(command: str) -> None:
    lines = [
        line
        for line in CLI_BLOCK.splitlines()
        if re.match(rf"uv run inward {re.escape(command)}(\s|$)", line)
    ]
    assert lines, f"`inward {command}` is not in README's Command line block"
    usage = "\n".join(lines)
    missing = [
        option
        for action in COMMANDS[command]._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
        if option not in usage and f"`{option}" not in CLI_PROSE
    ]
    assert missing == [], f"inward {command}: options not documented in README: {missing}"


def toml_examples(text: str) -> list[dict]:
    """Every inward.toml example (a block headed `# .streamlit/secrets.toml` is Streamlit's
    file, not Inward's config)."""
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    return [tomllib.loads(b) for b in blocks if not b.startswith("# .streamlit/secrets.toml")]


def test_readme_config_examples_are_accepted() -> None:
    examples = toml_examples(README)
    assert examples, "README shows no inward.toml"
    for example in examples:
        cfg.parse_config(example)  # raises ConfigError naming the key


def documented_keys() -> set[str]:
    """Dotted keys of every TOML example, with table names (`calendar.default.hours`
    also counts as `calendar.hours`, the key of any team's calendar)."""
    keys: set[str] = set()

    def walk(prefix: str, table: dict, depth: int) -> None:
        for key, value in table.items():
            path = f"{prefix}{key}"
            keys.add(path)
            if isinstance(value, dict):
                walk(f"{path}.", value, depth + 1)
                if prefix:  # a named table: calendar."IT Service Desk" -> calendar.*
                    walk(prefix, value, depth + 1)
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for item in value:
                    walk(f"{path}.", item, depth + 1)

    for example in toml_examples(README):
        walk("", example, 0)
    return keys


def test_every_config_key_is_documented() -> None:
    keys = documented_keys()
    expected = set(cfg.TOP_KEYS)
    expected |= {f"engagement.{f.name}" for f in fields(cfg.EngagementSettings)}
    expected |= {f"queries.{f.name}" for f in fields(cfg.QuerySettings)}
    expected |= {f"calendar.{k}" for k in ("timezone", "workdays", "hours", "holidays")}
    expected |= {f"sla.{k}" for k in ("first_response", "resolution", "business")}
    expected |= {f"goals.{f.name}" for f in fields(cfg.Goal)}
    missing = sorted(expected - keys)
    assert missing == [], f"config keys not shown in any README inward.toml example: {missing}"


@pytest.mark.parametrize("kind", PARAM_TYPES)
def test_every_query_param_type_is_documented(kind: str) -> None:
    assert re.search(rf"^\| `{kind}`", QUERIES_README, re.M), f"param type {kind}"


@pytest.mark.parametrize("kind", CHART_TYPES)
def test_every_chart_type_is_documented(kind: str) -> None:
    assert re.search(rf"^\| `{kind}`\s*\|", QUERIES_README, re.M), f"chart type {kind}"


def test_every_file_the_readme_names_exists() -> None:
    """A command in the README that names a script or image the repository lost (the
    concurrent-sessions benchmark once vanished in a merge while its line stayed) is a
    command a new user runs and sees fail."""
    named = set(
        re.findall(r"\b((?:benchmarks|docs|queries|tests)/[\w./-]+\.(?:py|sql|md|png))", README)
    )
    assert named, "the README names no repository file: the pattern is wrong"
    missing = sorted(p for p in named if not (ROOT / p).is_file())
    assert not missing, f"README names files that do not exist: {missing}"
