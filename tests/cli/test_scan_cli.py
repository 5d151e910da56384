"""`stormwatch scan` end to end through the Typer app."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from stormwatch.cli.app import app

runner = CliRunner()


def _scan(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", "--quiet", *args], input=stdin)
    return result.exit_code, result.stdout


def test_clean_tree_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print('hello')\n")
    code, _ = _scan(str(tmp_path), "-f", "json")
    assert code == 0


def test_findings_exit_one_and_json_is_redacted(tmp_path: Path, make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(f'\n\nclient = OpenAI(api_key="{key}")\n')
    code, out = _scan(str(tmp_path), "-f", "json")
    assert code == 1
    assert key not in out
    (finding,) = json.loads(out)["findings"]
    assert finding["file"] == "src/app.py"
    assert (finding["line"], finding["column"]) == (3, 26)
    assert finding["secret_sha256"] == hashlib.sha256(key.encode()).hexdigest()
    assert finding["rule_id"] == "openai-project-key"


def test_show_secrets_reveals(tmp_path: Path, make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    (tmp_path / "a.env").write_text(f"OPENAI_API_KEY={key}\n")
    _, out = _scan(str(tmp_path), "-f", "json", "--show-secrets")
    assert key in out


def test_stdin(make_key) -> None:  # type: ignore[no-untyped-def]
    code, out = _scan("-", "-f", "json", stdin=f"KEY={make_key()}\n")
    assert code == 1
    assert json.loads(out)["findings"][0]["file"] == "<stdin>"


def test_archives_are_opened(tmp_path: Path, make_key) -> None:  # type: ignore[no-untyped-def]
    keys = [make_key() for _ in range(3)]
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conf/settings.py", f"KEY = '{keys[0]}'\n")
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w") as tar:
        body = f"KEY={keys[1]}\n".encode()
        info = tarfile.TarInfo("app/.env")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    (tmp_path / "image.tar.gz").write_bytes(gzip.compress(inner.getvalue()))
    (tmp_path / "notes.txt.gz").write_bytes(gzip.compress(f"k: {keys[2]}\n".encode()))
    _, out = _scan(str(tmp_path), "-f", "json")
    files = sorted(f["file"] for f in json.loads(out)["findings"])
    assert files == ["bundle.zip!conf/settings.py", "image.tar!app/.env", "notes.txt"]


def test_zip_bomb_and_corrupt_archive_are_reported_not_fatal(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.txt", b"0" * (20 << 20))
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + b"garbage" * 100)
    code, out = _scan(str(tmp_path), "-f", "json")
    assert code == 0
    reasons = {n["reason"] for n in json.loads(out)["notices"]}
    assert {"archive-bomb", "corrupt-archive"} <= reasons


def test_bad_input_is_counted(tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02" * 1000)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 ol\xe9\n".encode("latin-1"))
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    code, out = _scan(str(tmp_path), "-f", "json")
    assert code == 0
    skipped = json.loads(out)["stats"]["skipped"]
    assert skipped == {"binary": 1, "broken-symlink": 1}


def test_a_missing_path_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    """A typo in CI must not pass as a clean scan."""
    result = runner.invoke(app, ["scan", "--quiet", str(tmp_path), str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.output and "Traceback" not in result.output


def test_baseline_round_trip_survives_moved_lines(tmp_path: Path, make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    target = tmp_path / "app.py"
    target.write_text(f"KEY = '{key}'\n")
    baseline = tmp_path.parent / f"{tmp_path.name}-baseline.json"
    code, _ = _scan(str(tmp_path), "--baseline-out", str(baseline), "-f", "json")
    assert code == 1
    stored = baseline.read_text()
    assert key not in stored
    assert '"line"' not in stored
    target.write_text(f"# moved down\n\n\nKEY = '{key}'\n")
    code, _ = _scan(str(tmp_path), "--baseline", str(baseline), "-f", "json")
    assert code == 0


def test_config_allowlist_and_custom_rule(tmp_path: Path, make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.py").write_text(f"KEY='{key}'\n")
    (tmp_path / "internal.cfg").write_text(
        "gateway_token = acme_gw_" + "q7Rk2Lm9Xv4Tn8Wb3Yc6" + "\n"
    )
    (tmp_path / "stormwatch.toml").write_text(
        "[allowlist]\npaths = ['^vendor/']\n\n"
        "[[rules]]\nid = 'acme-gateway-token'\ndescription = 'ACME gateway token'\n"
        "access = 'The ACME internal LLM gateway'\n"
        "pattern = '''\\b(acme_gw_[A-Za-z0-9]{20})\\b'''\n"
        "keywords = ['acme_gw_']\n"
    )
    _, out = _scan(str(tmp_path), "-f", "json")
    document = json.loads(out)
    assert [f["rule_id"] for f in document["findings"]] == ["acme-gateway-token"]
    assert document["stats"]["skipped"].get("allowlisted-path") == 1


def test_bad_config_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "stormwatch.toml").write_text("[[rules]]\nid = 'Bad Id'\n")
    result = runner.invoke(app, ["scan", "--quiet", str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_sarif_output_file(tmp_path: Path, make_key) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.py").write_text(f"KEY='{make_key()}'\n")
    report = tmp_path.parent / f"{tmp_path.name}.sarif"
    code, _ = _scan(str(tmp_path), "-f", "sarif", "-o", str(report))
    assert code == 1
    document = json.loads(report.read_text())
    assert document["version"] == "2.1.0"
    assert document["runs"][0]["results"][0]["ruleId"] == "openai-project-key"


def test_engine_re2_matches_default(tmp_path: Path, make_key) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        (tmp_path / f"f{i}.py").write_text(f"x = 1\nKEY='{make_key()}'\n")
    _, default = _scan(str(tmp_path), "-f", "json")
    _, portable = _scan(str(tmp_path), "-f", "json", "--engine", "re2")
    assert json.loads(default)["findings"] == json.loads(portable)["findings"]
