"""Moving an app's schema and data between PostgreSQL, MySQL/MariaDB, D1/SQLite, Redis, KV, R2 and S3, and proving
nothing was lost (``portflare migrate ...``).

    model.py     the dialect-neutral schema (tables, columns, keys, indexes) and FK-safe ordering
    types.py     pure mapping rules: column types, defaults and values between dialects
    ddl.py       schema from DDL text (pg_dump --schema-only, SQLite .sql) and DDL out (SQLite, PostgreSQL)
    endpoint.py  a database to read from or write to, opened by URL; postgres.py / mysql.py / sqlite.py
    data.py      batched, resumable, FK-ordered table copy
    verify.py    row counts, row checksums and orphaned foreign keys, source against target
    kv.py        KV namespace to KV namespace (and plain Redis string keys into KV)
    r2.py        objects between a directory, the embedded R2 store and any S3 endpoint (streamed, resumable)
    progress.py  the rich progress bar every long command shows
"""
