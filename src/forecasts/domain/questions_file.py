"""Reading questions.yaml with errors that name the file and line."""

from __future__ import annotations

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


def load_questions_file(path: str | Path) -> list[QuestionSpec]:
    """Parse and validate a questions file. Raises QuestionsFileError naming file and line."""
    import yaml
    from pydantic import ValidationError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionsFileError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise QuestionsFileError(f"{path}: cannot read: {e}") from None

    try:
        loader = _loader()
        root = yaml.compose(text, Loader=loader)
        data = yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f":{mark.line + 1}" if mark else ""
        problem = e.problem or e.context or "invalid YAML"
        raise QuestionsFileError(f"{path}{at}: invalid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise QuestionsFileError(f"{path}: invalid YAML: {e}") from None
    except (ValueError, TypeError) as e:  # e.g. an explicit !!timestamp that is no date
        raise QuestionsFileError(f"{path}: invalid YAML: {e}") from None

    if not isinstance(data, dict) or "questions" not in data:
        raise QuestionsFileError(f"{path}:1: expected a mapping with a 'questions' list")
    items = data.get("questions")
    if not isinstance(items, list):
        raise QuestionsFileError(f"{path}:1: 'questions' must be a list")

    # Line numbers of each question item and of each key inside it.
    item_lines: list[int] = []
    key_lines: list[dict[str, int]] = []
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if k.value == "questions" and isinstance(v, yaml.SequenceNode):
                for item in v.value:
                    item_lines.append(item.start_mark.line + 1)
                    keys = {}
                    if isinstance(item, yaml.MappingNode):
                        keys = {kk.value: kk.start_mark.line + 1 for kk, _ in item.value}
                    key_lines.append(keys)

    extra = sorted(set(data) - {"questions", "version"})
    if extra:
        raise QuestionsFileError(
            f"{path}:1: unknown top-level key {extra[0]!r}; expected 'questions'"
        )
    if data.get("version", 1) != 1:
        raise QuestionsFileError(
            f"{path}:1: unsupported version {data.get('version')!r}; expected 1"
        )

    specs: list[QuestionSpec] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        line = item_lines[i] if i < len(item_lines) else 1
        label = f"question #{i + 1}"
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            label = f"question {item['id']!r}"
        if not isinstance(item, dict):
            raise QuestionsFileError(f"{path}:{line}: {label}: expected a mapping")
        try:
            spec = QuestionSpec.model_validate(item)
        except ValidationError as e:
            field = error_field(e)
            if field is not None and i < len(key_lines):
                line = key_lines[i].get(field, line)
            raise QuestionsFileError(f"{path}:{line}: {label}: {error_line(e)}") from None
        if spec.id in seen:
            raise QuestionsFileError(
                f"{path}:{line}: duplicate question id {spec.id!r} (first at line {seen[spec.id]})"
            )
        seen[spec.id] = line
        specs.append(spec)
    return specs
