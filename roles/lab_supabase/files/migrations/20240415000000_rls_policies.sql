-- darkreach: row level security. The dashboard reads public data as anon; signed-in
-- users see their own projects, tasks and profile (auth.uid()). The coordinator
-- writes as postgres / service_role, which bypass RLS.

ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.project_phases ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.workers ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.search_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.work_blocks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.primes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.worker_commands ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.metric_samples ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.system_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.metric_rollups_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.metric_rollups_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.agent_tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.agent_memory ENABLE ROW LEVEL SECURITY;  -- no policy: service_role only

CREATE POLICY "Users read their own profile" ON public.profiles
  FOR SELECT TO authenticated USING ((SELECT auth.uid()) = id);
CREATE POLICY "Users update their own profile" ON public.profiles
  FOR UPDATE TO authenticated USING ((SELECT auth.uid()) = id) WITH CHECK ((SELECT auth.uid()) = id);

CREATE POLICY "Public projects are readable by anyone" ON public.projects
  FOR SELECT TO anon USING (is_public);
CREATE POLICY "Users read public and their own projects" ON public.projects
  FOR SELECT TO authenticated USING (is_public OR owner_id = (SELECT auth.uid()));
CREATE POLICY "Users create their own projects" ON public.projects
  FOR INSERT TO authenticated WITH CHECK (owner_id = (SELECT auth.uid()));
CREATE POLICY "Owners update their projects" ON public.projects
  FOR UPDATE TO authenticated USING (owner_id = (SELECT auth.uid()))
  WITH CHECK (owner_id = (SELECT auth.uid()));
CREATE POLICY "Owners delete their projects" ON public.projects
  FOR DELETE TO authenticated USING (owner_id = (SELECT auth.uid()));

CREATE POLICY "Phases follow their project" ON public.project_phases
  FOR SELECT TO anon, authenticated USING (EXISTS (
    SELECT 1 FROM public.projects AS p
     WHERE p.id = project_phases.project_id
       AND (p.is_public OR p.owner_id = (SELECT auth.uid()))));
CREATE POLICY "Owners manage phases" ON public.project_phases
  FOR ALL TO authenticated USING (EXISTS (
    SELECT 1 FROM public.projects AS p
     WHERE p.id = project_phases.project_id AND p.owner_id = (SELECT auth.uid())));

CREATE POLICY "Fleet is public" ON public.workers FOR SELECT TO anon, authenticated USING (true);
CREATE POLICY "Jobs are public" ON public.search_jobs FOR SELECT TO anon, authenticated USING (true);
CREATE POLICY "Operators create jobs" ON public.search_jobs
  FOR INSERT TO authenticated WITH CHECK (created_by = (SELECT auth.uid()) AND EXISTS (
    SELECT 1 FROM public.profiles AS pr
     WHERE pr.id = (SELECT auth.uid()) AND pr.role IN ('operator', 'admin')));
CREATE POLICY "Blocks are public" ON public.work_blocks FOR SELECT TO anon, authenticated USING (true);
CREATE POLICY "Primes are public" ON public.primes FOR SELECT TO anon, authenticated USING (true);
CREATE POLICY "Signed-in users read metrics" ON public.metric_samples
  FOR SELECT TO authenticated USING (true);
CREATE POLICY "Rollups are public" ON public.metric_rollups_hourly
  FOR SELECT TO anon, authenticated USING (true);
CREATE POLICY "Daily rollups are public" ON public.metric_rollups_daily
  FOR SELECT TO anon, authenticated USING (true);
CREATE POLICY "Admins read logs" ON public.system_logs
  FOR SELECT TO authenticated USING (EXISTS (
    SELECT 1 FROM public.profiles AS pr WHERE pr.id = (SELECT auth.uid()) AND pr.role = 'admin'));

CREATE POLICY "Users read their own tasks" ON public.agent_tasks
  FOR SELECT TO authenticated USING (created_by = (SELECT auth.uid()));
CREATE POLICY "Users create their own tasks" ON public.agent_tasks
  FOR INSERT TO authenticated WITH CHECK (created_by = (SELECT auth.uid()));
CREATE POLICY "Users cancel their own tasks" ON public.agent_tasks
  FOR UPDATE TO authenticated USING (created_by = (SELECT auth.uid()))
  WITH CHECK (created_by = (SELECT auth.uid()));
