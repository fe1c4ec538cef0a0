#!/usr/bin/env bash
# Checks that src/storage/migrations/postgres/ keeps in step with sqlite/ (not part of CI: run it by hand
# after adding or changing a migration). For each schema it
#   1. applies each backend's migrations in order, each in one transaction as storage/migrations.cpp does:
#      SQLite with the sqlite3 CLI, PostgreSQL in a throwaway cluster (initdb in a temp dir, Unix socket
#      only, so no port is taken). The homeserver schema is seeded with rows after 0004, so 0005's move of
#      member state and 0009's forward extremities run on data;
#   2. compares the resulting schemas: tables, columns (order, type, NOT NULL, default), primary keys,
#      unique constraints, indexes, foreign keys, views and triggers;
#   3. runs statements copied from the stores (upserts with ON CONFLICT ... DO UPDATE, RETURNING, the
#      identity column) on both: on PostgreSQL as prepared statements whose $n are typed as a libpq driver
#      would bind sql::Value (text, bigint; unknown for NULL), on SQLite with the literals substituted; then
#      compares the rows the statements returned and every table's rows.
# Installs postgresql and sqlite3 from Debian packages if missing (as scripts/install-deps.sh does), works
# in a temp dir and removes it (and stops the cluster) on exit. Prints each difference; exits non-zero if any.
# shellcheck disable=SC2016  # the $1.. in single quotes are SQL placeholders
set -euo pipefail
export LC_ALL=C
shopt -u patsub_replacement 2>/dev/null || true  # '&' in a ${x//a/b} replacement stays literal
cd "$(dirname "$0")/.."
migrations=src/storage/migrations

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
missing=()
for p in postgresql sqlite3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "check-postgres-migrations: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
pg_bin=$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

tmp=$(mktemp -d)
as_pg=()  # initdb and postgres refuse to run as root
if [[ $(id -u) -eq 0 ]]; then
  chown postgres "$tmp"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  if [[ -f "$tmp/pg/postmaster.pid" ]]; then "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A C-locale cluster: text compares and sorts bytewise, as SQLite's BINARY collation does.
"${as_pg[@]}" "$pg_bin/initdb" -D "$tmp/pg" -U postgres -A trust -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -w \
  -o "-c listen_addresses='' -k $tmp -c fsync=off" start >/dev/null ||
  { cat "$tmp/pg.log" >&2; exit 1; }
psql_in() { "$pg_bin/psql" -X -q -At -F '|' -v ON_ERROR_STOP=1 -h "$tmp" -U postgres -d "$1" "${@:2}"; }
sqlite_in() { sqlite3 -batch -bail -separator '|' -nullvalue '' "$1" "${@:2}"; }

# Applies backend's migrations of schema numbered from..to into the scratch database.
apply() {
  local backend=$1 schema=$2 from=$3 to=$4 f n
  for f in "$migrations/$backend/$schema"/*.sql; do
    n=$((10#$(basename "$f" | grep -o '^[0-9]*')))
    ((n >= from && n <= to)) || continue
    if [[ $backend == sqlite ]]; then
      { echo "PRAGMA foreign_keys=ON; BEGIN;"; cat "$f"; echo "COMMIT;"; } | sqlite_in "$tmp/$schema.sqlite" ||
        { echo "check-postgres-migrations: $f failed" >&2; exit 1; }
    else
      psql_in "$schema" --single-transaction -f "$f" || { echo "check-postgres-migrations: $f failed" >&2; exit 1; }
    fi
  done
}

# One store statement: its SQL with $n placeholders, then one argument per placeholder: t:TEXT, i:INT or n (NULL).
# Appended to the schema's statement files for both backends.
statements=0
stmt() {
  local schema=$1 sql=$2 types=() lits=() a lit i
  shift 2
  statements=$((statements + 1))
  for a in "$@"; do
    case $a in
      t:*) lit=${a#t:}; lit="'${lit//\'/\'\'}'"; types+=(text) ;;
      i:*) lit=${a#i:}; types+=(bigint) ;;
      n) lit=NULL; types+=(unknown) ;;
      *) echo "stmt: bad argument $a" >&2; exit 2 ;;
    esac
    lits+=("$lit")
  done
  local s=$sql
  for ((i = ${#lits[@]}; i >= 1; i--)); do s=${s//\$$i/${lits[i - 1]}}; done
  echo "$s;" >>"$tmp/$schema.stmts.sqlite"
  local IFS=,
  if ((${#types[@]} > 0)); then
    echo "PREPARE s$statements(${types[*]}) AS $sql; EXECUTE s$statements(${lits[*]}); DEALLOCATE s$statements;" >>"$tmp/$schema.stmts.pg"
  else
    echo "$sql;" >>"$tmp/$schema.stmts.pg"
  fi
}

# The schema, one normalized line per fact. SQLite quirks folded in: a rowid table's non-INTEGER
# PRIMARY KEY column takes NULLs unless declared NOT NULL (PostgreSQL's never does; reported as NOT NULL),
# and an INTEGER PRIMARY KEY is the 64-bit rowid (reported as BIGINT <auto>, like an identity column).
sqlite_schema() {
  sqlite_in "$tmp/$1.sqlite" <<'SQL'
WITH t AS (SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'),
c AS (SELECT t.name AS tbl, p.*, (SELECT COUNT(*) FROM pragma_table_info(t.name) WHERE pk > 0) AS npk,
             t.sql LIKE '%WITHOUT ROWID%' AS without_rowid FROM t, pragma_table_info(t.name) p)
SELECT 'table ' || name FROM t
UNION ALL
SELECT 'column ' || tbl || ' ' || cid || ' ' || name || ' ' ||
       CASE WHEN pk = 1 AND npk = 1 AND upper(type) = 'INTEGER' AND NOT without_rowid THEN 'BIGINT <auto>'
            ELSE upper(type) || coalesce(' DEFAULT ' || dflt_value, '') END ||
       CASE WHEN "notnull" OR pk > 0 THEN ' NOT NULL' ELSE '' END FROM c
UNION ALL
SELECT 'primary key ' || tbl || ' (' || group_concat(name, ', ') || ')'
  FROM (SELECT tbl, name FROM c WHERE pk > 0 ORDER BY tbl, pk) GROUP BY tbl
UNION ALL
SELECT CASE WHEN il.origin = 'u' THEN 'unique ' || t.name
            ELSE 'index ' || t.name || ' ' || il.name || CASE WHEN il."unique" THEN ' UNIQUE' ELSE '' END END ||
       ' (' || (SELECT group_concat(name, ', ') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)) || ')' ||
       CASE WHEN il.partial THEN ' partial' ELSE '' END
  FROM t, pragma_index_list(t.name) il WHERE il.origin <> 'pk'
UNION ALL
SELECT 'foreign key ' || tbl || ' (' || group_concat("from", ', ') || ') -> ' || "table" || ' (' || group_concat("to", ', ') ||
       ') ON DELETE ' || on_delete || ' ON UPDATE ' || on_update
  FROM (SELECT t.name AS tbl, f.* FROM t, pragma_foreign_key_list(t.name) f ORDER BY t.name, f.id, f.seq) GROUP BY tbl, id
UNION ALL
SELECT type || ' ' || name FROM sqlite_master WHERE type IN ('view', 'trigger');
SQL
}
pg_schema() {
  psql_in "$1" <<'SQL'
WITH t AS (SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'r'),
cols AS (SELECT a.attrelid, a.attnum, a.attname FROM pg_attribute a WHERE a.attnum > 0 AND NOT a.attisdropped),
act(code, word) AS (VALUES ('a', 'NO ACTION'), ('r', 'RESTRICT'), ('c', 'CASCADE'), ('n', 'SET NULL'), ('d', 'SET DEFAULT'))
SELECT 'table ' || relname FROM t
UNION ALL
SELECT 'column ' || t.relname || ' ' || (row_number() OVER (PARTITION BY t.oid ORDER BY a.attnum) - 1) || ' ' || a.attname || ' ' ||
       upper(format_type(a.atttypid, a.atttypmod)) ||
       CASE WHEN a.attidentity <> '' THEN ' <auto>'
            ELSE coalesce(' DEFAULT ' || regexp_replace(pg_get_expr(d.adbin, d.adrelid), '::[a-z ]+$', ''), '') END ||
       CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
  FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum
UNION ALL
SELECT CASE WHEN i.indisprimary THEN 'primary key ' || t.relname
            WHEN EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype = 'u') THEN 'unique ' || t.relname
            ELSE 'index ' || t.relname || ' ' || ic.relname || CASE WHEN i.indisunique THEN ' UNIQUE' ELSE '' END END ||
       ' (' || (SELECT string_agg(cols.attname, ', ' ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                JOIN cols ON cols.attrelid = t.oid AND cols.attnum = k.attnum) || ')' ||
       CASE WHEN i.indpred IS NOT NULL THEN ' partial' ELSE '' END
  FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
UNION ALL
SELECT 'foreign key ' || t.relname || ' (' ||
       (SELECT string_agg(cols.attname, ', ' ORDER BY k.ord) FROM unnest(f.conkey) WITH ORDINALITY k(attnum, ord)
        JOIN cols ON cols.attrelid = f.conrelid AND cols.attnum = k.attnum) || ') -> ' || r.relname || ' (' ||
       (SELECT string_agg(cols.attname, ', ' ORDER BY k.ord) FROM unnest(f.confkey) WITH ORDINALITY k(attnum, ord)
        JOIN cols ON cols.attrelid = f.confrelid AND cols.attnum = k.attnum) || ') ON DELETE ' ||
       (SELECT word FROM act WHERE code = f.confdeltype) || ' ON UPDATE ' || (SELECT word FROM act WHERE code = f.confupdtype)
  FROM t JOIN pg_constraint f ON f.conrelid = t.oid AND f.contype = 'f' JOIN pg_class r ON r.oid = f.confrelid
UNION ALL
SELECT 'view ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'trigger ' || g.tgname FROM pg_trigger g JOIN t ON t.oid = g.tgrelid WHERE NOT g.tgisinternal;
SQL
}

# Every table's rows, in a stable order.
dump_rows() {
  local schema=$1 backend=$2 tbl ncols order
  sqlite_in "$tmp/$schema.sqlite" \
    "SELECT m.name, (SELECT COUNT(*) FROM pragma_table_info(m.name)) FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY m.name" |
    while IFS='|' read -r tbl ncols; do
      order=$(seq -s, 1 "$ncols")
      echo "== $tbl"
      if [[ $backend == sqlite ]]; then sqlite_in "$tmp/$schema.sqlite" "SELECT * FROM $tbl ORDER BY $order" </dev/null
      else psql_in "$schema" -c "SELECT * FROM $tbl ORDER BY $order" </dev/null; fi
    done
}

failed=0
compare() {  # compare WHAT SQLITE_FILE PG_FILE
  if diff -u --label "sqlite $1" --label "postgres $1" "$2" "$3"; then
    echo "same $1 ($(wc -l <"$2") lines)"
  else
    failed=1
  fi
}

# --- homeserver: rows written by schema 4 (member state in both current_state and memberships), upgraded.
seed_v4="
INSERT INTO users (user_id, password_hash, created_ts, is_admin) VALUES ('@a:hs', 'hash', 1, 0), ('@b:hs', NULL, 2, 1);
INSERT INTO rooms VALUES ('!r:hs', '10', '@a:hs', 1, 3), ('!q:hs', '10', '@b:hs', 0, 4);
INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, membership, pdu) VALUES
  (1, '\$create', '!r:hs', 'm.room.create', '', '@a:hs', NULL, '{}'),
  (2, '\$join', '!r:hs', 'm.room.member', '@a:hs', '@a:hs', 'join', '{\"membership\":\"join\"}'),
  (3, '\$qcreate', '!q:hs', 'm.room.create', '', '@b:hs', NULL, '{}'),
  (4, '\$msg', '!r:hs', 'm.room.message', NULL, '@a:hs', NULL, '{\"body\":\"it''s\"}');
INSERT INTO current_state VALUES ('!r:hs', 'm.room.create', '', '\$create'), ('!r:hs', 'm.room.member', '@a:hs', '\$join'),
  ('!q:hs', 'm.room.create', '', '\$qcreate');
INSERT INTO memberships VALUES ('!r:hs', '@a:hs', 'join', '\$join', 2, 0);
"
hs=homeserver
createdb_pg() { psql_in postgres -c "CREATE DATABASE $1"; }
createdb_pg $hs
for backend in sqlite postgres; do
  apply $backend $hs 1 4
  if [[ $backend == sqlite ]]; then sqlite_in "$tmp/$hs.sqlite" "PRAGMA foreign_keys=ON; $seed_v4"
  else psql_in $hs -c "$seed_v4"; fi
  apply $backend $hs 5 9999
done

# account_store
stmt $hs 'INSERT INTO users (user_id, password_hash, created_ts, is_admin, displayname, avatar_url) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO NOTHING' \
  t:@c:hs n i:10 i:0 "t:C's name" n
stmt $hs 'INSERT INTO users (user_id, password_hash, created_ts, is_admin, displayname, avatar_url) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO NOTHING' \
  t:@c:hs t:other i:11 i:1 n n
stmt $hs 'INSERT INTO devices (user_id, device_id, display_name, created_ts) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, device_id) DO NOTHING' \
  t:@c:hs t:DEV n i:12
stmt $hs 'INSERT INTO devices (user_id, device_id, display_name, created_ts) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, device_id) DO NOTHING' \
  t:@c:hs t:DEV2 t:Phone i:13
stmt $hs 'INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts) VALUES ($1, $2, $3, $4)' t:h1 t:@c:hs t:DEV i:14
stmt $hs 'INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts) VALUES ($1, $2, $3, $4)' t:h2 t:@c:hs t:DEV2 i:15
stmt $hs 'SELECT t.user_id, t.device_id FROM access_tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = $1 AND u.deactivated = 0' t:h1
stmt $hs 'DELETE FROM access_tokens WHERE user_id = $1 AND device_id = $2 RETURNING token_hash' t:@c:hs t:DEV2
stmt $hs 'DELETE FROM devices WHERE user_id = $1 AND device_id = $2' t:@c:hs t:DEV2
stmt $hs 'UPDATE devices SET last_seen_ts = $3, last_seen_ip = $4 WHERE user_id = $1 AND device_id = $2' t:@c:hs t:DEV i:16 t:10.0.0.1
stmt $hs 'INSERT INTO openid_tokens (token_hash, user_id, expires_ts) VALUES ($1, $2, $3)' t:oh t:@c:hs i:17
stmt $hs 'INSERT INTO user_threepids (medium, address, user_id, validated_at, added_at) VALUES ($1, $2, $3, $4, $5)' t:email t:c@example.org t:@c:hs i:18 i:19
stmt $hs 'INSERT INTO user_threepid_id_servers (user_id, medium, address, id_server) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, medium, address, id_server) DO NOTHING' \
  t:@c:hs t:email t:c@example.org t:id.example.org
stmt $hs 'INSERT INTO user_threepid_id_servers (user_id, medium, address, id_server) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, medium, address, id_server) DO NOTHING' \
  t:@c:hs t:email t:c@example.org t:id.example.org
# room_store
stmt $hs 'INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts) VALUES ($1, $2, $3, $4, $5)' t:!s:hs t:11 t:@c:hs i:0 i:20
stmt $hs 'UPDATE rooms SET is_public = $2 WHERE room_id = $1' t:!s:hs i:1
stmt $hs 'SELECT COUNT(*) FROM rooms WHERE is_public = 1'
stmt $hs 'INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, membership, pdu, unsigned_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)' \
  i:5 't:$leave' t:!r:hs t:m.room.member t:@a:hs t:@a:hs t:leave 't:{}' n
stmt $hs 'INSERT INTO memberships (room_id, user_id, membership, event_id, stream_ordering, forgotten) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id, stream_ordering = excluded.stream_ordering, forgotten = 0' \
  t:!r:hs t:@a:hs t:leave 't:$leave' i:5
stmt $hs 'UPDATE memberships SET forgotten = 1 WHERE room_id = $1 AND user_id = $2' t:!r:hs t:@a:hs
stmt $hs 'INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, membership, pdu, unsigned_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)' \
  i:6 't:$name' t:!r:hs t:m.room.name t: t:@a:hs n 't:{"name":"R & D"}' 't:{"age":1}'
stmt $hs 'INSERT INTO current_state (room_id, type, state_key, event_id) VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id' \
  t:!r:hs t:m.room.name t: 't:$name'
stmt $hs 'INSERT INTO current_state (room_id, type, state_key, event_id) VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id' \
  t:!r:hs t:m.room.create t: 't:$create2'
stmt $hs 'UPDATE events SET redacted_by = $2 WHERE event_id = $1 AND redacted_by IS NULL' 't:$msg' 't:$redaction'
stmt $hs 'SELECT e.stream_ordering, e.event_id, e.room_id, e.pdu, e.unsigned_json, e.redacted_by FROM (SELECT event_id FROM current_state WHERE room_id = $1 UNION ALL SELECT event_id FROM memberships WHERE room_id = $1) s JOIN events e ON e.event_id = s.event_id ORDER BY e.stream_ordering' \
  t:!r:hs
stmt $hs 'INSERT INTO room_aliases (alias, room_id, creator) VALUES ($1, $2, $3) ON CONFLICT (alias) DO NOTHING' t:#a:hs t:!r:hs t:@a:hs
stmt $hs 'INSERT INTO room_aliases (alias, room_id, creator) VALUES ($1, $2, $3) ON CONFLICT (alias) DO NOTHING' t:#a:hs t:!s:hs t:@c:hs
stmt $hs 'INSERT INTO event_transactions (user_id, device_id, txn_key, event_id) VALUES ($1, $2, $3, $4)' t:@a:hs t:D t:m.1 't:$msg'
stmt $hs 'SELECT COALESCE(MAX(filter_id), -1) + 1 FROM filters WHERE user_id = $1' t:@a:hs
stmt $hs 'INSERT INTO filters (user_id, filter_id, filter_json) VALUES ($1, $2, $3)' t:@a:hs i:0 't:{}'
stmt $hs 'SELECT COALESCE(MAX(filter_id), -1) + 1 FROM filters WHERE user_id = $1' t:@a:hs
# account_data_store, presence_store
for s in 21 22; do
  stmt $hs 'INSERT INTO account_data (user_id, room_id, type, content, stream_ordering) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, stream_ordering = excluded.stream_ordering' \
    t:@a:hs t: t:m.push_rules "t:{\"v\":$s}" i:$s
  stmt $hs 'INSERT INTO presence (user_id, state, status_msg, last_active_ts, stream_ordering) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, status_msg = excluded.status_msg, last_active_ts = excluded.last_active_ts, stream_ordering = excluded.stream_ordering' \
    t:@a:hs t:online n i:$s i:$s
done
stmt $hs "SELECT user_id, state, status_msg, last_active_ts, stream_ordering FROM presence p WHERE p.stream_ordering > \$2 AND p.stream_ordering <= \$3 AND (p.user_id = \$1 OR EXISTS (SELECT 1 FROM memberships mine JOIN memberships theirs ON theirs.room_id = mine.room_id WHERE mine.user_id = \$1 AND mine.membership = 'join' AND theirs.user_id = p.user_id)) ORDER BY p.stream_ordering" \
  t:@a:hs i:0 i:100
# e2e_key_store
stmt $hs 'INSERT INTO device_keys (user_id, device_id, key_json) VALUES ($1, $2, $3) ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json' t:@a:hs t:D 't:{"k":1}'
stmt $hs 'INSERT INTO device_keys (user_id, device_id, key_json) VALUES ($1, $2, $3) ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json' t:@a:hs t:D 't:{"k":2}'
stmt $hs 'INSERT INTO one_time_keys (user_id, device_id, algorithm, key_id, key_json) VALUES ($1, $2, $3, $4, $5)' t:@a:hs t:D t:signed_curve25519 t:AAA 't:{}'
stmt $hs 'SELECT algorithm, COUNT(*) FROM one_time_keys WHERE user_id = $1 AND device_id = $2 GROUP BY algorithm' t:@a:hs t:D
fallback='INSERT INTO fallback_keys (user_id, device_id, algorithm, key_id, key_json, used) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET used = CASE WHEN fallback_keys.key_id = excluded.key_id AND fallback_keys.key_json = excluded.key_json THEN fallback_keys.used ELSE 0 END, key_id = excluded.key_id, key_json = excluded.key_json'
stmt $hs "$fallback" t:@a:hs t:D t:signed_curve25519 t:F1 't:{"f":1}'
stmt $hs 'UPDATE fallback_keys SET used = 1 WHERE user_id = $1 AND device_id = $2 AND algorithm = $3' t:@a:hs t:D t:signed_curve25519
stmt $hs "$fallback" t:@a:hs t:D t:signed_curve25519 t:F1 't:{"f":1}'  # the same key keeps used = 1
stmt $hs "$fallback" t:@a:hs t:D2 t:signed_curve25519 t:F1 't:{"f":1}'
stmt $hs 'UPDATE fallback_keys SET used = 1 WHERE user_id = $1 AND device_id = $2 AND algorithm = $3' t:@a:hs t:D2 t:signed_curve25519
stmt $hs "$fallback" t:@a:hs t:D2 t:signed_curve25519 t:F2 't:{"f":2}'  # a new key is unused
stmt $hs 'INSERT INTO cross_signing_keys (user_id, key_type, key_json) VALUES ($1, $2, $3) ON CONFLICT (user_id, key_type) DO UPDATE SET key_json = excluded.key_json' t:@a:hs t:master 't:{"m":1}'
stmt $hs 'INSERT INTO cross_signing_keys (user_id, key_type, key_json) VALUES ($1, $2, $3) ON CONFLICT (user_id, key_type) DO UPDATE SET key_json = excluded.key_json' t:@a:hs t:master 't:{"m":2}'
for sig in s1 s2; do
  stmt $hs 'INSERT INTO key_signatures (target_user, target_id, signer_user, signer_key_id, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (target_user, target_id, signer_user, signer_key_id) DO UPDATE SET signature = excluded.signature' \
    t:@a:hs t:D t:@b:hs t:ed25519:B t:$sig
done
stmt $hs 'INSERT INTO device_list_changes (stream_ordering, user_id) VALUES ($1, $2)' i:23 t:@a:hs
stmt $hs 'SELECT DISTINCT user_id FROM device_list_changes WHERE stream_ordering > $1 AND stream_ordering <= $2' i:0 i:100
# to_device_store
stmt $hs 'INSERT INTO to_device_messages (user_id, device_id, stream_ordering, message_json) VALUES ($1, $2, $3, $4)' t:@a:hs t:D i:24 't:{}'
stmt $hs 'INSERT INTO to_device_transactions (user_id, device_id, txn_key) VALUES ($1, $2, $3)' t:@b:hs t:E t:t1
stmt $hs 'SELECT COALESCE(MAX(stream_ordering), 0) FROM to_device_messages'
# key_backup_store
stmt $hs 'SELECT COALESCE(MAX(version), 0) FROM key_backup_versions WHERE user_id = $1' t:@a:hs
stmt $hs 'INSERT INTO key_backup_versions (user_id, version, algorithm, auth_data) VALUES ($1, $2, $3, $4)' t:@a:hs i:1 t:m.megolm_backup.v1 't:{}'
stmt $hs 'UPDATE key_backup_versions SET etag = etag + 1 WHERE user_id = $1 AND version = $2 RETURNING etag' t:@a:hs i:1
for verified in 0 1; do
  stmt $hs 'INSERT INTO key_backup_sessions (user_id, version, room_id, session_id, first_message_index, forwarded_count, is_verified, session_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET first_message_index = excluded.first_message_index, forwarded_count = excluded.forwarded_count, is_verified = excluded.is_verified, session_data = excluded.session_data' \
    t:@a:hs i:1 t:!r:hs t:sess i:$verified i:$verified i:$verified 't:{}'
done
stmt $hs 'SELECT COUNT(*) FROM key_backup_sessions WHERE user_id = $1 AND version = $2' t:@a:hs i:1
stmt $hs 'UPDATE key_backup_versions SET deleted = 1 WHERE user_id = $1 AND version = $2 AND deleted = 0' t:@a:hs i:1
# The event graph (no store writes these tables yet): a row in each.
stmt $hs 'INSERT INTO event_edges (stream_ordering, kind, target_id) VALUES ($1, 0, $2), ($1, 1, $3) ON CONFLICT DO NOTHING' i:1 't:$leave' 't:$name'
stmt $hs 'INSERT INTO missing_prev_events (room_id, missing_id, referrer_id) VALUES ($1, $2, $3)' t:!r:hs 't:$gone' 't:$name'
stmt $hs 'INSERT INTO state_groups (state_group, room_id, prev_group, delta_event_id, chain_length, state_size) VALUES ($1, $2, $3, $4, $5, $6)' i:1 t:!r:hs n n i:0 i:2
stmt $hs 'INSERT INTO state_group_entries (state_group, type, state_key, event_id) VALUES ($1, $2, $3, $4)' i:1 t:m.room.create t: 't:$create'
stmt $hs 'INSERT INTO state_group_entries (state_group, type, state_key, event_id) VALUES ($1, $2, $3, $4)' i:1 t:m.room.topic t: n
stmt $hs 'INSERT INTO state_groups (state_group, room_id, prev_group, delta_event_id, chain_length, state_size) SELECT (SELECT COALESCE(MAX(state_group), 0) + 1 FROM state_groups), $1, g.state_group, $3, g.chain_length + 1, g.state_size + $4 FROM state_groups g WHERE g.state_group = $2 AND (g.chain_length < $5 OR g.chain_length < g.state_size / 4) RETURNING state_group' t:!r:hs i:1 't:$name' i:1 i:64
stmt $hs 'INSERT INTO forward_extremities (room_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING' t:!r:hs 't:$x1'
stmt $hs 'UPDATE forward_extremities SET event_id = $3 WHERE room_id = $1 AND event_id = $2' t:!r:hs 't:$x1' 't:$x2'
stmt $hs 'UPDATE events SET state_before = $2, state_after = $3 WHERE event_id = $1' 't:$name' i:1 i:1
stmt $hs 'UPDATE rooms SET current_state_group = $2 WHERE room_id = $1' t:!r:hs i:1
stmt $hs 'INSERT INTO events_outside_timeline (event_id, room_id, status, reason, pdu, state_before, received_ts) VALUES ($1, $2, $3, $4, $5, $6, $7)' \
  't:$out' t:!r:hs t:rejected t:auth 't:{}' n i:25

# --- identity
id=identity
createdb_pg $id
apply sqlite $id 1 9999
apply postgres $id 1 9999
stmt $id 'INSERT INTO accounts (user_id, created_ts) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING' t:@a:hs i:1
stmt $id 'INSERT INTO accounts (user_id, created_ts) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING' t:@a:hs i:2
stmt $id 'INSERT INTO account_tokens (token_hash, user_id, created_ts) VALUES ($1, $2, $3)' t:h t:@a:hs i:3
stmt $id 'INSERT INTO accepted_terms (user_id, url) VALUES ($1, $2) ON CONFLICT (user_id, url) DO NOTHING' t:@a:hs t:https://t/1
stmt $id 'INSERT INTO accepted_terms (user_id, url) VALUES ($1, $2) ON CONFLICT (user_id, url) DO NOTHING' t:@a:hs t:https://t/1
stmt $id 'INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING' t:pepper t:p1
stmt $id 'INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING' t:pepper t:p2
stmt $id 'SELECT value FROM settings WHERE name = $1' t:pepper
stmt $id 'INSERT INTO validation_sessions (sid, medium, address, client_secret, token, send_attempt, next_link, modified_ts, validated_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)' \
  t:sid1 t:email t:a@example.org t:secret t:123456 i:1 n i:4
stmt $id 'UPDATE validation_sessions SET validated_ts = $2, modified_ts = $2 WHERE sid = $1' t:sid1 i:5
stmt $id 'INSERT INTO associations (medium, address, lookup_hash, mxid, ts, not_before, not_after) VALUES ($1, $2, $3, $4, $5, $6, $7)' \
  t:email t:a@example.org t:hash t:@a:hs i:6 i:6 i:99
stmt $id 'INSERT INTO invites (token, medium, address, room_id, sender, ephemeral_public_key, received_ts, sent_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)' \
  t:tok t:email t:b@example.org t:!r:hs t:@a:hs t:epk i:7
stmt $id 'INSERT INTO ephemeral_keys (public_key, created_ts) VALUES ($1, $2)' t:epk i:7
stmt $id 'UPDATE invites SET sent_ts = $3 WHERE medium = $1 AND address = $2 AND sent_ts IS NULL' t:email t:b@example.org i:8
for body in one two; do
  stmt $id 'INSERT INTO onbind_queue (mxid, body, invite_tokens, attempts, next_attempt_ts, created_ts) VALUES ($1, $2, $3, 0, $4, $4)' \
    t:@b:hs t:$body 't:["tok"]' i:9
done
stmt $id 'SELECT id, mxid, body, invite_tokens, attempts, next_attempt_ts FROM onbind_queue WHERE next_attempt_ts <= $1 ORDER BY next_attempt_ts, id LIMIT $2' i:9 i:10
stmt $id 'UPDATE onbind_queue SET attempts = $2, next_attempt_ts = $3, last_error = $4 WHERE id = $1' i:1 i:1 i:10 t:refused
stmt $id 'DELETE FROM onbind_queue WHERE id = $1' i:2

# --- compare
for schema in $hs $id; do
  diff <(ls "$migrations/sqlite/$schema") <(ls "$migrations/postgres/$schema") >/dev/null ||
    { echo "migration files differ for $schema:"; diff <(ls "$migrations/sqlite/$schema") <(ls "$migrations/postgres/$schema"); failed=1; }
  sqlite_schema "$schema" | sort >"$tmp/$schema.schema.sqlite"
  pg_schema "$schema" | sort >"$tmp/$schema.schema.pg"
  compare "$schema schema" "$tmp/$schema.schema.sqlite" "$tmp/$schema.schema.pg"
  { echo "PRAGMA foreign_keys=ON;"; cat "$tmp/$schema.stmts.sqlite"; } | sqlite_in "$tmp/$schema.sqlite" >"$tmp/$schema.returned.sqlite" ||
    { echo "check-postgres-migrations: a $schema store statement failed on SQLite" >&2; exit 1; }
  psql_in "$schema" -f "$tmp/$schema.stmts.pg" >"$tmp/$schema.returned.pg" ||
    { echo "check-postgres-migrations: a $schema store statement failed on PostgreSQL" >&2; exit 1; }
  compare "$schema rows returned by $(wc -l <"$tmp/$schema.stmts.pg") statements" "$tmp/$schema.returned.sqlite" "$tmp/$schema.returned.pg"
  dump_rows "$schema" sqlite >"$tmp/$schema.rows.sqlite"
  dump_rows "$schema" postgres >"$tmp/$schema.rows.pg"
  compare "$schema table contents" "$tmp/$schema.rows.sqlite" "$tmp/$schema.rows.pg"
done
if ((failed)); then
  echo "check-postgres-migrations: the PostgreSQL migrations differ from the SQLite ones" >&2
  exit 1
fi
echo "check-postgres-migrations: PostgreSQL and SQLite migrations agree"
