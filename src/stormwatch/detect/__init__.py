"""Detection: rules as data (YAML), compiled once to SQL (DuckDB, Spark), run over ``events``.

Public surface::

    rules = load_rules()                                   # built-in + extra rule files
    alerts = run_detection(con, rules, DetectionSettings(), since=..., until=...)
    alerts = detect_alerts(backend, rules, settings)        # any QueryBackend (e.g. Spark)
    compile_rule(rule).sql("spark")                        # the same rule for another engine
"""

from stormwatch.detect.compiler import ALERT_COLUMNS, COMPILERS, CompiledRule, compile_rule
from stormwatch.detect.engine import (
    Alert,
    DetectionError,
    DetectionSettings,
    DuckDBBackend,
    QueryBackend,
    detect_alerts,
    run_detection,
    store_alerts,
)
from stormwatch.detect.loader import RuleLoadError, load_rules, parse_rule_file
from stormwatch.detect.lookups import (
    Allowlist,
    Canary,
    add_canary,
    canary_credential_id,
    ensure_lookup_tables,
    list_canaries,
    load_allowlist,
    load_ip_list,
    remove_canary,
)
from stormwatch.detect.portable import CompileError
from stormwatch.detect.rule import ENTITY_COLUMNS, SEVERITIES, DetectionRule, RuleIssue, Severity

__all__ = [
    "ALERT_COLUMNS",
    "COMPILERS",
    "ENTITY_COLUMNS",
    "SEVERITIES",
    "Alert",
    "Allowlist",
    "Canary",
    "CompileError",
    "CompiledRule",
    "DetectionError",
    "DetectionRule",
    "DetectionSettings",
    "DuckDBBackend",
    "QueryBackend",
    "RuleIssue",
    "RuleLoadError",
    "Severity",
    "add_canary",
    "canary_credential_id",
    "compile_rule",
    "detect_alerts",
    "ensure_lookup_tables",
    "list_canaries",
    "load_allowlist",
    "load_ip_list",
    "load_rules",
    "parse_rule_file",
    "remove_canary",
    "run_detection",
    "store_alerts",
]
