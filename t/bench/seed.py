#!/usr/bin/env python3
"""Pre-seeds a migrated WSMS database with N workspaces for make bench-soak.

Writes SQL on stdout for the dialect's command line client: each workspace
gets its Workspace row, an OWNER (a user of its own) and two more members, a
WORKSPACE_CREATED audit entry and one Jira integration row, in transactions
of up to 250 workspaces. Where each workspace has tables of its own
(PostgreSQL; SQLite before the shared tables) their DDL comes from the
workspace migration files of SCHEMA_DIR (the tree of the wsmsd under test)
with {{schema}} bound, and SchemaVersion records them, as creation through
the API would; with --shared (SQLite's shared tables) no DDL at all.

usage: seed.py sqlite|postgres N SCHEMA_DIR [--shared] [--attach MASTER_DB]
"""
import glob
import os
import sys
import uuid

TS = "'2026-01-01 00:00:00.000'"


def q(s):
    return "'" + s.replace("'", "''") + "'"


def ws_files(schema_dir):
    files = sorted(glob.glob(os.path.join(schema_dir, "workspace", "[0-9][0-9][0-9]_*.sql")))
    out = []
    for f in files:
        version = int(os.path.basename(f)[:3])
        batches, cur = [], []
        for line in open(f, encoding="utf-8"):
            t = line.strip()
            if t == "GO":
                batches.append("".join(cur))
                cur = []
            elif not t.startswith("--") and t:
                cur.append(line)
        batches.append("".join(cur))
        out.append((version, [b for b in batches if b.strip()]))
    return out


def main():
    dialect, n, schema_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    shared = "--shared" in sys.argv
    attach = sys.argv[sys.argv.index("--attach") + 1] if "--attach" in sys.argv else None
    m = "pmassist_master."
    files = [] if shared else ws_files(os.path.join(schema_dir, dialect))
    w = sys.stdout.write
    if attach:
        w("ATTACH DATABASE %s AS pmassist_master;\n" % q(attach))
    # PostgreSQL locks every object a transaction creates: smaller ones there
    per_tx = 100 if files and dialect == "postgres" else 250
    for i in range(n):
        if i % per_tx == 0:
            w("BEGIN;\n" if i == 0 else "COMMIT;\nBEGIN;\n")
        ws = str(uuid.uuid4())
        schema = "ws_" + ws.replace("-", "")
        owner = str(uuid.uuid4())
        w("INSERT INTO %sWorkspace (id, name, description, created_by, created_at, updated_at, "
          "blob_path, is_active, db_schema_name, last_seen_utc, status) VALUES "
          "(%s, %s, NULL, %s, %s, %s, %s, 1, %s, NULL, 'Active');\n"
          % (m, q(ws), q("seed %d" % i), q(owner), TS, TS, q("workspaces/" + ws), q(schema)))
        for k, (uid, email, role) in enumerate(
                [(owner, "seed-owner-%d@example.com" % i, "OWNER"),
                 (str(uuid.uuid4()), "seed-a-%d@example.com" % i, "MEMBER"),
                 (None, "seed-b-%d@example.com" % i, "VIEWER")]):
            w("INSERT INTO %sWorkspaceMember (id, workspace_id, user_id, user_email, display_name, "
              "role, added_at) VALUES (%s, %s, %s, %s, NULL, %s, %s);\n"
              % (m, q(str(uuid.uuid4())), q(ws), q(uid) if uid else "NULL", q(email), q(role), TS))
        w("INSERT INTO %sAuditLog (id, workspace_id, action, actor_id, details, timestamp) VALUES "
          "(%s, %s, 'WORKSPACE_CREATED', %s, NULL, %s);\n" % (m, q(str(uuid.uuid4())), q(ws), q(owner), TS))
        for version, batches in files:
            for b in batches:
                w(b.replace("{{schema}}", schema).rstrip().rstrip(";") + ";\n")
            w("INSERT INTO %sSchemaVersion (component, version, applied_at) VALUES (%s, %d, %s);\n"
              % (m, q(schema), version, TS))
        if shared:
            table = m + "ws__workspace_integrations"
        elif dialect == "sqlite":
            table = m + schema + "__workspace_integrations"
        else:
            table = schema + ".workspace_integrations"
        w("INSERT INTO %s (workspace_integration_id, workspace_id, user_id, integration_display_name, "
          "provider, url, extra_config_json, connection_status, added_by_user_id, added_utc, "
          "external_id) VALUES (%s, %s, NULL, 'PROJ', 'Jira', NULL, NULL, 'Pending', %s, %s, 'PROJ');\n"
          % (table, q(str(uuid.uuid4())), q(ws), q(owner), TS))
    if n > 0:
        w("COMMIT;\n")


main()
