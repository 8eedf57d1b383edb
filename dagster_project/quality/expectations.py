"""Run a publish model's Great Expectations suite (the GX part of the publish gate).

The suites, the data source and one validation definition per publish model are
committed under ``expectations/`` (a GX 1.x file context, see its README). The
data source's connection string is the config variable
``${DISTROHUB_GX_CONNECTION_STRING}``: :func:`run_suite` supplies it in-process
(the context's runtime environment) from the hub URL it is given, so no secret
is ever written to a file.

Nothing committed is rewritten at run time: the context is only read (suites,
validation definitions, data source); validation results go to the git-ignored
``expectations/uncommitted/validations/``. One context is loaded per process and
hub URL and reused; runs in one process are serialised (GX is not thread-safe).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2] / "expectations"
SUITES_DIR = ROOT / "expectations" / "publish"
CONNECTION_VARIABLE = "DISTROHUB_GX_CONNECTION_STRING"
SUITE_PREFIX = "publish."
SAMPLE_SIZE = 5

log = logging.getLogger(__name__)

_lock = threading.Lock()
_contexts: dict[str, Any] = {}


class SuiteMissingError(LookupError):
    """A publish model has no GX suite."""


@dataclass(frozen=True)
class ExpectationFailure:
    expectation: str  # the GX expectation type, e.g. expect_column_values_to_be_between
    column: str | None  # the column(s) it checks, comma-separated; None for table-level
    unexpected_count: int
    sample: list[Any]  # a few unexpected values (rows for a row query)
    detail: str  # the expectation's description, and what GX observed


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    success: bool
    evaluated: int
    failures: list[ExpectationFailure] = field(default_factory=list)
    markdown: str = ""


def suites() -> list[str]:
    """The publish models that have a suite (``expectations/expectations/publish/<model>.json``)."""
    return sorted(path.stem for path in SUITES_DIR.glob("*.json"))


def suite_path(model: str) -> Path:
    return SUITES_DIR / f"{model}.json"


def sqlalchemy_url(database_url: str) -> str:
    """The hub URL (``postgresql://`` or ``+psycopg``) for SQLAlchemy on psycopg 3."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _context(database_url: str) -> Any:
    """The file context for one hub URL, loaded once per process (caller holds ``_lock``)."""
    context = _contexts.get(database_url)
    if context is None:
        import great_expectations as gx

        context = gx.get_context(
            mode="file",
            context_root_dir=str(ROOT),
            runtime_environment={CONNECTION_VARIABLE: sqlalchemy_url(database_url)},
        )
        _contexts[database_url] = context
    return context


def run_suite(database_url: str, model: str) -> SuiteResult:
    """Validate ``publish.<model>`` (the whole table) against its suite ``publish.<model>``."""
    name = SUITE_PREFIX + model
    if not suite_path(model).exists():
        raise SuiteMissingError(
            f"no Great Expectations suite for publish model {model!r}: add "
            f"{suite_path(model).relative_to(ROOT.parent)} (suite {name!r}) and its validation "
            f"definition (see expectations/README.md; scripts/build_gx_suites.py writes both)"
        )
    with _lock:
        context = _context(database_url)
        validation = context.validation_definitions.get(name)
        result = validation.run(
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_SIZE}
        )
    return _summarise(name, result)


def _columns(config: Any) -> str | None:
    kwargs = config.kwargs
    if kwargs.get("column"):
        return kwargs["column"]
    if kwargs.get("column_list"):
        return ", ".join(kwargs["column_list"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    columns = (config.meta or {}).get("columns")
    return ", ".join(columns) if columns else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _outcome(config: Any, result: dict) -> tuple[int, list[Any], str]:
    """(unexpected count, sample, observation) from one expectation's result."""
    if config.type == "unexpected_rows_expectation":
        rows = (result.get("details") or {}).get("unexpected_rows") or []
        count = int(result.get("observed_value") or 0)
        return count, _jsonable(list(rows)[:SAMPLE_SIZE]), f"{count} unexpected row(s)"
    if "unexpected_count" in result:
        count = int(result.get("unexpected_count") or 0)
        sample = result.get("partial_unexpected_list") or result.get("unexpected_list") or []
        percent = result.get("unexpected_percent")
        observed = f"{count} unexpected of {result.get('element_count', '?')} rows"
        if percent is not None:
            observed += f" ({percent:.2f}%)"
        return count, _jsonable(list(sample)[:SAMPLE_SIZE]), observed
    observed = result.get("observed_value")
    return 0, [], f"observed {observed!r}" if observed is not None else ""


def _error(info: Any) -> str | None:
    """The exception message of a result, if GX raised (flat or keyed by metric)."""
    if not info:
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            return str(entry.get("exception_message") or "exception").splitlines()[0]
    return None


def _summarise(name: str, result: Any) -> SuiteResult:
    failures: list[ExpectationFailure] = []
    rows: list[tuple[str, str, str, int, list[Any], str]] = []
    for item in result.results:
        config = item.expectation_config
        payload = dict(item.result or {})
        error = _error(item.exception_info)
        if error:
            count, sample, observed = 0, [], f"error: {error}"
        else:
            count, sample, observed = _outcome(config, payload)
        column = _columns(config)
        detail = "; ".join(part for part in (config.description or "", observed) if part)
        rows.append(
            (config.type, column or "", "pass" if item.success else "FAIL", count, sample, detail)
        )
        if not item.success:
            failures.append(
                ExpectationFailure(
                    expectation=config.type,
                    column=column,
                    unexpected_count=count,
                    sample=sample,
                    detail=detail,
                )
            )
    success = bool(result.success)
    return SuiteResult(
        suite=name,
        success=success,
        evaluated=len(result.results),
        failures=failures,
        markdown=_markdown(name, success, rows),
    )


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _markdown(name: str, success: bool, rows: list[tuple]) -> str:
    failed = sum(1 for row in rows if row[2] == "FAIL")
    head = (
        f"**{name}**: {'passed' if success else 'FAILED'}: "
        f"{len(rows) - failed} of {len(rows)} expectations passed"
    )
    lines = [
        head,
        "",
        "| result | expectation | column | unexpected | sample | detail |",
        "|---|---|---|---:|---|---|",
    ]
    # failures first, so the UI shows them without scrolling
    for expectation, column, outcome, count, sample, detail in sorted(
        rows, key=lambda row: row[2] != "FAIL"
    ):
        shown = ", ".join(_cell(_jsonable(v)) for v in sample)
        cells = [outcome, f"`{expectation}`", _cell(column), str(count), shown, _cell(detail)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
