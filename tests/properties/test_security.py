"""Security basics that hold for the whole code base.

SQL only through parameters: a value formatted into SQL (f-string, `%`, `+`, `.format`) fails this
test, wherever the string goes afterwards. What may be formatted in is what PostgreSQL cannot take
as a parameter, an identifier: a name right after SELECT / FROM / JOIN / INTO / UPDATE / TABLE (a
column list, a table), a quoted name in CREATE/DROP DATABASE|SCHEMA; and constants anywhere.

(The approval rules inside the workflow's update validator are tested in test_commands.py, the
worker's log in tests/chaos/test_logs_masked.py.)
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {
    ".venv",
    ".git",
    "build",
    "dist",
    "__pycache__",
    ".hypothesis",
    ".data",
    ".pytest_cache",
    "node_modules",
}

SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+[\w.\"]+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|DROP|ALTER)\s+(?:TABLE|DATABASE|SCHEMA|INDEX|ROLE|VIEW|FUNCTION|TRIGGER)\b|\bTRUNCATE\b"
    r"|\bCOPY\s+\w+|\bGRANT\s+\w+|\bSET\s+search_path\b|\bLOCK\s+TABLE\b|\bpg_advisory",
)
IDENTIFIER_DDL = re.compile(r"\b(?:CREATE|DROP)\s+(?:DATABASE|SCHEMA|ROLE)\b")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    how: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: SQL built with {self.how}: {self.text[:100]!r}"


def _constant_like(node: ast.expr) -> bool:
    """A literal, or a name spelled as a constant (UPPER_CASE, maybe _PRIVATE): not a value."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id.lstrip("_").isupper()
    if isinstance(node, ast.Attribute):
        return node.attr.lstrip("_").isupper()
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
        return all(_constant_like(arg) for arg in node.args)  # ", ".join(COLUMNS)
    return False


def _literal_text(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            _literal_text(part) if not isinstance(part, ast.FormattedValue) else "{}" for part in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_text(node.left) + "{}" + _literal_text(node.right)
    return ""


# Text right before a formatted piece that puts it where an identifier goes, not a value.
IDENTIFIER_POSITION = re.compile(
    r"(?:\b(?:SELECT|FROM|JOIN|INTO|UPDATE|TABLE|INDEX|VIEW|ON)\s+(?:DISTINCT\s+)?(?:\w+\.)?|\bboss\.)$"
)


def _identifier_position(parts: list[ast.expr], index: int) -> bool:
    before = parts[index - 1] if index > 0 else None
    if not (isinstance(before, ast.Constant) and IDENTIFIER_POSITION.search(str(before.value))):
        return False
    part = parts[index]
    return isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name | ast.Attribute)


def _quoted_identifier(parts: list[ast.expr], index: int) -> bool:
    before = parts[index - 1] if index > 0 else None
    after = parts[index + 1] if index + 1 < len(parts) else None
    return (
        isinstance(before, ast.Constant)
        and str(before.value).endswith('"')
        and isinstance(after, ast.Constant)
        and str(after.value).startswith('"')
    )


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _operands(node.left) + _operands(node.right)
    return [node]


def find_sql_formatting(source: str, path: str = "<source>") -> list[Finding]:
    """Every place in `source` where SQL is built by formatting a non-constant value into it."""
    findings: list[Finding] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            text = _literal_text(node)
            if not SQL.search(text):
                continue
            for index, part in enumerate(node.values):
                if not isinstance(part, ast.FormattedValue) or _constant_like(part.value):
                    continue
                if IDENTIFIER_DDL.search(text) and _quoted_identifier(node.values, index):
                    continue
                if _identifier_position(node.values, index):
                    continue
                findings.append(Finding(path, node.lineno, "an f-string", text))
                break
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            text = _literal_text(node.left)
            if SQL.search(text) and not _constant_like(node.right):
                findings.append(Finding(path, node.lineno, "%-formatting", text))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            operands = _operands(node)
            text = "{}".join(_literal_text(operand) for operand in operands)
            if SQL.search(text) and not all(
                _constant_like(o) or isinstance(o, ast.JoinedStr) for o in operands
            ):
                findings.append(Finding(path, node.lineno, "+ concatenation", text))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and SQL.search(_literal_text(node.func.value))
            and not all(_constant_like(arg) for arg in [*node.args, *(k.value for k in node.keywords)])
        ):
            findings.append(Finding(path, node.lineno, ".format()", _literal_text(node.func.value)))
    return findings


def project_files() -> list[Path]:
    return sorted(
        path
        for path in PROJECT_ROOT.rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(PROJECT_ROOT).parts)
    )


def test_the_project_builds_no_sql_from_values() -> None:
    files = project_files()
    assert len(files) > 50, "the scan found too few files to mean anything"
    findings = [
        finding
        for path in files
        for finding in find_sql_formatting(
            path.read_text(encoding="utf-8"), str(path.relative_to(PROJECT_ROOT))
        )
    ]
    assert not findings, "SQL must take values as $n parameters:\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize(
    "source",
    [
        "conn.fetch(f\"SELECT * FROM boss.customers WHERE msisdn = '{msisdn}'\")",
        'sql = f"DELETE FROM complaint_events WHERE complaint_id = {case.complaint_id}"',
        "conn.execute(\"UPDATE boss.customers SET status = '%s'\" % status)",
        'conn.execute("INSERT INTO notes (text) VALUES (\'" + text + "\')")',
        'conn.execute("SELECT id FROM t WHERE a = {}".format(value))',
        "conn.execute(f\"SELECT * FROM boss.{table} WHERE msisdn = '{msisdn}'\")",  # the value, not the table
        'conn.execute(f"SELECT * FROM boss.customers LIMIT {limit}")',
        'conn.execute(f"SELECT * FROM t WHERE a IN ({ids})")',
        'conn.execute(f"SELECT x FROM t WHERE {clause}")',
        "conn.execute(f'DROP TABLE \"{name}\"')",  # quoted, but not a database or schema
    ],
)
def test_the_scan_catches_values_formatted_into_sql(source: str) -> None:
    assert find_sql_formatting(source), source


@pytest.mark.parametrize(
    "source",
    [
        'conn.fetch("SELECT * FROM boss.customers WHERE msisdn = $1", msisdn)',
        'conn.fetch(f"SELECT {_CALL_COLUMNS} FROM boss.call_records WHERE msisdn = $1", msisdn)',
        "conn.execute(f'CREATE DATABASE \"{name}\"')",
        'conn.execute(f"SELECT {columns} FROM temporal_run_archive WHERE complaint_id = $1", cid)',
        'conn.fetch(f"SELECT * FROM boss.{table} WHERE idempotency_key LIKE $1", key)',
        'print(f"select the {n} cases from the list")',  # prose, not SQL
        'conn.execute("SELECT 1 FROM t " + "WHERE a = $1", a)',
    ],
)
def test_the_scan_lets_parameters_and_constants_through(source: str) -> None:
    assert not find_sql_formatting(source), source
