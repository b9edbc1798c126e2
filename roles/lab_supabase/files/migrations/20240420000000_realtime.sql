-- darkreach: the tables the frontend listens to through Supabase Realtime.
ALTER PUBLICATION supabase_realtime ADD TABLE public.primes, public.workers,
  public.search_jobs, public.agent_tasks;
ALTER TABLE public.workers REPLICA IDENTITY FULL;
