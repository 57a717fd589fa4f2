"""Static checks of the Docker deployment (no Docker engine here): Dockerfile, compose file, docs.

What can be checked without building is checked for real: COPY sources exist and are not ignored,
the entrypoint commands parse with the real CLI, every TRADER_* name is a real setting, and the
HEALTHCHECK command is run against a live health server.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import importlib
import json
import os
import re
import sys
import tomllib
import typing
from pathlib import Path
from types import UnionType

import pytest
import yaml
from pydantic import BaseModel

from trader.adapters.ops.health import HEALTH_PATH, HealthServer, Metrics
from trader.cli import build_parser
from trader.config import OpsConfig, Settings

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
ENV_NAME = re.compile(r"\bTRADER_[A-Z0-9_]+")


def _instructions() -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs with continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def _model_of(annotation: object) -> type[BaseModel] | None:
    candidates = typing.get_args(annotation) if isinstance(annotation, UnionType) else (annotation,)
    for c in candidates:
        if isinstance(c, type) and issubclass(c, BaseModel):
            return c
    return None


def _setting_env_names(model: type[BaseModel] = Settings, prefix: str = "TRADER_") -> set[str]:
    names = set()
    for field_name, info in model.model_fields.items():
        name = prefix + field_name.upper()
        names.add(name)
        nested = _model_of(info.annotation)
        if nested is not None:
            names |= _setting_env_names(nested, name + "__")
    return names


VALID_NAMES = _setting_env_names()


def test_setting_names_are_derived_from_the_settings_model() -> None:
    assert {"TRADER_TELEGRAM__TOKEN", "TRADER_OPS__SECRETS_KEY", "TRADER_DATABASE__URL",
            "TRADER_RISK__TRAILING__DISTANCE"} <= VALID_NAMES
    assert "TRADER_TELEGRAM__TOKENS" not in VALID_NAMES


def test_dockerfile_is_multi_stage_on_slim_python_311() -> None:
    froms = [args for word, args in _instructions() if word == "FROM"]
    assert len(froms) >= 2
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for w, a in _instructions() if w == "ARG" and "=" in a}
    assert args["PYTHON_IMAGE"].startswith("python:3.11-slim")


def test_every_copied_path_exists_and_is_not_docker_ignored() -> None:
    lines = [p.strip() for p in DOCKERIGNORE.read_text().splitlines()]
    ignored = [p for p in lines if p and not p.startswith("#")]
    sources = []
    for word, args in _instructions():
        if word == "COPY" and not args.startswith("--from"):
            parts = args.split()
            sources += [p for p in parts[:-1] if not p.startswith("--")]
    assert {"trader", "handlers", "migrations", "pyproject.toml"} <= set(sources)
    for src in sources:
        assert (ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"
        hits = [pat for pat in ignored if fnmatch.fnmatch(src, pat.lstrip("/")) or src == pat]
        assert not hits, f"{src} is excluded by .dockerignore {hits}"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = {p.strip() for p in DOCKERIGNORE.read_text().splitlines()}
    assert {".env", "*.env", "*.key", "secrets", "data", ".venv", ".git"} <= ignored


def test_runtime_stage_runs_as_non_root_user() -> None:
    users = [args for word, args in _final_stage() if word == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_no_secret_is_baked_into_the_image() -> None:
    for word, args in _instructions():
        if word in {"ENV", "ARG"}:
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split()[0]]
            for name in names:
                assert not re.search(r"TOKEN|SECRET|PASSWORD|API_KEY", name.upper()), f"{word} {name}"


def _exec_form(word: str) -> list[str]:
    values = [args for w, args in _final_stage() if w == word]
    assert values, f"no {word} in the runtime stage"
    parsed: list[str] = json.loads(values[-1])
    return parsed


def test_entrypoint_migrates_then_execs_tradebot() -> None:
    entrypoint, cmd = _exec_form("ENTRYPOINT"), _exec_form("CMD")
    assert entrypoint[:2] == ["/bin/sh", "-c"]
    assert entrypoint[2] == 'tradebot db upgrade && exec tradebot "$@"'
    assert cmd == ["run"]
    assert build_parser().parse_args(["db", "upgrade"]).func is not None


def test_default_command_is_a_registered_tradebot_command() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    if "run" not in commands:
        pytest.skip("`tradebot run` is not registered yet (live-engine area)")
    assert parser.parse_args(_exec_form("CMD")).func is not None


def test_root_entrypoint_module_is_shipped_and_importable() -> None:
    env = " ".join(args for word, args in _final_stage() if word == "ENV")
    workdir = next(args for word, args in _final_stage() if word == "WORKDIR")
    assert f"PYTHONPATH={workdir}" in env  # bot.py lives at the top of the source tree, not in a package
    assert callable(importlib.import_module("bot").build_application)


def test_console_script_points_at_an_importable_main() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, func = scripts["tradebot"].partition(":")
    assert callable(getattr(__import__(module, fromlist=[func]), func))


def test_healthcheck_targets_the_configured_health_path_and_port() -> None:
    checks = [args for word, args in _final_stage() if word == "HEALTHCHECK"]
    assert len(checks) == 1
    code = _healthcheck_command()[2]
    assert f"/{HEALTH_PATH.lstrip('/')}'" in code
    assert f"'TRADER_OPS__HEALTH_PORT', '{OpsConfig().health_port}'" in code
    assert "127.0.0.1" in code and OpsConfig().health_host == "127.0.0.1"


def _healthcheck_command() -> list[str]:
    args = next(a for w, a in _final_stage() if w == "HEALTHCHECK")
    command: list[str] = json.loads(args[args.index("CMD") + 3:].strip())
    assert command[:2] == ["python", "-c"]
    return command


async def test_healthcheck_command_passes_against_a_live_server_and_fails_when_down() -> None:
    server = HealthServer(OpsConfig(health_port=0), Metrics())
    await server.start()
    env = {**os.environ, "TRADER_OPS__HEALTH_PORT": str(server.port)}
    try:
        up, up_err = await _run_healthcheck(env)
    finally:
        await server.stop()
    down, _ = await _run_healthcheck(env)
    assert up == 0, up_err
    assert down != 0


async def _run_healthcheck(env: dict[str, str]) -> tuple[int, bytes]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _healthcheck_command()[2], env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    return int(proc.returncode or 0), err


def _compose() -> dict[str, typing.Any]:
    loaded: dict[str, typing.Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_runs_bot_and_postgres_with_named_volumes_and_restart_policy() -> None:
    compose = _compose()
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    assert bot["restart"] == db["restart"] == "unless-stopped"
    assert bot["env_file"] == "tradebot.env"
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert db["image"].startswith("postgres:")
    named = set(compose["volumes"])
    assert {v.split(":")[0] for v in db["volumes"]} <= named
    assert {v.split(":")[0] for v in bot["volumes"]} <= named
    assert bot["environment"]["TRADER_DATABASE__URL"].startswith("postgresql+asyncpg://")
    assert all(p.startswith("127.0.0.1:") for p in bot["ports"]), "metrics must not face the internet"
    assert bot["environment"]["TRADER_OPS__SECRETS_KEY_FILE"] == "/run/secrets/secrets_key"
    assert "secrets_key" in compose["secrets"]


def test_bot_environment_uses_only_real_settings() -> None:
    env = _compose()["services"]["bot"]["environment"]
    unknown = [name for name in env if name not in VALID_NAMES]
    assert not unknown, f"compose sets variables no setting reads: {unknown}"


@pytest.mark.parametrize("path", [COMPOSE, DOCKERFILE, DEPLOY_DOC], ids=lambda p: p.name)
def test_every_trader_variable_mentioned_is_a_real_setting(path: Path) -> None:
    mentioned = set(ENV_NAME.findall(path.read_text()))
    assert mentioned, f"{path.name} mentions no TRADER_ variable"
    unknown = sorted(mentioned - VALID_NAMES)
    assert not unknown, f"{path.name} mentions unknown settings: {unknown}"
