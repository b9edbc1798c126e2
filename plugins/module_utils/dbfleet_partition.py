# -*- coding: utf-8 -*-
# Copyright: (c) 2025, darkreach engineering
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Range partitions by time for the postgres_partition module.

The partition arithmetic (which bounds, which names, what to create ahead and what is
past the retention) lives in one place: the PL/pgSQL functions below, installed in the
database (schema ``dbfleet`` by default) by the module. The module calls them, and so
does the scheduled job (``SELECT * FROM dbfleet.partition_maintain_all()`` from a timer
or pg_cron), so both compute the same partitions. Python only validates the options
(pure functions, unit-tested) and converts a plain table (catalog work, one transaction).

Bounds: ``date_bin(interval, ts, '2000-01-03 00:00:00+00')`` in UTC, so weekly
partitions run Monday 00:00 UTC to Monday 00:00 UTC. Names: ``<table>_pYYYYMMDD``
(``_pYYYYMMDD_HH24MI`` for intervals that are not whole days), the lower bound in UTC.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.darkreach.dbfleet.plugins.module_utils.dbfleet_postgres import (
    DbfleetPostgresError,
)

MIN_INTERVAL_SECONDS = 3600
MAX_PREMAKE = 520
CONFIG_TABLE = 'partition_config'
# Bumped when the SQL below changes; the module compares the installed functions' bodies.
SQL_VERSION = 1


def check_spans(interval_text, interval_seconds, interval_months, retention_text=None,
                retention_seconds=None, retention_months=0, premake=4):
    """Refuse partition settings that cannot work (pure; the server parsed the texts).

    ``*_seconds`` count days as 86400 s; ``*_months`` are the month part (years x 12 +
    months), which date_bin cannot align on. Raises DbfleetPostgresError.
    """
    if interval_months:
        raise DbfleetPostgresError(
            'interval "%s" has a month or year part; partitions are aligned with date_bin, '
            'which needs a fixed length (write for example "4 weeks")' % interval_text)
    if interval_seconds < MIN_INTERVAL_SECONDS:
        raise DbfleetPostgresError('interval "%s" is shorter than one hour' % interval_text)
    if interval_seconds % MIN_INTERVAL_SECONDS:
        raise DbfleetPostgresError('interval "%s" is not a whole number of hours' % interval_text)
    if not isinstance(premake, int) or isinstance(premake, bool) or premake < 1 or premake > MAX_PREMAKE:
        raise DbfleetPostgresError('premake must be between 1 and %d partitions, got %r' % (MAX_PREMAKE, premake))
    if retention_text is not None:
        total = (retention_seconds or 0) + (retention_months or 0) * 30 * 86400
        if total < interval_seconds:
            raise DbfleetPostgresError(
                'retention "%s" is shorter than one partition ("%s"): every partition would be '
                'dropped as soon as it is made' % (retention_text, interval_text))
    return True


def maintenance_sql(schema):
    """(statement, ...) that install the maintenance functions in ``schema`` (validated).

    Returned as a list of (kind, name, text) with kind 'schema', 'table' or 'function';
    for functions ``text`` is the complete CREATE OR REPLACE and ``name`` the body that
    pg_proc.prosrc holds once it is installed.
    """
    s = '"%s"' % schema
    bounds_body = r"""
  SELECT b, b + p_interval
    FROM generate_series(date_bin(p_interval, p_from, timestamptz '2000-01-03 00:00:00+00'),
                         p_to, p_interval) AS b
"""
    name_body = r"""
  SELECT (left(p_table, 48) || '_p' || to_char(p_lower AT TIME ZONE 'UTC',
          CASE WHEN extract(epoch FROM p_interval)::bigint %% 86400 = 0
               THEN 'YYYYMMDD' ELSE 'YYYYMMDD"_"HH24MI' END))::name
""".replace('%%', '%')
    maintain_body = r"""
#variable_conflict use_column
DECLARE
  c record;
  v_parent oid;
  v_cutoff timestamptz;
  v_start timestamptz;
  v_horizon timestamptz;
  v_name name;
  r record;
  g record;
BEGIN
  SELECT * INTO c FROM @S@.partition_config AS pc
   WHERE pc.schema_name = p_schema AND pc.table_name = p_table;
  IF NOT FOUND THEN
    RAISE EXCEPTION '%.% has no row in @S@.partition_config', p_schema, p_table USING ERRCODE = '22023';
  END IF;
  SELECT cl.oid INTO v_parent FROM pg_class AS cl JOIN pg_namespace AS n ON n.oid = cl.relnamespace
   WHERE n.nspname = p_schema AND cl.relname = p_table AND cl.relkind = 'p';
  IF v_parent IS NULL THEN
    RAISE EXCEPTION '%.% is not a partitioned table', p_schema, p_table USING ERRCODE = '22023';
  END IF;
  v_cutoff := CASE WHEN c.retention IS NULL OR p_keep_all THEN NULL ELSE p_now - c.retention END;

  -- Past the retention: partitions whose upper bound is at or before now - retention.
  IF v_cutoff IS NOT NULL THEN
    FOR r IN SELECT e.relname, e.lo, e.hi FROM @S@.partition_list(v_parent) AS e
              WHERE e.hi <= v_cutoff ORDER BY e.lo LOOP
      action := 'drop'; partition_table := r.relname; range_from := r.lo; range_to := r.hi;
      RETURN NEXT;
      IF NOT p_dry_run THEN
        EXECUTE format('DROP TABLE %I.%I', p_schema, r.relname);
      END IF;
    END LOOP;
  END IF;

  -- From the oldest partition kept (or p_cover_from) to now + premake intervals.
  v_start := coalesce(p_cover_from,
                      (SELECT min(e.lo) FROM @S@.partition_list(v_parent) AS e
                        WHERE v_cutoff IS NULL OR e.hi > v_cutoff),
                      p_now);
  IF v_cutoff IS NOT NULL AND v_start < v_cutoff THEN
    v_start := v_cutoff;
  END IF;
  v_horizon := greatest(p_now + c.premake * c.part_interval, coalesce(p_cover_to, p_now));
  FOR g IN SELECT b.lower_bound, b.upper_bound
             FROM @S@.partition_bounds(c.part_interval, v_start, v_horizon) AS b LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM @S@.partition_list(v_parent) AS e
                           WHERE (v_cutoff IS NULL OR e.hi > v_cutoff)
                             AND e.lo < g.upper_bound AND e.hi > g.lower_bound);
    v_name := @S@.partition_name(p_table, c.part_interval, g.lower_bound);
    action := 'create'; partition_table := v_name; range_from := g.lower_bound; range_to := g.upper_bound;
    RETURN NEXT;
    IF NOT p_dry_run THEN
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                     p_schema, v_name, p_schema, p_table, g.lower_bound, g.upper_bound);
      -- Reached through the parent only: no grants of its own (default privileges
      -- would give some), row level security on without policies.
      FOR r IN SELECT DISTINCT a.grantee FROM pg_class AS x, aclexplode(x.relacl) AS a
                WHERE x.oid = format('%I.%I', p_schema, v_name)::regclass AND a.grantee <> x.relowner LOOP
        EXECUTE format('REVOKE ALL ON TABLE %I.%I FROM %s', p_schema, v_name,
                       CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END);
      END LOOP;
      EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', p_schema, v_name);
    END IF;
  END LOOP;
END
"""
    list_body = r"""
  SELECT ch.relname,
         substring(pg_get_expr(ch.relpartbound, ch.oid) FROM 'FROM \(''([^'']+)''\)')::timestamptz,
         substring(pg_get_expr(ch.relpartbound, ch.oid) FROM ' TO \(''([^'']+)''\)')::timestamptz
    FROM pg_inherits AS i JOIN pg_class AS ch ON ch.oid = i.inhrelid
   WHERE i.inhparent = p_parent
     AND pg_get_expr(ch.relpartbound, ch.oid) ~ '^FOR VALUES FROM \(''[^'']+''\) TO \(''[^'']+''\)$'
"""
    all_body = r"""
#variable_conflict use_column
DECLARE
  c record;
BEGIN
  FOR c IN SELECT pc.schema_name, pc.table_name FROM @S@.partition_config AS pc ORDER BY 1, 2 LOOP
    RETURN QUERY SELECT format('%I.%I', c.schema_name, c.table_name), m.action, m.partition_table,
                        m.range_from, m.range_to
                   FROM @S@.partition_maintain(c.schema_name, c.table_name) AS m;
  END LOOP;
END
"""
    out = 'TABLE (action text, partition_table name, range_from timestamptz, range_to timestamptz)'
    common = " SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS "
    fns = [
        ('partition_bounds', bounds_body,
         'CREATE OR REPLACE FUNCTION %s.partition_bounds(p_interval interval, p_from timestamptz, '
         'p_to timestamptz) RETURNS TABLE (lower_bound timestamptz, upper_bound timestamptz) '
         'LANGUAGE sql STABLE' % s),
        ('partition_name', name_body,
         'CREATE OR REPLACE FUNCTION %s.partition_name(p_table name, p_interval interval, '
         'p_lower timestamptz) RETURNS name LANGUAGE sql STABLE' % s),
        ('partition_list', list_body,
         'CREATE OR REPLACE FUNCTION %s.partition_list(p_parent oid) '
         'RETURNS TABLE (relname name, lo timestamptz, hi timestamptz) LANGUAGE sql STABLE' % s),
        ('partition_maintain', maintain_body,
         'CREATE OR REPLACE FUNCTION %s.partition_maintain(p_schema name, p_table name, '
         'p_dry_run boolean DEFAULT false, p_now timestamptz DEFAULT now(), '
         'p_cover_from timestamptz DEFAULT NULL, p_cover_to timestamptz DEFAULT NULL, '
         'p_keep_all boolean DEFAULT false) RETURNS %s LANGUAGE plpgsql' % (s, out)),
        ('partition_maintain_all', all_body,
         'CREATE OR REPLACE FUNCTION %s.partition_maintain_all() RETURNS TABLE (parent text, '
         'action text, partition_table name, range_from timestamptz, range_to timestamptz) '
         'LANGUAGE plpgsql' % s),
    ]
    result = []
    for name, body, head in fns:
        body = body.replace('@S@', s)
        if '$dbfleet$' in body:
            raise DbfleetPostgresError('function body contains $dbfleet$')
        result.append(('function', name, body, head + common + '$dbfleet$' + body + '$dbfleet$'))
    return result


def config_table_sql(schema):
    return ('CREATE TABLE "%s".partition_config (\n'
            '  schema_name name NOT NULL,\n'
            '  table_name name NOT NULL,\n'
            '  column_name name NOT NULL,\n'
            '  part_interval interval NOT NULL,\n'
            '  premake integer NOT NULL CHECK (premake >= 1),\n'
            '  retention interval,\n'
            '  PRIMARY KEY (schema_name, table_name))' % schema)
