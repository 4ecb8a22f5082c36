"""SQLite's built-in rules as SQL functions on PostgreSQL and MySQL, created once per schema / database.

Where a server's own function gives another answer than SQLite's (``round`` halves to even, ``substr`` counts
negative starts differently, ``CAST('12abc' AS INTEGER)`` is an error, ``lower`` folds every letter, a REAL
prints as ``2`` instead of ``2.0``…), the translation calls one of these instead; each implements SQLite's rule
as documented in https://sqlite.org/lang_corefunc.html and https://sqlite.org/datatype3.html. All are named
``pf_…`` (D1 refuses no such prefix, but nothing in SQLite is called that) except ``hex``, ``randomblob`` and
``typeof``, which PostgreSQL lacks and which keep SQLite's names.

PostgreSQL picks an overload by the argument's type, so one name covers every SQLite storage class. MySQL has
no overloading: the translation picks the function by the static type of the argument
(``translate_types.value_type``).

``install_mysql`` creates the MySQL functions when a database is opened, unless the database already has this
version of them (``pf_version()``); PostgreSQL's are ``CREATE OR REPLACE``d by ``postgres.py`` at open.
"""

from __future__ import annotations

import hashlib
from typing import Any

POSTGRES = r"""
CREATE OR REPLACE FUNCTION hex(bytea) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT upper(encode($1, 'hex')) $$;
CREATE OR REPLACE FUNCTION hex(text) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT upper(encode(convert_to($1, 'UTF8'), 'hex')) $$;
CREATE OR REPLACE FUNCTION hex(bigint) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT upper(encode(convert_to($1::text, 'UTF8'), 'hex')) $$;
CREATE OR REPLACE FUNCTION randomblob(n integer) RETURNS bytea VOLATILE LANGUAGE plpgsql AS $$
BEGIN
  IF n > 2000000 THEN RAISE EXCEPTION 'string or blob too big' USING ERRCODE = '54000'; END IF;
  RETURN (SELECT decode(string_agg(lpad(to_hex(floor(random() * 256)::int), 2, '0'), ''), 'hex')
          FROM generate_series(1, greatest(n, 1)));
END $$;
CREATE OR REPLACE FUNCTION typeof(bigint) RETURNS text IMMUTABLE LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 IS NULL THEN 'null' ELSE 'integer' END $$;
CREATE OR REPLACE FUNCTION typeof(integer) RETURNS text IMMUTABLE LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 IS NULL THEN 'null' ELSE 'integer' END $$;
CREATE OR REPLACE FUNCTION typeof(double precision) RETURNS text IMMUTABLE LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 IS NULL THEN 'null' ELSE 'real' END $$;
CREATE OR REPLACE FUNCTION typeof(numeric) RETURNS text IMMUTABLE LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 IS NULL THEN 'null' WHEN $1 = trunc($1) THEN 'integer' ELSE 'real' END $$;
CREATE OR REPLACE FUNCTION typeof(text) RETURNS text IMMUTABLE LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 IS NULL THEN 'null' ELSE 'text' END $$;
CREATE OR REPLACE FUNCTION typeof(bytea) RETURNS text IMMUTABLE LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 IS NULL THEN 'null' ELSE 'blob' END $$;

-- A value as SQLite converts it to TEXT: a REAL as printf('%!.15g') writes it (2.0 -> '2.0', 1e20 ->
-- '1.0e+20'); float8 -> numeric keeps 15 significant digits, as %.15g does.
CREATE OR REPLACE FUNCTION pf_text(text) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1 $$;
CREATE OR REPLACE FUNCTION pf_text(bigint) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1::text $$;
CREATE OR REPLACE FUNCTION pf_text(integer) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1::text $$;
CREATE OR REPLACE FUNCTION pf_text(bytea) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT convert_from($1, 'UTF8') $$;
CREATE OR REPLACE FUNCTION pf_text(double precision) RETURNS text IMMUTABLE STRICT LANGUAGE plpgsql AS $$
DECLARE
  v numeric;
  e integer;
  m text;
BEGIN
  IF $1 = 'Infinity'::float8 THEN RETURN 'Inf'; END IF;
  IF $1 = '-Infinity'::float8 THEN RETURN '-Inf'; END IF;
  IF $1 = 0 THEN RETURN '0.0'; END IF;
  v := $1::numeric;
  e := floor(log(abs(v)));
  IF e < -4 OR e >= 15 THEN
    -- scaled by a whole power of ten (numeric's power() of a large negative exponent loses the digits)
    m := rtrim(round(CASE WHEN e < 0 THEN v * power(10::numeric, -e) ELSE v / power(10::numeric, e) END,
                     14)::text, '0');
    IF right(m, 1) = '.' THEN m := m || '0'; END IF;
    RETURN m || 'e' || CASE WHEN e < 0 THEN '-' ELSE '+' END
      || CASE WHEN abs(e) < 10 THEN '0' ELSE '' END || abs(e);
  END IF;
  m := v::text;
  IF position('.' in m) = 0 THEN RETURN m || '.0'; END IF;
  RETURN m;
END $$;
-- A NUMERIC-affinity value is an INTEGER when it is whole, else a REAL.
CREATE OR REPLACE FUNCTION pf_text(numeric) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 = trunc($1) AND abs($1) < 9223372036854775808 THEN trunc($1)::text
                 ELSE pf_text($1::double precision) END $$;

-- CAST(x AS INTEGER): a REAL is truncated towards zero, a text's longest integer prefix is taken (0 if none),
-- both clamped to 64 bits.
CREATE OR REPLACE FUNCTION pf_int(bigint) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1 $$;
CREATE OR REPLACE FUNCTION pf_int(integer) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1::bigint $$;
CREATE OR REPLACE FUNCTION pf_int(numeric) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT greatest(least(trunc($1), 9223372036854775807), -9223372036854775808)::bigint $$;
CREATE OR REPLACE FUNCTION pf_int(double precision) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 >= 9223372036854775807::float8 THEN 9223372036854775807
                 WHEN $1 <= -9223372036854775808::float8 THEN -9223372036854775808
                 ELSE trunc($1)::bigint END $$;
CREATE OR REPLACE FUNCTION pf_int(text) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT coalesce(pf_int(substring($1 from '^\s*([+-]?[0-9]+)')::numeric), 0) $$;
CREATE OR REPLACE FUNCTION pf_int(bytea) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT pf_int(convert_from($1, 'UTF8')) $$;

-- CAST(x AS REAL): a text's longest number prefix (0.0 if none).
CREATE OR REPLACE FUNCTION pf_real(double precision) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT $1 $$;
CREATE OR REPLACE FUNCTION pf_real(bigint) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT $1::double precision $$;
CREATE OR REPLACE FUNCTION pf_real(integer) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT $1::double precision $$;
CREATE OR REPLACE FUNCTION pf_real(numeric) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT $1::double precision $$;
CREATE OR REPLACE FUNCTION pf_real(text) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT coalesce(substring($1 from '^\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)')
                     ::double precision, 0) $$;
CREATE OR REPLACE FUNCTION pf_real(bytea) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT pf_real(convert_from($1, 'UTF8')) $$;

-- CAST(x AS NUMERIC): a number stays as it is; a text becomes a number, INTEGER when whole (numeric reads
-- back that way).
CREATE OR REPLACE FUNCTION pf_numeric(numeric) RETURNS numeric IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1 $$;
CREATE OR REPLACE FUNCTION pf_numeric(bigint) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1 $$;
CREATE OR REPLACE FUNCTION pf_numeric(integer) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT $1::bigint $$;
CREATE OR REPLACE FUNCTION pf_numeric(double precision) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT $1 $$;
CREATE OR REPLACE FUNCTION pf_numeric(text) RETURNS numeric IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT coalesce(substring($1 from '^\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)')
                     ::numeric, 0) $$;
CREATE OR REPLACE FUNCTION pf_numeric(bytea) RETURNS numeric IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT pf_numeric(convert_from($1, 'UTF8')) $$;

-- CAST(x AS BLOB): the bytes of the value's text.
CREATE OR REPLACE FUNCTION pf_blob(bytea) RETURNS bytea IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1 $$;
CREATE OR REPLACE FUNCTION pf_blob(text) RETURNS bytea IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT convert_to($1, 'UTF8') $$;
CREATE OR REPLACE FUNCTION pf_blob(bigint) RETURNS bytea IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT convert_to(pf_text($1), 'UTF8') $$;
CREATE OR REPLACE FUNCTION pf_blob(integer) RETURNS bytea IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT convert_to(pf_text($1), 'UTF8') $$;
CREATE OR REPLACE FUNCTION pf_blob(double precision) RETURNS bytea IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT convert_to(pf_text($1), 'UTF8') $$;
CREATE OR REPLACE FUNCTION pf_blob(numeric) RETURNS bytea IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT convert_to(pf_text($1), 'UTF8') $$;

-- A value stored in an INTEGER column: SQLite would keep a non-integral number (or non-numeric text) as a
-- REAL (or TEXT) there; a BIGINT column cannot, so it is refused instead of rounded.
CREATE OR REPLACE FUNCTION pf_int_check(bigint) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1 $$;
CREATE OR REPLACE FUNCTION pf_int_check(integer) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT $1::bigint $$;
CREATE OR REPLACE FUNCTION pf_int_check(numeric) RETURNS bigint IMMUTABLE STRICT LANGUAGE plpgsql AS $$
BEGIN
  IF $1 <> trunc($1) OR abs($1) > 9223372036854775807 THEN
    RAISE EXCEPTION 'datatype mismatch: % in an INTEGER column (SQLite would store a REAL; PostgreSQL cannot)', $1
      USING ERRCODE = '22000';
  END IF;
  RETURN $1::bigint;
END $$;
CREATE OR REPLACE FUNCTION pf_int_check(double precision) RETURNS bigint IMMUTABLE STRICT LANGUAGE plpgsql AS $$
BEGIN
  IF $1 <> trunc($1) OR abs($1) >= 9223372036854775807::float8 THEN
    RAISE EXCEPTION 'datatype mismatch: % in an INTEGER column (SQLite would store a REAL; PostgreSQL cannot)',
      pf_text($1) USING ERRCODE = '22000';
  END IF;
  RETURN $1::bigint;
END $$;
CREATE OR REPLACE FUNCTION pf_int_check(text) RETURNS bigint IMMUTABLE STRICT LANGUAGE plpgsql AS $$
BEGIN
  IF $1 !~ '^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$' THEN
    RAISE EXCEPTION 'datatype mismatch: ''%'' in an INTEGER column (SQLite would store TEXT; PostgreSQL cannot)', $1
      USING ERRCODE = '22000';
  END IF;
  RETURN pf_int_check(trim($1)::numeric);
END $$;

-- round(x, n): half away from zero (SQLite adds 0.5 and truncates; PostgreSQL's round(float8) halves to even).
CREATE OR REPLACE FUNCTION pf_round(double precision, bigint) RETURNS double precision IMMUTABLE STRICT
  LANGUAGE sql AS $$
  SELECT CASE WHEN abs($1) > 4503599627370496 THEN $1
              WHEN $2 <= 0 THEN trunc($1 + CASE WHEN $1 < 0 THEN -0.5 ELSE 0.5 END)
              ELSE round($1::numeric, least($2, 30)::integer)::double precision END $$;
CREATE OR REPLACE FUNCTION pf_round(bigint, bigint) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT $1::double precision $$;
CREATE OR REPLACE FUNCTION pf_round(integer, bigint) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT $1::double precision $$;
CREATE OR REPLACE FUNCTION pf_round(numeric, bigint) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT pf_round($1::double precision, $2) $$;
CREATE OR REPLACE FUNCTION pf_round(text, bigint) RETURNS double precision IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT pf_round(pf_real($1), $2) $$;

-- substr(s, y, z) (https://sqlite.org/lang_corefunc.html#substr): 1-based, a negative y counts from the end,
-- y = 0 starts before the first character, a negative z takes the characters before y. Two-argument calls pass
-- z = 1000000000 (longer than any D1 value).
CREATE OR REPLACE FUNCTION pf_substr_range(len bigint, y bigint, z bigint, OUT p1 bigint, OUT p2 bigint)
  IMMUTABLE STRICT LANGUAGE plpgsql AS $$
DECLARE
  negative boolean := z < 0;
BEGIN
  p1 := y;
  p2 := abs(z);
  IF p1 < 0 THEN
    p1 := p1 + len;
    IF p1 < 0 THEN
      p2 := greatest(p2 + p1, 0);
      p1 := 0;
    END IF;
  ELSIF p1 > 0 THEN
    p1 := p1 - 1;
  ELSIF p2 > 0 THEN
    p2 := p2 - 1;
  END IF;
  IF negative THEN
    p1 := p1 - p2;
    IF p1 < 0 THEN
      p2 := p2 + p1;
      p1 := 0;
    END IF;
  END IF;
END $$;
CREATE OR REPLACE FUNCTION pf_substr(text, bigint, bigint) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT substr($1, (r.p1 + 1)::integer, r.p2::integer) FROM pf_substr_range(length($1), $2, $3) r $$;
CREATE OR REPLACE FUNCTION pf_substr(bytea, bigint, bigint) RETURNS bytea IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT substr($1, (r.p1 + 1)::integer, r.p2::integer) FROM pf_substr_range(length($1), $2, $3) r $$;

-- length(x): characters of a text, bytes of a blob, characters of a number's text.
CREATE OR REPLACE FUNCTION pf_length(text) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT length($1) $$;
CREATE OR REPLACE FUNCTION pf_length(bytea) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT length($1) $$;
CREATE OR REPLACE FUNCTION pf_length(bigint) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT length(pf_text($1)) $$;
CREATE OR REPLACE FUNCTION pf_length(integer) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT length(pf_text($1)) $$;
CREATE OR REPLACE FUNCTION pf_length(double precision) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT length(pf_text($1)) $$;
CREATE OR REPLACE FUNCTION pf_length(numeric) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT length(pf_text($1)) $$;

-- lower/upper, LIKE and COLLATE NOCASE fold ASCII letters only in SQLite.
CREATE OR REPLACE FUNCTION pf_lower(text) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;
CREATE OR REPLACE FUNCTION pf_upper(text) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT translate($1, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') $$;

-- LIMIT: a negative count means no limit; OFFSET: a negative one is 0.
CREATE OR REPLACE FUNCTION pf_limit(bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 < 0 THEN NULL ELSE $1 END $$;
CREATE OR REPLACE FUNCTION pf_offset(bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS
  $$ SELECT greatest($1, 0) $$;

-- json_extract's value outside the select list, as SQLite sees it: null -> NULL, true/false -> 1/0, numbers,
-- strings unquoted, objects and arrays as minified JSON text.
CREATE OR REPLACE FUNCTION pf_json_text(json) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS $$
  SELECT CASE json_typeof($1)
    WHEN 'null' THEN NULL
    WHEN 'string' THEN $1 #>> '{}'
    WHEN 'boolean' THEN CASE WHEN $1::text = 'true' THEN '1' ELSE '0' END
    WHEN 'number' THEN CASE WHEN btrim($1::text) ~ '^-?[0-9]{1,18}$' THEN btrim($1::text)
                            ELSE pf_text(($1::text)::double precision) END
    ELSE regexp_replace($1::text, '("(?:[^"\\]|\\.)*")|\s+', '\1', 'g') END $$;
CREATE OR REPLACE FUNCTION pf_json_num(json) RETURNS numeric IMMUTABLE STRICT LANGUAGE sql AS $$
  SELECT CASE json_typeof($1)
    WHEN 'null' THEN NULL
    WHEN 'number' THEN ($1::text)::numeric
    WHEN 'boolean' THEN CASE WHEN $1::text = 'true' THEN 1 ELSE 0 END
    WHEN 'string' THEN pf_numeric($1 #>> '{}')
    ELSE 0 END $$;
CREATE OR REPLACE FUNCTION pf_json_bool(json) RETURNS integer IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT (pf_json_num($1) <> 0)::integer $$;
CREATE OR REPLACE FUNCTION pf_json_array_length(json) RETURNS bigint IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT CASE WHEN json_typeof($1) = 'array' THEN json_array_length($1) ELSE 0 END $$;
-- ORDER BY: NULL, then numbers (by value), then text (by its bytes), as SQLite orders mixed values.
CREATE OR REPLACE FUNCTION pf_json_rank(json) RETURNS integer IMMUTABLE LANGUAGE sql AS $$
  SELECT CASE WHEN $1 IS NULL OR json_typeof($1) = 'null' THEN 0
              WHEN json_typeof($1) IN ('number', 'boolean') THEN 1 ELSE 2 END $$;
CREATE OR REPLACE FUNCTION pf_json_sortnum(json) RETURNS numeric IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT CASE WHEN json_typeof($1) IN ('number', 'boolean') THEN pf_json_num($1) END $$;
-- A comparison of json_extract's value with a number or a text: -1, 0, 1 (NULL if either is NULL).
CREATE OR REPLACE FUNCTION pf_json_cmp(json, numeric) RETURNS integer IMMUTABLE STRICT LANGUAGE sql AS $$
  SELECT CASE json_typeof($1)
    WHEN 'null' THEN NULL
    WHEN 'number' THEN sign(($1::text)::numeric - $2)::integer
    WHEN 'boolean' THEN sign(CASE WHEN $1::text = 'true' THEN 1 ELSE 0 END - $2)::integer
    ELSE 1 END $$;
CREATE OR REPLACE FUNCTION pf_json_cmp(json, double precision) RETURNS integer IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT pf_json_cmp($1, $2::numeric) $$;
CREATE OR REPLACE FUNCTION pf_json_cmp(json, bigint) RETURNS integer IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT pf_json_cmp($1, $2::numeric) $$;
CREATE OR REPLACE FUNCTION pf_json_cmp(json, integer) RETURNS integer IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT pf_json_cmp($1, $2::numeric) $$;
CREATE OR REPLACE FUNCTION pf_json_cmp(json, text) RETURNS integer IMMUTABLE STRICT LANGUAGE sql AS $$
  SELECT CASE WHEN json_typeof($1) = 'null' THEN NULL
              WHEN json_typeof($1) IN ('number', 'boolean') THEN -1
              WHEN pf_json_text($1) COLLATE "C" < $2 THEN -1
              WHEN pf_json_text($1) = $2 THEN 0 ELSE 1 END $$;

-- A value as JSON of its SQLite type, for a select-list expression whose rows have different types.
CREATE OR REPLACE FUNCTION pf_json(text) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT to_json($1)::text $$;
CREATE OR REPLACE FUNCTION pf_json(bigint) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1::text $$;
CREATE OR REPLACE FUNCTION pf_json(integer) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT $1::text $$;
CREATE OR REPLACE FUNCTION pf_json(double precision) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT pf_text($1) $$;
CREATE OR REPLACE FUNCTION pf_json(numeric) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS $$ SELECT pf_text($1) $$;
CREATE OR REPLACE FUNCTION pf_json(json) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT CASE WHEN json_typeof($1) = 'null' THEN NULL ELSE $1::text END $$;
CREATE OR REPLACE FUNCTION pf_json(jsonb) RETURNS text IMMUTABLE STRICT LANGUAGE sql AS
  $$ SELECT CASE WHEN jsonb_typeof($1) = 'null' THEN NULL ELSE $1::text END $$;

CREATE TABLE IF NOT EXISTS _cf_sequence (name TEXT PRIMARY KEY, seq BIGINT NOT NULL);
CREATE OR REPLACE FUNCTION pf_rowid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  col text := TG_ARGV[0];
  auto boolean := TG_ARGV[1] = 'autoincrement';
  v bigint := (to_jsonb(NEW) ->> TG_ARGV[0])::bigint;
  top bigint;
BEGIN
  -- SQLite's rowid choice: max(rowid) + 1 (AUTOINCREMENT: also above every rowid ever used). Inserts into one
  -- table are serialized, as SQLite serializes writers, so two transactions never pick the same rowid.
  IF v IS NULL THEN
    PERFORM pg_advisory_xact_lock(TG_RELID::bigint);
    EXECUTE format('SELECT max(%I) FROM %I.%I', col, TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO top;
    top := coalesce(top, 0);
    IF auto THEN
      top := greatest(top, coalesce((SELECT seq FROM _cf_sequence WHERE name = TG_TABLE_NAME), 0));
    END IF;
    v := top + 1;
    NEW := jsonb_populate_record(NEW, jsonb_build_object(col, v));
  END IF;
  IF auto THEN
    INSERT INTO _cf_sequence (name, seq) VALUES (TG_TABLE_NAME, v)
    ON CONFLICT (name) DO UPDATE SET seq = greatest(_cf_sequence.seq, excluded.seq);
  END IF;
  RETURN NEW;
END $$;
"""

# MySQL: one statement per function (no client-side delimiter). Errors raised with SIGNAL carry MySQL's
# "incorrect value" number (1366), which the backend reports as SQLITE_MISMATCH.
MYSQL: tuple[str, ...] = (
    # The 15 significant digits of |v|, correctly rounded from its exact binary value, and the decimal exponent
    # of the first: 'ddddddddddddddd e'. |v| = m * 2^k with an integer m below 2^53: m * 2^k, or m * 5^-k / 10^-k,
    # computed in DECIMAL(65), keeping the leading 60 digits (the dropped ones cannot turn a rounding: an exact
    # tie needs fewer digits than a double has). MySQL's own double to decimal conversion is the shortest repr,
    # which rounds some ties the other way.
    """CREATE FUNCTION pf_real_digits(v DOUBLE) RETURNS VARCHAR(40) DETERMINISTIC NO SQL
BEGIN
  DECLARE a DOUBLE DEFAULT ABS(v);
  DECLARE e2 INT;
  DECLARE k INT;
  DECLARE i INT DEFAULT 0;
  DECLARE shift INT DEFAULT 0;
  DECLARE p DECIMAL(65, 0);
  DECLARE d VARCHAR(80);
  DECLARE head DECIMAL(65, 0);
  DECLARE e INT;
  IF a < 2.2250738585072014e-308 THEN
    SET p = a * POW(2, 537) * POW(2, 537);
    SET k = -1074;
  ELSE
    SET e2 = FLOOR(LOG2(a));
    SET p = a / POW(2, e2 - 52);
    IF p >= 9007199254740992 THEN SET e2 = e2 + 1; SET p = a / POW(2, e2 - 52); END IF;
    IF p < 4503599627370496 THEN SET e2 = e2 - 1; SET p = a / POW(2, e2 - 52); END IF;
    SET k = e2 - 52;
  END IF;
  WHILE i < k DO
    SET p = p * 2;
    SET i = i + 1;
    IF p >= 1e60 THEN SET p = FLOOR(p / 10); SET shift = shift + 1; END IF;
  END WHILE;
  WHILE i > k DO
    SET p = p * 5;
    SET i = i - 1;
    SET shift = shift - 1;
    IF p >= 1e60 THEN SET p = FLOOR(p / 10); SET shift = shift + 1; END IF;
  END WHILE;
  SET d = CAST(p AS CHAR);
  SET e = CHAR_LENGTH(d) - 1 + shift;
  SET head = CAST(LEFT(RPAD(d, 15, '0'), 15) AS DECIMAL(65, 0));
  IF CHAR_LENGTH(d) > 15 AND SUBSTRING(d, 16, 1) >= '5' THEN SET head = head + 1; END IF;
  IF head >= 1000000000000000 THEN SET head = FLOOR(head / 10); SET e = e + 1; END IF;
  RETURN CONCAT(CAST(head AS CHAR), ' ', e);
END""",
    # A DOUBLE as SQLite writes it as TEXT (printf '%!.15g'): 15 significant digits, at least one decimal,
    # an exponent of two or more digits outside 1e-4 .. 1e15.
    """CREATE FUNCTION pf_real_text(v DOUBLE) RETURNS VARCHAR(40) DETERMINISTIC NO SQL
BEGIN
  DECLARE r VARCHAR(40);
  DECLARE d VARCHAR(20);
  DECLARE e INT;
  DECLARE t VARCHAR(60);
  IF v IS NULL THEN RETURN NULL; END IF;
  IF v = 0 THEN RETURN '0.0'; END IF;
  SET r = pf_real_digits(v);
  SET d = TRIM(TRAILING '0' FROM SUBSTRING_INDEX(r, ' ', 1));
  SET e = CAST(SUBSTRING_INDEX(r, ' ', -1) AS SIGNED);
  IF e < -4 OR e >= 15 THEN
    SET t = CONCAT(LEFT(d, 1), '.', IF(CHAR_LENGTH(d) > 1, SUBSTRING(d, 2), '0'), 'e', IF(e < 0, '-', '+'),
                   IF(ABS(e) < 10, '0', ''), ABS(e));
  ELSEIF e < 0 THEN
    SET t = CONCAT('0.', REPEAT('0', -e - 1), d);
  ELSE
    IF CHAR_LENGTH(d) < e + 1 THEN SET d = RPAD(d, e + 1, '0'); END IF;
    SET t = CONCAT(LEFT(d, e + 1), '.', IF(CHAR_LENGTH(d) > e + 1, SUBSTRING(d, e + 2), '0'));
  END IF;
  RETURN IF(v < 0, CONCAT('-', t), t);
END""",
    # A NUMERIC-affinity value (DECIMAL here) as text: whole numbers are INTEGERs in SQLite.
    """CREATE FUNCTION pf_num_text(v DECIMAL(65, 30)) RETURNS VARCHAR(80) DETERMINISTIC NO SQL
  RETURN IF(v = TRUNCATE(v, 0) AND ABS(v) < 9223372036854775808, CAST(TRUNCATE(v, 0) AS CHAR), pf_real_text(v))""",
    # CAST(text AS INTEGER): the longest integer prefix, clamped to 64 bits, 0 if none.
    """CREATE FUNCTION pf_int_text(s LONGTEXT) RETURNS BIGINT DETERMINISTIC NO SQL
BEGIN
  DECLARE m VARCHAR(4000);
  IF s IS NULL THEN RETURN NULL; END IF;
  SET m = REGEXP_REPLACE(REGEXP_SUBSTR(s, '^[[:space:]]*[+-]?[0-9]+'), '^[[:space:]]+', '');
  IF m IS NULL OR m = '' THEN RETURN 0; END IF;
  SET m = REGEXP_REPLACE(m, '^([+-]?)0+([0-9])', '\\\\1\\\\2');
  IF CHAR_LENGTH(REPLACE(REPLACE(m, '-', ''), '+', '')) > 19
     OR CAST(m AS DECIMAL(65, 0)) > 9223372036854775807 OR CAST(m AS DECIMAL(65, 0)) < -9223372036854775808 THEN
    RETURN IF(LEFT(m, 1) = '-', -9223372036854775808, 9223372036854775807);
  END IF;
  RETURN CAST(m AS SIGNED);
END""",
    # CAST(text AS REAL): the longest number prefix, 0.0 if none.
    """CREATE FUNCTION pf_real_parse(s LONGTEXT) RETURNS DOUBLE DETERMINISTIC NO SQL
BEGIN
  DECLARE m VARCHAR(4000);
  IF s IS NULL THEN RETURN NULL; END IF;
  SET m = REGEXP_REPLACE(REGEXP_SUBSTR(s, '^[[:space:]]*[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?'),
                         '^[[:space:]]+', '');
  IF m IS NULL OR m = '' THEN RETURN 0; END IF;
  RETURN m + 0e0;
END""",
    # A value bound for an INTEGER column: refused when SQLite would store it as a REAL or TEXT. Returns 0, so
    # that `x + pf_int_check(x)` stores x unchanged.
    """CREATE FUNCTION pf_int_check(v DOUBLE) RETURNS INT DETERMINISTIC NO SQL
BEGIN
  IF v IS NOT NULL AND (v <> FLOOR(v) OR ABS(v) >= 9223372036854775807e0) THEN
    SIGNAL SQLSTATE '22000' SET MYSQL_ERRNO = 1366,
      MESSAGE_TEXT = 'a non-integral number in an INTEGER column (SQLite would store a REAL; MySQL cannot)';
  END IF;
  RETURN 0;
END""",
    # round(x, n): half away from zero, as SQLite (MySQL's round of a DOUBLE halves to even).
    """CREATE FUNCTION pf_round(x DOUBLE, n BIGINT) RETURNS DOUBLE DETERMINISTIC NO SQL
BEGIN
  IF x IS NULL OR n IS NULL THEN RETURN NULL; END IF;
  IF ABS(x) > 4503599627370496 THEN RETURN x; END IF;
  IF n <= 0 THEN RETURN TRUNCATE(x + IF(x < 0, -0.5, 0.5), 0); END IF;
  RETURN ROUND(CAST(x AS DECIMAL(65, 30)), LEAST(n, 30)) + 0e0;
END""",
    # substr(s, y, z): SQLite's 1-based start (part 1) or count (part 2); see the PostgreSQL pf_substr_range.
    """CREATE FUNCTION pf_substr_bound(len BIGINT, y BIGINT, z BIGINT, part INT) RETURNS BIGINT
  DETERMINISTIC NO SQL
BEGIN
  DECLARE p1 BIGINT DEFAULT y;
  DECLARE p2 BIGINT DEFAULT ABS(z);
  IF len IS NULL OR y IS NULL OR z IS NULL THEN RETURN NULL; END IF;
  IF p1 < 0 THEN
    SET p1 = p1 + len;
    IF p1 < 0 THEN SET p2 = GREATEST(p2 + p1, 0); SET p1 = 0; END IF;
  ELSEIF p1 > 0 THEN SET p1 = p1 - 1;
  ELSEIF p2 > 0 THEN SET p2 = p2 - 1;
  END IF;
  IF z < 0 THEN
    SET p1 = p1 - p2;
    IF p1 < 0 THEN SET p2 = p2 + p1; SET p1 = 0; END IF;
  END IF;
  RETURN IF(part = 1, p1 + 1, p2);
END""",
    # lower/upper, LIKE and COLLATE NOCASE fold ASCII letters only in SQLite (the database collation is binary,
    # so REPLACE is case-sensitive).
    "CREATE FUNCTION pf_lower(s LONGTEXT) RETURNS LONGTEXT DETERMINISTIC NO SQL RETURN "
    + "".join("REPLACE(" for _ in range(26)) + "s"
    + "".join(f", '{chr(c)}', '{chr(c + 32)}')" for c in range(65, 91)),
    "CREATE FUNCTION pf_upper(s LONGTEXT) RETURNS LONGTEXT DETERMINISTIC NO SQL RETURN "
    + "".join("REPLACE(" for _ in range(26)) + "s"
    + "".join(f", '{chr(c + 32)}', '{chr(c)}')" for c in range(65, 91)),
    # json_extract's value outside the select list (see the PostgreSQL versions); j is JSON_EXTRACT's result.
    """CREATE FUNCTION pf_json_text(j LONGTEXT) RETURNS LONGTEXT DETERMINISTIC NO SQL
BEGIN
  DECLARE t VARCHAR(32);
  IF j IS NULL THEN RETURN NULL; END IF;
  SET t = JSON_TYPE(j);
  IF t = 'NULL' THEN RETURN NULL; END IF;
  IF t = 'STRING' THEN RETURN JSON_UNQUOTE(j); END IF;
  IF t = 'BOOLEAN' THEN RETURN IF(j = 'true', '1', '0'); END IF;
  IF t IN ('INTEGER', 'UNSIGNED INTEGER') THEN RETURN TRIM(j); END IF;
  IF t IN ('DOUBLE', 'DECIMAL') THEN RETURN pf_real_text(j + 0e0); END IF;
  RETURN JSON_COMPACT(j);
END""",
    """CREATE FUNCTION pf_json_num(j LONGTEXT) RETURNS DECIMAL(65, 30) DETERMINISTIC NO SQL
BEGIN
  DECLARE t VARCHAR(32);
  IF j IS NULL THEN RETURN NULL; END IF;
  SET t = JSON_TYPE(j);
  IF t = 'NULL' THEN RETURN NULL; END IF;
  IF t = 'BOOLEAN' THEN RETURN IF(j = 'true', 1, 0); END IF;
  IF t = 'STRING' THEN RETURN pf_real_parse(JSON_UNQUOTE(j)); END IF;
  IF t IN ('OBJECT', 'ARRAY') THEN RETURN 0; END IF;
  RETURN CAST(TRIM(j) AS DECIMAL(65, 30));
END""",
    """CREATE FUNCTION pf_json_bool(j LONGTEXT) RETURNS INT DETERMINISTIC NO SQL
  RETURN pf_json_num(j) <> 0""",
    """CREATE FUNCTION pf_json_rank(j LONGTEXT) RETURNS INT DETERMINISTIC NO SQL
  RETURN IF(j IS NULL OR JSON_TYPE(j) = 'NULL', 0,
            IF(JSON_TYPE(j) IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL', 'BOOLEAN'), 1, 2))""",
    """CREATE FUNCTION pf_json_sortnum(j LONGTEXT) RETURNS DECIMAL(65, 30) DETERMINISTIC NO SQL
  RETURN IF(pf_json_rank(j) = 1, pf_json_num(j), NULL)""",
    """CREATE FUNCTION pf_json_cmp_num(j LONGTEXT, v DOUBLE) RETURNS INT DETERMINISTIC NO SQL
BEGIN
  IF j IS NULL OR v IS NULL OR JSON_TYPE(j) = 'NULL' THEN RETURN NULL; END IF;
  IF pf_json_rank(j) = 2 THEN RETURN 1; END IF;
  RETURN SIGN(pf_json_num(j) - v);
END""",
    """CREATE FUNCTION pf_json_cmp_text(j LONGTEXT, v LONGTEXT) RETURNS INT DETERMINISTIC NO SQL
BEGIN
  IF j IS NULL OR v IS NULL OR JSON_TYPE(j) = 'NULL' THEN RETURN NULL; END IF;
  IF pf_json_rank(j) = 1 THEN RETURN -1; END IF;
  RETURN STRCMP(pf_json_text(j), v);
END""",
)
MYSQL_VERSION = hashlib.sha256("\n".join(MYSQL).encode()).hexdigest()[:16]


async def install_mysql(cursor: Any, database: str) -> None:
    """Create (or replace, when this version differs) the helper functions in ``database``; concurrent
    openers wait for each other on a named lock."""
    quoted = "`" + database.replace("`", "``") + "`"
    lock = f"pf_functions_{database}"[:64]
    await cursor.execute("SELECT GET_LOCK(%s, 30)", (lock,))
    try:
        await cursor.execute("SELECT routine_comment FROM information_schema.routines WHERE routine_schema = %s "
                             "AND routine_name = 'pf_version'", (database,))
        row = await cursor.fetchone()
        if row is not None and row[0] == MYSQL_VERSION:
            return
        await cursor.execute("SELECT routine_name FROM information_schema.routines WHERE routine_schema = %s "
                             "AND routine_name LIKE 'pf\\_%%'", (database,))
        for (name,) in await cursor.fetchall():
            await cursor.execute(f"DROP FUNCTION IF EXISTS {quoted}.`{name}`")
        await cursor.execute(f"USE {quoted}")
        for statement in MYSQL:
            await cursor.execute(statement)
        await cursor.execute(f"CREATE FUNCTION pf_version() RETURNS INT DETERMINISTIC NO SQL "
                             f"COMMENT '{MYSQL_VERSION}' RETURN 1")
    finally:
        await cursor.execute("SELECT RELEASE_LOCK(%s)", (lock,))
