from __future__ import annotations

import logging
from pathlib import Path

import pytest

from portflare.config import Assets, find_config_file, load_config, read_dotenv, state_dir, var_value
from portflare.errors import ConfigError

TOML = """
name = "quiz"
main = "src/entry.py"
compatibility_date = "2025-11-02"
compatibility_flags = ["python_workers"]

[vars]
API_HOST = "example.com"
FEATURES = { beta = true, max = 3 }

[[kv_namespaces]]
binding = "CACHE"
id = "abc123"

[[d1_databases]]
binding = "DB"
database_name = "quiz-db"
database_id = "0000-1111"
migrations_dir = "db/migrations"

[[r2_buckets]]
binding = "MEDIA"
bucket_name = "quiz-media"

[[queues.producers]]
binding = "EVENTS"
queue = "quiz-events"

[[queues.consumers]]
queue = "quiz-events"
max_batch_size = 50
dead_letter_queue = "quiz-dlq"

[triggers]
crons = ["0 0 * * *", "*/5 * * * *"]

[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Room"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Room"]

[[services]]
binding = "AUTH"
service = "auth-worker"
entrypoint = "Verifier"

[assets]
directory = "./public"
binding = "ASSETS"
run_worker_first = ["/api/*", "!/api/docs/*"]
not_found_handling = "single-page-application"

[[hyperdrive]]
binding = "HYPERDRIVE"
id = "hd"

[env.staging]
main = "src/staging.py"
vars = { API_HOST = "staging.example.com" }
kv_namespaces = [{ binding = "CACHE", id = "staging-cache" }]
"""

JSONC = """
// wrangler.jsonc with comments and trailing commas
{
  "name": "hello",
  "main": "src/entry.py",
  /* block comment */
  "compatibility_flags": ["python_workers",],
  "kv_namespaces": [{ "binding": "KV", "id": "k1", },],
  "vars": { "GREETING": "hi", },
}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_toml_reads_every_section(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.toml", TOML)
    config = load_config(tmp_path, environ={})
    assert config.name == "quiz"
    assert config.main == (tmp_path / "src/entry.py").resolve()
    assert config.compatibility_flags == ("python_workers",)
    assert config.vars["API_HOST"] == "example.com"
    assert config.kv_namespaces[0].binding == "CACHE" and config.kv_namespaces[0].id == "abc123"
    db = config.d1_databases[0]
    assert (db.binding, db.database_name, db.migrations_dir, db.migrations_table) == (
        "DB", "quiz-db", "db/migrations", "d1_migrations")
    assert config.r2_buckets[0].bucket_name == "quiz-media"
    assert config.queue_producers[0].queue == "quiz-events"
    consumer = config.queue_consumers[0]
    assert (consumer.max_batch_size, consumer.max_retries, consumer.dead_letter_queue) == (50, 3, "quiz-dlq")
    assert config.crons == ("0 0 * * *", "*/5 * * * *")
    assert config.durable_objects[0].class_name == "Room"
    assert config.migrations[0].new_sqlite_classes == ("Room",)
    assert config.services[0].entrypoint == "Verifier"
    assert config.assets == Assets(directory=(tmp_path / "public").resolve(), binding="ASSETS",
                                   run_worker_first=("/api/*", "!/api/docs/*"),
                                   not_found_handling="single-page-application")
    assert config.hyperdrive[0].binding == "HYPERDRIVE"


def test_json_vars_are_parsed_values_with_attribute_access(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.toml", TOML)
    features = var_value(load_config(tmp_path, environ={}).vars["FEATURES"])
    assert features["beta"] is True and features.max == 3


def test_jsonc_comments_and_trailing_commas(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.jsonc", JSONC)
    config = load_config(tmp_path, environ={})
    assert config.name == "hello"
    assert config.kv_namespaces[0].id == "k1"
    assert config.vars == {"GREETING": "hi"}


def test_json_then_jsonc_then_toml_as_in_wrangler(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.toml", TOML)
    assert find_config_file(tmp_path).name == "wrangler.toml"
    write(tmp_path, "wrangler.jsonc", JSONC)
    assert find_config_file(tmp_path).name == "wrangler.jsonc"
    write(tmp_path, "wrangler.json", '{"main": "a.py"}')
    assert find_config_file(tmp_path).name == "wrangler.json"


def test_env_overrides_and_non_inheritable_keys(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "wrangler.toml", TOML)
    with caplog.at_level(logging.WARNING):
        config = load_config(tmp_path, env_name="staging", environ={})
    assert config.name == "quiz-staging"
    assert config.main.name == "staging.py"
    assert config.vars == {"API_HOST": "staging.example.com"}
    assert config.kv_namespaces[0].id == "staging-cache"
    # bindings are not inherited by an environment (wrangler's rule), inheritable keys are
    assert config.d1_databases == () and config.r2_buckets == ()
    assert config.crons == ("0 0 * * *", "*/5 * * * *")
    assert config.compatibility_date == "2025-11-02"
    assert "d1_databases" in caplog.text


def test_unknown_env_is_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "wrangler.toml", TOML)
    with pytest.raises(ConfigError, match=r"wrangler.toml: env.prod: no such environment \(defined: staging\)"):
        load_config(path, env_name="prod", environ={})


def test_unknown_keys_warn_but_do_not_crash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "wrangler.toml", 'main = "a.py"\nfrobnicate = 1\nroutes = []\n')
    with caplog.at_level(logging.WARNING):
        load_config(tmp_path, environ={})
    assert 'wrangler.toml: Unexpected fields found in top-level field: "frobnicate"' in caplog.text
    assert "routes" not in caplog.text  # a wrangler key portflare does not use is not "unknown"


NESTED_TYPOS = """
main = "a.py"
kv_namespaces = [{ binding = "KV", id = "k", preveiw_id = "p" }]
d1_databases = [{ binding = "DB", database_id = "d", migration_dir = "db" }]
r2_buckets = [{ binding = "R2", bucket_name = "b", remote = true }]
migrations = [{ tag = "v1", new_classes = ["A"], renamed = [] }]
services = [{ binding = "S", service = "s" }]

[queues]
weird = 1
producers = [{ binding = "Q", queue = "q", delay = 5 }]
consumers = [{ queue = "q", max_batch_sise = 5, max_retries = 1 }]

[triggers]
crons = []
cron = "* * * * *"

[durable_objects]
bindings = [{ name = "D", class_name = "A", clas = "x" }]

[assets]
directory = "public"
not_found = "404-page"

[env.production]
main = "b.py"
keep_vars = true
kv_namespaces = [{ binding = "KV", id = "k2", ttl = 60 }]
queues = { consumers = [{ queue = "q", batch = 1 }] }
"""


def test_unknown_keys_inside_entries_sections_and_every_env_warn(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "wrangler.toml", NESTED_TYPOS)
    with caplog.at_level(logging.WARNING, logger="portflare.config"):
        config = load_config(tmp_path, environ={})  # no --env: environments are checked all the same
    warnings = {r.getMessage().split(": ", 1)[1] for r in caplog.records}
    assert warnings == {
        'Unexpected fields found in kv_namespaces[0] field: "preveiw_id"',
        'Unexpected fields found in d1_databases[0] field: "migration_dir"',
        'Unexpected fields found in migrations[0] field: "renamed"',
        'Unexpected fields found in queues field: "weird"',
        'Unexpected fields found in queues.producers[0] field: "delay"',
        'Unexpected fields found in queues.consumers[0] field: "max_batch_sise"',
        'Unexpected fields found in triggers field: "cron"',
        'Unexpected fields found in durable_objects.bindings[0] field: "clas"',
        'Unexpected fields found in assets field: "not_found"',
        'Unexpected fields found in env.production field: "keep_vars"',
        'Unexpected fields found in env.production.kv_namespaces[0] field: "ttl"',
        'Unexpected fields found in env.production.queues.consumers[0] field: "batch"',
    }
    assert config.d1_databases[0].migrations_dir == "migrations"  # the typo was not read, the default stands


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\n', r"wrangler.toml: main: is required"),
        ('main = "src/index.js"\n', r"main: 'src/index.js' is not a Python module"),
        ('main = "a.py"\nkv_namespaces = [{ id = "x" }]\n', r"kv_namespaces\[0\].binding: is required"),
        ('main = "a.py"\nd1_databases = [{ binding = 3 }]\n', r"d1_databases\[0\].binding: expected a string, got int"),
        ('main = "a.py"\n[[queues.consumers]]\nqueue = "q"\nmax_retries = -1\n',
         r"queues.consumers\[0\].max_retries: expected an integer from 0 to 100, got -1"),
        # Cloudflare's queue ranges; max_batch_size = 0 would make a consumer spin without delivering
        ('main = "a.py"\n[[queues.consumers]]\nqueue = "q"\nmax_batch_size = 0\n',
         r"wrangler.toml: queues.consumers\[0\].max_batch_size: expected an integer from 1 to 100, got 0"),
        ('main = "a.py"\n[[queues.consumers]]\nqueue = "q"\nmax_batch_size = 101\n',
         r"queues.consumers\[0\].max_batch_size: expected an integer from 1 to 100, got 101"),
        ('main = "a.py"\n[[queues.consumers]]\nqueue = "q"\nmax_batch_timeout = 60.5\n',
         r"queues.consumers\[0\].max_batch_timeout: expected a number from 0 to 60, got 60.5"),
        ('main = "a.py"\n[[queues.consumers]]\nqueue = "q"\nmax_retries = 101\n',
         r"queues.consumers\[0\].max_retries: expected an integer from 0 to 100, got 101"),
        ('main = "a.py"\n[[queues.consumers]]\nqueue = "q"\nretry_delay = 43201\n',
         r"queues.consumers\[0\].retry_delay: expected an integer from 0 to 43200, got 43201"),
        ('main = "a.py"\n[[queues.consumers]]\nqueue = "q"\nmax_concurrency = 0\n',
         r"queues.consumers\[0\].max_concurrency: expected an integer from 1 to 250, got 0"),
        ('main = "a.py"\n[[queues.consumers]]\nqueue = "q"\nmax_concurrency = 251\n',
         r"queues.consumers\[0\].max_concurrency: expected an integer from 1 to 250, got 251"),
        ('main = "a.py"\n[[queues.producers]]\nbinding = "Q"\nqueue = "q"\ndelivery_delay = 43201\n',
         r"queues.producers\[0\].delivery_delay: expected an integer from 0 to 43200, got 43201"),
        ('main = "a.py"\n[[queues.consumers]]\nqueue = "q"\nmax_batch_size = true\n',
         r"queues.consumers\[0\].max_batch_size: expected an integer from 1 to 100, got True"),
        # a DO migration's renamed_classes are {from, to} tables, not names
        ('main = "a.py"\nmigrations = [{ tag = "v1", renamed_classes = ["A"] }]\n',
         r"wrangler.toml: migrations\[0\].renamed_classes\[0\]: expected a table/object"),
        ('main = "a.py"\nmigrations = [{ tag = "v1", renamed_classes = [{ from = "A" }] }]\n',
         r"migrations\[0\].renamed_classes\[0\].to: is required"),
        # crons that do not parse fail at load, not silently at the first tick
        ('main = "a.py"\n[triggers]\ncrons = ["0 0 * * *", "not a cron"]\n',
         r"wrangler.toml: triggers.crons\[1\]: cron 'not a cron': Cloudflare cron expressions have 5 fields"),
        ('main = "a.py"\n[triggers]\ncrons = ["61 * * * *"]\n', r"triggers.crons\[0\]: cron '61 \* \* \* \*'"),
        # duplicate binding names, in wrangler's words, with the keys that collide
        ('main = "a.py"\nd1_databases = [{ binding = "DB", database_id = "a" },\n'
         '  { binding = "DB", database_id = "b" }]\n',
         r"wrangler.toml: d1_databases\[1\].binding: DB assigned to multiple D1 Database bindings "
         r"\(d1_databases\[0\].binding, d1_databases\[1\].binding\). Bindings must have unique names"),
        ('main = "a.py"\nvars = { DATA = "x" }\nkv_namespaces = [{ binding = "DATA", id = "k" }]\n',
         r"vars.DATA: DATA assigned to KV Namespace and Environment Variable bindings "
         r"\(kv_namespaces\[0\].binding, vars.DATA\)"),
        ('main = "a.py"\nkv_namespaces = [{ binding = "X", id = "k" }]\nr2_buckets = [{ binding = "X" }]\n'
         '[assets]\ndirectory = "p"\nbinding = "X"\n',
         r"X assigned to KV Namespace, R2 Bucket, and Assets bindings"),
        # wrangler needs the directory even when only the binding is used
        ('main = "a.py"\n[assets]\nbinding = "ASSETS"\n',
         r"wrangler.toml: assets.directory: The `assets` property in your configuration is missing the required "
         r"`directory` property."),
        ('main = "a.py"\n[assets]\ndirectory = "p"\nhtml_handling = "sometimes"\n',
         r"assets.html_handling: expected one of"),
        ('main = "a.py"\n[triggers]\ncrons = "* * * * *"\n', r"triggers.crons: expected a list of strings"),
        ('main = "a.py"\nvars = 3\n', r"vars: expected a table/object"),
        ('main = = "a.py"\n', r"wrangler.toml: cannot parse"),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "wrangler.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, environ={})


def test_queue_settings_at_the_edges_of_cloudflare_ranges_load(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.toml", 'main = "a.py"\n'
          '[[queues.producers]]\nbinding = "Q"\nqueue = "q"\ndelivery_delay = 43200\n'
          '[[queues.consumers]]\nqueue = "q"\nmax_batch_size = 100\nmax_batch_timeout = 0\nmax_retries = 0\n'
          'retry_delay = 43200\nmax_concurrency = 250\n'
          '[[queues.consumers]]\nqueue = "r"\nmax_batch_size = 1\nmax_batch_timeout = 60\nmax_retries = 100\n'
          'max_concurrency = 1\n')
    config = load_config(tmp_path, environ={})
    first, second = config.queue_consumers
    assert (first.max_batch_size, first.max_batch_timeout, first.max_retries, first.max_concurrency) == (100, 0, 0, 250)
    assert (second.max_batch_size, second.max_batch_timeout, second.max_concurrency) == (1, 60, 1)
    assert config.queue_producers[0].delivery_delay == 43200


def test_same_name_in_different_environments_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.toml", 'main = "a.py"\nkv_namespaces = [{ binding = "KV", id = "a" }]\n'
          '[env.prod]\nkv_namespaces = [{ binding = "KV", id = "b" }]\n')
    assert load_config(tmp_path, env_name="prod", environ={}).kv_namespaces[0].id == "b"


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no wrangler\.json, wrangler\.jsonc or wrangler\.toml found"):
        load_config(tmp_path, environ={})


def test_dev_vars_and_process_env(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.toml", 'main = "a.py"\n[vars]\nMODE = "dev"\n')
    write(tmp_path, ".dev.vars", '# secrets\nAPI_KEY="s3cr3t"\nexport TOKEN=abc # trailing\nQUOTED=\'a b\'\n')
    config = load_config(tmp_path, environ={"MODE": "prod", "UNRELATED": "x"})
    assert config.secrets == {"API_KEY": "s3cr3t", "TOKEN": "abc", "QUOTED": "a b", "MODE": "prod"}
    everything = load_config(tmp_path, environ={"UNRELATED": "x", "PORTFLARE_INCLUDE_PROCESS_ENV": "true",
                                                "PORTFLARE_KV": "redis://"})
    assert everything.secrets["UNRELATED"] == "x"
    assert "PORTFLARE_KV" not in everything.secrets


def test_env_specific_dev_vars_win(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.toml", TOML)
    write(tmp_path, ".dev.vars", "A=base\n")
    write(tmp_path, ".dev.vars.staging", "A=staging\n")
    assert load_config(tmp_path, env_name="staging", environ={}).secrets == {"A": "staging"}
    assert load_config(tmp_path, environ={}).secrets == {"A": "base"}


def test_dotenv_rejects_garbage_with_line_number(tmp_path: Path) -> None:
    path = write(tmp_path, ".dev.vars", "OK=1\nnot a pair\n")
    with pytest.raises(ConfigError, match=r"\.dev\.vars:2: expected KEY=value"):
        read_dotenv(path)


def test_legacy_global_handlers_by_date_and_flags(tmp_path: Path) -> None:
    def cfg(extra: str) -> bool:
        write(tmp_path, "wrangler.toml", 'main = "a.py"\n' + extra)
        return load_config(tmp_path, environ={}).legacy_global_handlers

    assert cfg('compatibility_date = "2024-03-01"\n') is True
    assert cfg('compatibility_date = "2025-09-01"\n') is False
    assert cfg('compatibility_date = "2025-09-01"\ncompatibility_flags = ["disable_python_no_global_handlers"]\n')
    assert not cfg('compatibility_date = "2024-01-01"\ncompatibility_flags = ["python_no_global_handlers"]\n')


def test_lookup_by_binding_or_name(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.toml", TOML)
    config = load_config(tmp_path, environ={})
    assert config.d1("DB") is config.d1("quiz-db")
    assert config.r2("quiz-media").binding == "MEDIA"
    with pytest.raises(ConfigError, match=r"no D1 database named 'nope' \(configured: DB \(quiz-db\)\)"):
        config.d1("nope")


def test_state_dir_default_and_persist_to(tmp_path: Path) -> None:
    write(tmp_path, "wrangler.toml", 'main = "a.py"\n')
    config = load_config(tmp_path, environ={})
    assert state_dir(config) == tmp_path / ".portflare" / "state"
    assert state_dir(config, tmp_path / "elsewhere") == (tmp_path / "elsewhere").resolve()
    assert (tmp_path / "elsewhere").is_dir()
