-- darkreach: telemetry. metric_samples and system_logs are append-only time series
-- whose identity primary key does NOT contain the time column (as in production);
-- the rollup tables are filled by application SQL every hour.
--
-- metric_samples(id bigint identity PK, ts timestamptz, scope text, metric text,
--                labels jsonb, value double precision)
--   scope: 'fleet', 'coordinator' or a worker id ("node-0042").
-- system_logs(id bigint identity PK, ts timestamptz, level text, source text,
--             worker_id text, message text, context jsonb)
-- metric_rollups_hourly / metric_rollups_daily(bucket_start timestamptz, scope text,
--   metric text, labels jsonb, count bigint, sum double precision,
--   min double precision, max double precision), PK (bucket_start, scope, metric, labels)
-- Buckets are UTC hours / UTC days.

CREATE TABLE public.metric_samples (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ts timestamptz NOT NULL DEFAULT now(),
  scope text NOT NULL,
  metric text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_.]*$'),
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  value double precision NOT NULL
);
CREATE INDEX metric_samples_ts_idx ON public.metric_samples (ts);
CREATE INDEX metric_samples_scope_metric_ts_idx ON public.metric_samples (scope, metric, ts DESC);

CREATE TABLE public.system_logs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ts timestamptz NOT NULL DEFAULT now(),
  level text NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  source text NOT NULL,
  worker_id text,
  message text NOT NULL,
  context jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX system_logs_ts_idx ON public.system_logs (ts DESC);
CREATE INDEX system_logs_level_ts_idx ON public.system_logs (level, ts DESC) WHERE level IN ('warn', 'error');

CREATE TABLE public.metric_rollups_hourly (
  bucket_start timestamptz NOT NULL,
  scope text NOT NULL,
  metric text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  count bigint NOT NULL,
  sum double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  PRIMARY KEY (bucket_start, scope, metric, labels)
);

CREATE TABLE public.metric_rollups_daily (
  bucket_start timestamptz NOT NULL,
  scope text NOT NULL,
  metric text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  count bigint NOT NULL,
  sum double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  PRIMARY KEY (bucket_start, scope, metric, labels)
);

-- The application's hourly job: recompute every UTC hour in [p_from, p_to) from
-- the raw samples (an hour is replaced whole, so re-running is harmless).
-- Returns the number of rollup rows written.
CREATE FUNCTION public.rollup_metrics_hourly(
  p_from timestamptz DEFAULT date_trunc('hour', now(), 'UTC') - interval '1 hour',
  p_to timestamptz DEFAULT date_trunc('hour', now(), 'UTC')
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_from timestamptz := date_trunc('hour', p_from, 'UTC');
  v_to timestamptz := date_trunc('hour', p_to, 'UTC');
  v_rows integer;
BEGIN
  DELETE FROM public.metric_rollups_hourly
   WHERE bucket_start >= v_from AND bucket_start < v_to;
  INSERT INTO public.metric_rollups_hourly
         (bucket_start, scope, metric, labels, count, sum, min, max)
  SELECT date_trunc('hour', s.ts, 'UTC'), s.scope, s.metric, s.labels,
         count(*), sum(s.value), min(s.value), max(s.value)
    FROM public.metric_samples AS s
   WHERE s.ts >= v_from AND s.ts < v_to
   GROUP BY 1, 2, 3, 4;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  RETURN v_rows;
END
$$;

-- The daily job: UTC days in [p_from, p_to) from the hourly rollups.
CREATE FUNCTION public.rollup_metrics_daily(
  p_from timestamptz DEFAULT date_trunc('day', now(), 'UTC') - interval '1 day',
  p_to timestamptz DEFAULT date_trunc('day', now(), 'UTC')
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_from timestamptz := date_trunc('day', p_from, 'UTC');
  v_to timestamptz := date_trunc('day', p_to, 'UTC');
  v_rows integer;
BEGIN
  DELETE FROM public.metric_rollups_daily
   WHERE bucket_start >= v_from AND bucket_start < v_to;
  INSERT INTO public.metric_rollups_daily
         (bucket_start, scope, metric, labels, count, sum, min, max)
  SELECT date_trunc('day', h.bucket_start, 'UTC'), h.scope, h.metric, h.labels,
         sum(h.count)::bigint, sum(h.sum), min(h.min), max(h.max)
    FROM public.metric_rollups_hourly AS h
   WHERE h.bucket_start >= v_from AND h.bucket_start < v_to
   GROUP BY 1, 2, 3, 4;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  RETURN v_rows;
END
$$;

-- Retention as the application does it today: delete raw samples older than N days.
CREATE FUNCTION public.prune_metric_samples(p_keep interval DEFAULT interval '30 days')
RETURNS bigint
LANGUAGE sql AS $$
  WITH d AS (DELETE FROM public.metric_samples WHERE ts < now() - p_keep RETURNING 1)
  SELECT count(*) FROM d
$$;
