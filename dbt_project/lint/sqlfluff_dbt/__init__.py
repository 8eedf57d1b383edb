"""What dbt puts in a model's Jinja context, as sqlfluff's jinja templater sees it (``.sqlfluff``
loads this package as its ``library_path``; dbt never reads this folder).

sqlfluff's own dbt stand-ins render ``ref('order')`` as a bare ``order`` (a keyword: the query
no longer parses) and ``var()`` as a placeholder a macro cannot iterate. Here a relation renders
quoted, as dbt renders it, ``var()`` is the value in ``dbt_project.yml``'s vars and
``env_var()`` its default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"
_VARS: dict[str, Any] = yaml.safe_load(_PROJECT.read_text()).get("vars") or {}


def ref(*args: str, **kwargs: Any) -> str:
    return f'"hub"."model"."{args[-1]}"'


def source(source_name: str, table_name: str) -> str:
    return f'"hub"."{source_name}"."{table_name}"'


def var(name: str, default: Any = None) -> Any:
    return _VARS.get(name, default)


def env_var(name: str, default: str = "") -> str:
    """The default: the lint does not depend on the shell it runs in."""
    return default


class _Adapter:
    """``adapter``: a relation has no columns (a model then renders as on its first build)."""

    def get_columns_in_relation(self, relation: Any) -> list[Any]:
        return []


adapter = _Adapter()
