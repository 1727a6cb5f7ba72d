"""Settings: documented, validated, read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kg.settings import Settings, settings_reference

REPO = Path(__file__).resolve().parents[2]


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_configuration_doc_is_in_sync() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == settings_reference(), (
        "docs/configuration.md is stale: run `python -m kg.settings > docs/configuration.md`")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WIJKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WIJKEN_SPARQL_TIMEOUT", "2.5")
    s = Settings()
    assert s.data_dir == tmp_path
    assert s.sparql_timeout == 2.5


@pytest.mark.parametrize(("name", "value"), [
    ("base_iri", "not an iri"), ("base_iri", "https://example.org/no-slash"),
    ("threads", 0), ("sparql_timeout", -1), ("port", 70000),
])
def test_invalid_values_are_refused(name: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Settings(**{name: value})
