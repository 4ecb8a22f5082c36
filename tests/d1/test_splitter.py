"""wrangler's SQL splitting and trimming, as pure functions."""

from __future__ import annotations

import pytest

from portflare.bindings.d1.splitter import (
    SEVERAL_TRANSACTIONS,
    SqlFileError,
    analyze,
    file_statements,
    is_blank,
    split_statements,
)


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT 1", ["SELECT 1"]),
    ("SELECT 1;", ["SELECT 1"]),
    ("SELECT 1; SELECT 2;\n", ["SELECT 1", "SELECT 2"]),
    ("SELECT 'a;b'; SELECT \"c;d\"", ["SELECT 'a;b'", 'SELECT "c;d"']),
    ("SELECT 'it''s;'; SELECT 2", ["SELECT 'it''s;'", "SELECT 2"]),
    ("SELECT `a;` FROM [b;c]; SELECT 2", ["SELECT `a;` FROM [b;c]", "SELECT 2"]),
    ("SELECT 1 -- a; comment\n; SELECT 2", ["SELECT 1 -- a; comment", "SELECT 2"]),
    ("SELECT 1 /* a; b */; SELECT 2", ["SELECT 1 /* a; b */", "SELECT 2"]),
    ("SELECT $$a;b$$; SELECT $tag$c;d$tag$", ["SELECT $$a;b$$", "SELECT $tag$c;d$tag$"]),
    (";;  ;", []),
    ("CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (1); UPDATE c SET x = 1; END; SELECT 1",
     ["CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (1); UPDATE c SET x = 1; END", "SELECT 1"]),
    ("create trigger t after insert on a begin\n  select case when 1 then 2 end;\n  delete from b;\nend;\nSELECT 1",
     ["create trigger t after insert on a begin\n  select case when 1 then 2 end;\n  delete from b;\nend",
      "SELECT 1"]),
    ("SELECT CASE x WHEN 1 THEN 'a;' END FROM t; SELECT 2", ["SELECT CASE x WHEN 1 THEN 'a;' END FROM t",
                                                              "SELECT 2"]),
])
def test_split_statements(sql: str, expected: list[str]) -> None:
    assert split_statements(sql) == expected


def test_sqlite_dump_transaction_is_trimmed() -> None:
    dump = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a);\nINSERT INTO t VALUES(1);\nCOMMIT;\n"
    assert file_statements(dump) == ["PRAGMA foreign_keys=OFF", "CREATE TABLE t(a)", "INSERT INTO t VALUES(1)"]


def test_several_transactions_are_refused() -> None:
    with pytest.raises(SqlFileError) as info:
        file_statements("BEGIN TRANSACTION;\nSELECT 1;\nCOMMIT;\nBEGIN TRANSACTION;\nSELECT 2;\nCOMMIT;")
    assert str(info.value) == SEVERAL_TRANSACTIONS


def test_is_blank() -> None:
    assert is_blank("  -- x\n /* y */ ")
    assert not is_blank("-- x\nSELECT 1")


def test_analyze_parameters_and_names() -> None:
    (info,) = analyze("SELECT ?, ?5, ? FROM t WHERE a = '?'")
    assert info.parameters == 6 and info.first_word == "SELECT" and info.parameter_error is None
    assert analyze("SELECT :a, @b, :a, $c")[0].parameters == 3  # a name keeps its first index
    assert analyze("SELECT ?2, :a")[0].parameters == 3
    assert analyze("SELECT ?100")[0].parameter_error is None
    assert analyze("SELECT 'é', ?101")[0].parameter_error == ("variable number must be between ?1 and ?100", 13)
    assert analyze("SELECT " + ", ".join(["?"] * 101))[0].parameter_error == ("too many SQL variables", 307)
    assert analyze("SELECT 1 FROM _cf_KV")[0].reserved_name
    assert analyze('SELECT 1 FROM "_CF_x"')[0].reserved_name
    assert not analyze("SELECT '_cf_'")[0].reserved_name
    assert [i.first_word for i in analyze("-- c\nbegin; SELECT 1; -- trailing")] == ["BEGIN", "SELECT"]
