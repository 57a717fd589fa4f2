"""The image installs pinned versions (constraints.txt, refreshed by `make constraints`), as do the
Makefile and CI; compose's healthcheck follows readiness (/ready), the image's own stays on /health."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from trader.adapters.ops.health import READY_PATH, READY_REUSE_SECONDS, HealthServer, Metrics
from trader.config import OpsConfig

ROOT = Path(__file__).resolve().parents[3]
CONSTRAINTS = ROOT / "constraints.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)$")


def pins() -> dict[str, Version]:
    found: dict[str, Version] = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        assert match, f"constraints.txt: {line!r} is not name==version"
        found[canonicalize_name(match.group(1))] = Version(match.group(2))
    return found


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *(d for extra in project["optional-dependencies"].values()
                                            for d in extra)]
    pinned = pins()
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in constraints.txt: run `make constraints`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]} outside {requirement.specifier}: make constraints")


def test_dockerfile_makefile_install_with_the_constraints() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^COPY [^\n]*\bconstraints\.txt\b", dockerfile, re.M)
    installs = re.findall(r"pip install (?!--no-deps)[^\n&]*", dockerfile)
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints.txt -e '.[dev,bench]'" in makefile and "\nconstraints:" in makefile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "constraints.txt" not in ignored and "*.txt" not in ignored


async def test_compose_healthcheck_follows_readiness() -> None:
    bot = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["bot"]
    command = bot["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python", "-c"] and f"{READY_PATH}'" in command[3]
    ready = True

    async def engine() -> bool:
        return ready

    server = HealthServer(OpsConfig(health_port=0), Metrics())
    server.add_check("engine", engine)
    await server.start()
    env = {**os.environ, "TRADER_OPS__HEALTH_PORT": str(server.port)}
    try:
        up = await _run(command[3], env)
        ready = False
        await asyncio.sleep(READY_REUSE_SECONDS + 0.1)  # /ready reuses an answer this long
        not_ready = await _run(command[3], env)
    finally:
        await server.stop()
    assert up == 0
    assert not_ready != 0


async def _run(code: str, env: dict[str, str]) -> int:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, env=env,
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    return await asyncio.wait_for(proc.wait(), timeout=30)
