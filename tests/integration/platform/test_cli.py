"""The operator's commands: staff add, tenants import."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fuquan.platform.cli.main import cli


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"FUQUAN_DATABASE_URL": database_url, "FUQUAN_DATA_DIR": str(tmp_path)}


def test_staff_add_reads_the_password_from_stdin(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["staff", "add", "xh_clerk", "--tenant", "64", "--unit", "640202100", "--role", "window_clerk",
            "--password-stdin"]  # fmt: skip
    added = runner.invoke(cli, args, input="a-good-long-password\n", env=_env(database_url, tmp_path))
    assert added.exit_code == 0, added.output
    again = runner.invoke(cli, args, input="a-good-long-password\n", env=_env(database_url, tmp_path))
    assert again.exit_code == 2 and "已被使用" in again.output
    king = ["staff", "add", "king", "--tenant", "64", "--unit", "64", "--role", "king", "--password-stdin"]
    bad_role = runner.invoke(cli, king, input="x" * 12 + "\n", env=_env(database_url, tmp_path))
    assert bad_role.exit_code == 2 and "未知岗位" in bad_role.output
    short = runner.invoke(cli, [*args[:2], "other", *args[3:]], input="short\n", env=_env(database_url, tmp_path))
    assert short.exit_code == 2 and "密码至少" in short.output


def test_tenants_import_loads_a_province(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["tenants", "import", "--province", "63"], env=_env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    assert "青海" in result.output and "4,716" in result.output  # villages/communities of Qinghai, 2022
    missing = runner.invoke(cli, ["tenants", "import", "--province", "99"], env=_env(database_url, tmp_path))
    assert missing.exit_code == 2 and "99" in missing.output
