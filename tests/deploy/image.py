"""The Dockerfile as parsed by dockerfile-parse: its stages, environment and command."""

import json
from functools import cache
from pathlib import Path

from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@cache
def instructions() -> tuple[dict, ...]:
    parser = DockerfileParser(path=str(DOCKERFILE))
    return tuple(parser.structure)


def stages() -> list[list[dict]]:
    """Instructions grouped by build stage, each stage starting with its FROM."""
    result: list[list[dict]] = []
    for instruction in instructions():
        if instruction["instruction"] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def final_stage() -> list[dict]:
    return stages()[-1]


def final_environment() -> dict[str, str]:
    """ENV of the runtime stage (dockerfile-parse resolves the stage's variables)."""
    parser = DockerfileParser(path=str(DOCKERFILE))
    return dict(parser.envs)


def exec_form(instruction: dict) -> list[str]:
    """The JSON array of an exec-form CMD or ENTRYPOINT; raises if it is shell form."""
    value = json.loads(instruction["value"])
    if not isinstance(value, list) or not all(isinstance(part, str) for part in value):
        raise ValueError(f"{instruction['instruction']} is not in exec form: {instruction['value']}")
    return value


def cmd() -> list[str]:
    commands = [i for i in final_stage() if i["instruction"] == "CMD"]
    assert len(commands) == 1, "the runtime stage needs exactly one CMD"
    return exec_form(commands[0])
