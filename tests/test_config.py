"""Where deskhand keeps what it keeps, when the environment does not say."""

from pathlib import Path

from deskhand.config import Settings


def sandbox_of(database_url: str | None, data_dir: Path) -> str:
    return Settings(data_dir=data_dir, database_url=database_url, sandbox_url=None).sandbox()


def test_a_sqlite_database_keeps_its_sandbox_beside_it(tmp_path: Path) -> None:
    one, two = tmp_path / "one" / "demo.db", tmp_path / "two" / "demo.db"
    assert sandbox_of(f"sqlite:///{one}", tmp_path) == f"sqlite:///{one.parent}/demo.sandbox.db"
    # Two databases in one data folder never share a simulated client.
    assert sandbox_of(f"sqlite:///{two}", tmp_path) != sandbox_of(f"sqlite:///{one}", tmp_path)
    assert sandbox_of("sqlite+pysqlite:///relative/x.db?mode=ro", tmp_path) == (
        "sqlite:///relative/x.sandbox.db"
    )


def test_a_database_named_deskhand_db_keeps_sandbox_db_beside_it_as_the_default_does(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "clients" / "deskhand.db"
    assert sandbox_of(f"sqlite:///{elsewhere}", tmp_path) == (
        f"sqlite:///{elsewhere.parent / 'sandbox.db'}"
    )


def test_the_default_a_server_and_an_in_memory_database_keep_it_in_the_data_folder(
    tmp_path: Path,
) -> None:
    in_data_dir = f"sqlite:///{tmp_path / 'sandbox.db'}"
    assert (
        Settings(data_dir=tmp_path, database_url=None).database()
        == f"sqlite:///{tmp_path / 'deskhand.db'}"
    )
    assert sandbox_of(None, tmp_path) == in_data_dir  # beside the default deskhand.db
    assert sandbox_of("postgresql://deskhand@localhost/deskhand", tmp_path) == in_data_dir
    assert sandbox_of("sqlite://", tmp_path) == in_data_dir
    assert sandbox_of("sqlite:///:memory:", tmp_path) == in_data_dir


def test_a_sandbox_url_given_is_used_as_given(tmp_path: Path) -> None:
    given = Settings(
        data_dir=tmp_path, database_url="sqlite:////x/demo.db", sandbox_url="sqlite:////y/s.db"
    )
    assert given.sandbox() == "sqlite:////y/s.db"
