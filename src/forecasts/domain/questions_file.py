"""Reading questions.yaml with errors that name the file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forecasts.domain.schemas import QuestionSpec
from forecasts.errors import QuestionsFileError
from forecasts.validate import error_field, error_line


def _loader() -> Any:
    """A safe YAML loader that leaves dates as text: the schema parses them and reports a
    bad one (``2027-13-01``) with its key and line, where YAML's own timestamp parsing
    would raise a bare ValueError."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


@dataclass(frozen=True)
class ItemLines:
    """Where one question sits in the file: its first line, and the line of each key."""

    start: int = 1
    keys: dict[str, int] = field(default_factory=dict)


def load_questions_file(path: str | Path) -> list[QuestionSpec]:
    """Parse and validate a questions file. Raises QuestionsFileError naming file and line."""
    path = Path(path)
    data, root = _parse_yaml(path, _read_text(path))
    items = _question_items(path, data)
    lines = _item_lines(root)
    specs: list[QuestionSpec] = []
    first_seen: dict[str, int] = {}
    for i, item in enumerate(items):
        where = lines[i] if i < len(lines) else ItemLines()
        spec = _validate_item(path, i, item, where)
        if spec.id in first_seen:
            raise QuestionsFileError(
                f"{path}:{where.start}: duplicate question id {spec.id!r} "
                f"(first at line {first_seen[spec.id]})"
            )
        first_seen[spec.id] = where.start
        specs.append(spec)
    return specs


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionsFileError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise QuestionsFileError(f"{path}: cannot read: {e}") from None


def _parse_yaml(path: Path, text: str) -> tuple[Any, Any]:
    """The data, and the node tree it came from (which knows the line of everything)."""
    import yaml

    try:
        loader = _loader()
        return yaml.load(text, Loader=loader), yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f":{mark.line + 1}" if mark else ""
        problem = e.problem or e.context or "invalid YAML"
        raise QuestionsFileError(f"{path}{at}: invalid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise QuestionsFileError(f"{path}: invalid YAML: {e}") from None
    except (ValueError, TypeError) as e:  # e.g. an explicit !!timestamp that is no date
        raise QuestionsFileError(f"{path}: invalid YAML: {e}") from None


def _question_items(path: Path, data: Any) -> list[Any]:
    """The ``questions`` list, once the top level is known to be what this version reads."""
    if not isinstance(data, dict) or "questions" not in data:
        raise QuestionsFileError(f"{path}:1: expected a mapping with a 'questions' list")
    items = data["questions"]
    if not isinstance(items, list):
        raise QuestionsFileError(f"{path}:1: 'questions' must be a list")
    extra = sorted(set(data) - {"questions", "version"})
    if extra:
        raise QuestionsFileError(
            f"{path}:1: unknown top-level key {extra[0]!r}; expected 'questions'"
        )
    if data.get("version", 1) != 1:
        raise QuestionsFileError(
            f"{path}:1: unsupported version {data.get('version')!r}; expected 1"
        )
    return items


def _item_lines(root: Any) -> list[ItemLines]:
    """The lines of each question item and of each key inside it, in file order."""
    import yaml

    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "questions" and isinstance(value, yaml.SequenceNode):
            return [
                ItemLines(
                    item.start_mark.line + 1,
                    {k.value: k.start_mark.line + 1 for k, _ in item.value}
                    if isinstance(item, yaml.MappingNode)
                    else {},
                )
                for item in value.value
            ]
    return []


def _validate_item(path: Path, index: int, item: Any, where: ItemLines) -> QuestionSpec:
    """One question checked against the schema; an error names the line of the bad key."""
    from pydantic import ValidationError

    label = f"question #{index + 1}"
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        label = f"question {item['id']!r}"
    if not isinstance(item, dict):
        raise QuestionsFileError(f"{path}:{where.start}: {label}: expected a mapping")
    try:
        return QuestionSpec.model_validate(item)
    except ValidationError as e:
        key = error_field(e)
        line = where.keys.get(key, where.start) if key is not None else where.start
        raise QuestionsFileError(f"{path}:{line}: {label}: {error_line(e)}") from None
