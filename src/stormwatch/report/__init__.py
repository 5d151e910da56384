"""Report writers for scan findings: text, JSON, SARIF and CSV, all redacted by default.

Pick a writer by name from ``WRITERS`` (or ``writer_for``) and call
``writer.write(result, rules, out)``; the caller owns the stream and prints nothing else.
"""

from stormwatch.report.registry import WRITERS, writer_for
from stormwatch.report.writer import FindingWriter, WriterFactory, WriterOptions

__all__ = ["WRITERS", "FindingWriter", "WriterFactory", "WriterOptions", "writer_for"]
