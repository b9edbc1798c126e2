-- dbfleet phase 1: materialized views behind the dashboard's RPCs.
-- Applied by playbooks/phase1.yml as the application owner (postgres), in one
-- transaction, when its sha1 differs from the one in the comment on schema
-- dbfleet_dashboard. Re-applying rebuilds the views (the RPCs do not depend on them in
-- pg_depend: SQL and PL/pgSQL bodies are not tracked).
--
-- Security: the RPCs stay SECURITY INVOKER with their signatures, owners and grants
-- (CREATE OR REPLACE keeps them). Materialized views have no row level security: they
-- hold aggregates computed by their owner (postgres, BYPASSRLS) over primes, workers,
-- search_jobs and work_blocks, whose SELECT policies are USING (true) for anon and
-- authenticated, so anon and authenticated see the same numbers as before. Their schema
-- is not one PostgREST exposes; only anon, authenticated and service_role get USAGE and
-- SELECT; the refresh function is the owner's only.
-- Freshness: the views are refreshed every 5 minutes (REFRESH ... CONCURRENTLY, readers
-- are not blocked); what depends on now() (primes_last_24h, active_workers, total_cores)
-- and running_jobs stay live queries on indexed columns.

CREATE SCHEMA IF NOT EXISTS dbfleet_dashboard;
REVOKE ALL ON SCHEMA dbfleet_dashboard FROM PUBLIC;
GRANT USAGE ON SCHEMA dbfleet_dashboard TO anon, authenticated, service_role;

DROP MATERIALIZED VIEW IF EXISTS dbfleet_dashboard.stats;
CREATE MATERIALIZED VIEW dbfleet_dashboard.stats AS
  SELECT 1 AS id,
         (SELECT count(*) FROM public.primes) AS total_primes,
         (SELECT count(*) FROM public.primes WHERE verified) AS verified_primes,
         (SELECT max(digits) FROM public.primes) AS largest_digits,
         (SELECT count(DISTINCT form) FROM public.primes) AS forms,
         (SELECT count(*) FROM public.work_blocks WHERE status = 'available') AS blocks_available,
         (SELECT count(*) FROM public.work_blocks WHERE status = 'claimed') AS blocks_claimed,
         (SELECT count(*) FROM public.work_blocks WHERE status = 'completed') AS blocks_completed,
         (SELECT coalesce(sum(tested), 0) FROM public.work_blocks) AS candidates_tested;
CREATE UNIQUE INDEX stats_id_key ON dbfleet_dashboard.stats (id);

DROP MATERIALIZED VIEW IF EXISTS dbfleet_dashboard.form_leaderboard;
CREATE MATERIALIZED VIEW dbfleet_dashboard.form_leaderboard AS
  SELECT p.form, count(*) AS prime_count, max(p.digits) AS largest_digits,
         max(p.found_at) AS latest_found_at, count(*) FILTER (WHERE p.verified) AS verified_count
    FROM public.primes AS p
   GROUP BY p.form;
CREATE UNIQUE INDEX form_leaderboard_form_key ON dbfleet_dashboard.form_leaderboard (form);

-- One row per (form, digits): any bucket size, any form, summed at call time.
DROP MATERIALIZED VIEW IF EXISTS dbfleet_dashboard.digit_counts;
CREATE MATERIALIZED VIEW dbfleet_dashboard.digit_counts AS
  SELECT p.form, p.digits, count(*) AS prime_count
    FROM public.primes AS p
   GROUP BY p.form, p.digits;
CREATE UNIQUE INDEX digit_counts_form_digits_key ON dbfleet_dashboard.digit_counts (form, digits);

REVOKE ALL ON dbfleet_dashboard.stats, dbfleet_dashboard.form_leaderboard,
  dbfleet_dashboard.digit_counts FROM PUBLIC;
GRANT SELECT ON dbfleet_dashboard.stats, dbfleet_dashboard.form_leaderboard,
  dbfleet_dashboard.digit_counts TO anon, authenticated, service_role;

-- What the timer (or pg_cron) runs every 5 minutes; after the cutover, pg_cron on the new
-- primary (playbooks/phase3.yml). A view that is not populated (a schema-only restore, as
-- the logical cutover makes) cannot be refreshed CONCURRENTLY: it is refreshed plainly once.
CREATE OR REPLACE FUNCTION dbfleet_dashboard.refresh() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v regclass;
BEGIN
  FOREACH v IN ARRAY ARRAY['dbfleet_dashboard.stats', 'dbfleet_dashboard.form_leaderboard',
                           'dbfleet_dashboard.digit_counts']::regclass[] LOOP
    IF (SELECT relispopulated FROM pg_class WHERE oid = v) THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', v);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %s', v);
    END IF;
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION dbfleet_dashboard.refresh() FROM PUBLIC, anon, authenticated, service_role;

-- The RPCs, same signatures and results, reading the views.
CREATE OR REPLACE FUNCTION public.get_stats() RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'total_primes', s.total_primes,
    'verified_primes', s.verified_primes,
    'largest_digits', s.largest_digits,
    'primes_last_24h', (SELECT count(*) FROM public.primes WHERE found_at > now() - interval '24 hours'),
    'forms', s.forms,
    'active_workers', (SELECT count(*) FROM public.workers WHERE last_heartbeat > now() - interval '60 seconds'),
    'total_cores', (SELECT coalesce(sum(cores), 0) FROM public.workers
                     WHERE last_heartbeat > now() - interval '60 seconds'),
    'running_jobs', (SELECT count(*) FROM public.search_jobs WHERE status = 'running'),
    'blocks_available', s.blocks_available,
    'blocks_claimed', s.blocks_claimed,
    'blocks_completed', s.blocks_completed,
    'candidates_tested', s.candidates_tested
  )
  FROM dbfleet_dashboard.stats AS s
$$;

CREATE OR REPLACE FUNCTION public.get_form_leaderboard(p_limit integer DEFAULT 20)
RETURNS TABLE (form text, prime_count bigint, largest_digits integer,
               latest_found_at timestamptz, verified_count bigint)
LANGUAGE sql STABLE AS $$
  SELECT l.form, l.prime_count, l.largest_digits, l.latest_found_at, l.verified_count
    FROM dbfleet_dashboard.form_leaderboard AS l
   ORDER BY l.prime_count DESC, l.form
   LIMIT p_limit
$$;

CREATE OR REPLACE FUNCTION public.get_digit_distribution(p_form text DEFAULT NULL, p_bucket integer DEFAULT 100)
RETURNS TABLE (bucket_start integer, bucket_end integer, prime_count bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_bucket IS NULL OR p_bucket < 1 THEN
    RAISE EXCEPTION 'p_bucket must be a positive integer, got %', p_bucket
      USING ERRCODE = '22023';
  END IF;
  RETURN QUERY
  SELECT (d.digits / p_bucket) * p_bucket, (d.digits / p_bucket) * p_bucket + p_bucket - 1,
         sum(d.prime_count)::bigint
    FROM dbfleet_dashboard.digit_counts AS d
   WHERE p_form IS NULL OR d.form = p_form
   GROUP BY 1, 2
   ORDER BY 1;
END
$$;
