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
    weak = runner.invoke(cli, [*args[:2], "other", *args[3:]], input="1234567890\n", env=_env(database_url, tmp_path))
    assert weak.exit_code == 2 and "太容易被猜到" in weak.output


def test_tenants_import_loads_a_province(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["tenants", "import", "--province", "63"], env=_env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    assert "青海" in result.output and "4,716" in result.output  # villages/communities of Qinghai, 2022
    missing = runner.invoke(cli, ["tenants", "import", "--province", "99"], env=_env(database_url, tmp_path))
    assert missing.exit_code == 2 and "99" in missing.output


def test_help_says_what_is_required_and_what_may_be_chosen() -> None:
    runner = CliRunner()
    calendar_set = runner.invoke(cli, ["calendar", "set", "--help"])
    assert calendar_set.exit_code == 0 and "[OPTIONS] DAY" in calendar_set.output, calendar_set.output
    staff_add = runner.invoke(cli, ["staff", "add", "--help"], terminal_width=200)
    assert "window_clerk" in staff_add.output and "grid_specialist" in staff_add.output, staff_add.output
    for line in staff_add.output.splitlines():
        assert not ("--password-stdin" in line and "required" in line), line
    partners_set = runner.invoke(cli, ["partners", "set", "--help"], terminal_width=200)
    for line in partners_set.output.splitlines():
        assert not ("--secret-stdin" in line and "required" in line), line


def test_staff_add_without_the_flag_asks_for_the_password_twice(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["staff", "add", "xh_asked", "--tenant", "64", "--unit", "640202100", "--role", "window_clerk"]
    added = runner.invoke(cli, args, input="a-good-long-password\na-good-long-password\n",
                          env=_env(database_url, tmp_path))  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "已添加 xh_asked" in added.output


def test_tables_keep_long_names_whole_when_the_output_is_not_a_terminal() -> None:
    """Piped into a file or a CI log, a table is as wide as its rows: no unit name is cut to "…"."""
    import io

    from rich.table import Table

    from fuquan.platform.core.console import output_console

    out = io.StringIO()
    table = Table()
    for column in ("用户名", "岗位", "单位"):
        table.add_column(column)
    name = "宁夏回族自治区石嘴山市大武口区长胜街道办事处便民服务中心第一网格工作站（640202001001001）"
    table.add_row("jm_grid", "网格专员", name)
    output_console(file=out).print(table)
    assert name in out.getvalue() and "…" not in out.getvalue()
