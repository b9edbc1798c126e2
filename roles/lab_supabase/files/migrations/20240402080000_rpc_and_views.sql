-- darkreach: the RPCs the coordinator and the dashboard call, and views.

-- Heartbeat: upsert the node, hand back (and mark delivered) its pending commands.
CREATE FUNCTION public.worker_heartbeat(
  p_worker_id text,
  p_hostname text,
  p_cores integer DEFAULT 1,
  p_version text DEFAULT NULL,
  p_status text DEFAULT 'idle',
  p_metrics jsonb DEFAULT '{}'::jsonb
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_commands jsonb;
BEGIN
  INSERT INTO public.workers AS w (id, hostname, cores, version, status, metrics, last_heartbeat)
  VALUES (p_worker_id, p_hostname, p_cores, p_version, p_status, p_metrics, now())
  ON CONFLICT (id) DO UPDATE
     SET hostname = EXCLUDED.hostname, cores = EXCLUDED.cores, version = EXCLUDED.version,
         status = EXCLUDED.status, metrics = EXCLUDED.metrics, last_heartbeat = now();

  WITH c AS (
    UPDATE public.worker_commands SET delivered_at = now()
     WHERE worker_id = p_worker_id AND delivered_at IS NULL
    RETURNING id, command, payload
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'command', command, 'payload', payload)
                            ORDER BY id), '[]'::jsonb)
    INTO v_commands FROM c;
  RETURN v_commands;
END
$$;

-- Claim the next available block of the highest-priority running job.
-- Concurrent callers never get the same block (FOR UPDATE SKIP LOCKED).
CREATE FUNCTION public.claim_work_block(p_worker_id text)
RETURNS SETOF public.work_blocks
LANGUAGE sql AS $$
  UPDATE public.work_blocks AS b
     SET status = 'claimed', claimed_by = p_worker_id, claimed_at = now(),
         attempts = b.attempts + 1
   WHERE b.id = (
     SELECT wb.id
       FROM public.work_blocks AS wb
       JOIN public.search_jobs AS j ON j.id = wb.search_job_id
      WHERE wb.status = 'available' AND j.status IN ('pending', 'running')
      ORDER BY j.priority DESC, wb.search_job_id, wb.id
      LIMIT 1
        FOR UPDATE OF wb SKIP LOCKED)
  RETURNING b.*
$$;

CREATE FUNCTION public.complete_work_block(
  p_block_id bigint, p_worker_id text, p_tested bigint, p_found integer DEFAULT 0
) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  v_job bigint;
BEGIN
  UPDATE public.work_blocks
     SET status = 'completed', completed_at = now(), tested = p_tested, found = p_found
   WHERE id = p_block_id AND claimed_by = p_worker_id AND status = 'claimed'
  RETURNING search_job_id INTO v_job;
  IF v_job IS NULL THEN
    RETURN false;
  END IF;
  UPDATE public.search_jobs
     SET blocks_done = blocks_done + 1,
         status = CASE WHEN blocks_done + 1 >= blocks_total THEN 'completed' ELSE 'running' END,
         started_at = coalesce(started_at, now()),
         completed_at = CASE WHEN blocks_done + 1 >= blocks_total THEN now() END
   WHERE id = v_job;
  RETURN true;
END
$$;

-- Give blocks of silent nodes back (claimed longer ago than p_stale).
CREATE FUNCTION public.reclaim_stale_blocks(p_stale interval DEFAULT interval '10 minutes')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_rows integer;
BEGIN
  UPDATE public.work_blocks
     SET status = 'available', claimed_by = NULL, claimed_at = NULL
   WHERE status = 'claimed' AND claimed_at < now() - p_stale;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  RETURN v_rows;
END
$$;

-- The dashboard's headline numbers.
CREATE FUNCTION public.get_stats() RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'total_primes', (SELECT count(*) FROM public.primes),
    'verified_primes', (SELECT count(*) FROM public.primes WHERE verified),
    'largest_digits', (SELECT max(digits) FROM public.primes),
    'primes_last_24h', (SELECT count(*) FROM public.primes WHERE found_at > now() - interval '24 hours'),
    'forms', (SELECT count(DISTINCT form) FROM public.primes),
    'active_workers', (SELECT count(*) FROM public.workers WHERE last_heartbeat > now() - interval '60 seconds'),
    'total_cores', (SELECT coalesce(sum(cores), 0) FROM public.workers
                     WHERE last_heartbeat > now() - interval '60 seconds'),
    'running_jobs', (SELECT count(*) FROM public.search_jobs WHERE status = 'running'),
    'blocks_available', (SELECT count(*) FROM public.work_blocks WHERE status = 'available'),
    'blocks_claimed', (SELECT count(*) FROM public.work_blocks WHERE status = 'claimed'),
    'blocks_completed', (SELECT count(*) FROM public.work_blocks WHERE status = 'completed'),
    'candidates_tested', (SELECT coalesce(sum(tested), 0) FROM public.work_blocks)
  )
$$;

-- Primes per form: how many, the largest, the latest.
CREATE FUNCTION public.get_form_leaderboard(p_limit integer DEFAULT 20)
RETURNS TABLE (form text, prime_count bigint, largest_digits integer,
               latest_found_at timestamptz, verified_count bigint)
LANGUAGE sql STABLE AS $$
  SELECT p.form, count(*), max(p.digits), max(p.found_at), count(*) FILTER (WHERE p.verified)
    FROM public.primes AS p
   GROUP BY p.form
   ORDER BY count(*) DESC, p.form
   LIMIT p_limit
$$;

-- How many primes per digit-count bucket (optionally for one form).
CREATE FUNCTION public.get_digit_distribution(p_form text DEFAULT NULL, p_bucket integer DEFAULT 100)
RETURNS TABLE (bucket_start integer, bucket_end integer, prime_count bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_bucket IS NULL OR p_bucket < 1 THEN
    RAISE EXCEPTION 'p_bucket must be a positive integer, got %', p_bucket
      USING ERRCODE = '22023';
  END IF;
  RETURN QUERY
  SELECT (p.digits / p_bucket) * p_bucket, (p.digits / p_bucket) * p_bucket + p_bucket - 1, count(*)
    FROM public.primes AS p
   WHERE p_form IS NULL OR p.form = p_form
   GROUP BY 1, 2
   ORDER BY 1;
END
$$;

-- Recent throughput of the fleet, from the hourly rollups.
CREATE FUNCTION public.get_fleet_throughput(p_hours integer DEFAULT 24)
RETURNS TABLE (bucket_start timestamptz, candidates double precision, samples bigint)
LANGUAGE sql STABLE AS $$
  SELECT h.bucket_start, sum(h.sum), sum(h.count)::bigint
    FROM public.metric_rollups_hourly AS h
   WHERE h.metric = 'candidates_tested' AND h.bucket_start > now() - make_interval(hours => p_hours)
   GROUP BY h.bucket_start
   ORDER BY h.bucket_start
$$;

CREATE VIEW public.active_workers AS
  SELECT w.id, w.hostname, w.cores, w.version, w.status, w.current_job_id, w.last_heartbeat,
         now() - w.last_heartbeat AS silent_for
    FROM public.workers AS w
   WHERE w.last_heartbeat > now() - interval '60 seconds';

CREATE VIEW public.search_job_progress AS
  SELECT j.id, j.form, j.status, j.priority, j.blocks_total, j.blocks_done,
         CASE WHEN j.blocks_total > 0
              THEN round(100.0 * j.blocks_done / j.blocks_total, 2) END AS percent_done,
         (SELECT count(*) FROM public.primes AS p WHERE p.search_job_id = j.id) AS primes_found,
         j.created_at, j.started_at, j.completed_at
    FROM public.search_jobs AS j;

CREATE VIEW public.recent_primes AS
  SELECT p.id, p.form, p.expression, p.digits, p.worker_id, p.proof_method, p.verified, p.found_at
    FROM public.primes AS p
   ORDER BY p.found_at DESC
   LIMIT 100;
