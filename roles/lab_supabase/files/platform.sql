-- darkreach.dbfleet: the Supabase platform stand-in.
--
-- What a hosted Supabase project carries before the application's own migrations
-- run (see ../../README.md and docs SUPABASE.md): the Supabase roles, the platform
-- schemas (auth, storage, realtime, extensions, graphql, graphql_public, vault,
-- pgbouncer, supabase_migrations), the extensions in schema `extensions`, the
-- `supabase_realtime` publication, event triggers owned by the superuser, default
-- privileges for the three API roles, and `postgres`' search_path.
--
-- Applied by the superuser `supabase_admin` (the cluster's bootstrap superuser,
-- as on Supabase) to database `postgres`:
--   psql -X -v ON_ERROR_STOP=1 --single-transaction -U supabase_admin -d postgres -f platform.sql
-- Works on PostgreSQL 15 and 17. Idempotent: every statement either checks first
-- or is a re-runnable GRANT / ALTER / CREATE OR REPLACE, so applying it again
-- changes nothing. It never sets passwords (the role does that, with no_log).

SET client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------
DO $roles$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM (VALUES
      -- name,                       attributes
      ('postgres',                   'LOGIN NOSUPERUSER INHERIT CREATEROLE CREATEDB REPLICATION BYPASSRLS'),
      ('anon',                       'NOLOGIN NOINHERIT'),
      ('authenticated',              'NOLOGIN NOINHERIT'),
      ('service_role',               'NOLOGIN NOINHERIT BYPASSRLS'),
      ('authenticator',              'LOGIN NOINHERIT'),
      ('dashboard_user',             'NOSUPERUSER CREATEDB CREATEROLE REPLICATION'),
      ('pgbouncer',                  'LOGIN'),
      ('supabase_auth_admin',        'LOGIN NOINHERIT CREATEROLE NOREPLICATION'),
      ('supabase_storage_admin',     'LOGIN NOINHERIT CREATEROLE NOREPLICATION'),
      ('supabase_functions_admin',   'LOGIN NOINHERIT CREATEROLE NOREPLICATION'),
      ('supabase_realtime_admin',    'NOLOGIN NOINHERIT NOREPLICATION'),
      ('supabase_read_only_user',    'LOGIN BYPASSRLS'),
      ('supabase_replication_admin', 'LOGIN REPLICATION')
    ) AS t(name, attrs)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name) THEN
      EXECUTE format('CREATE ROLE %I %s', r.name, r.attrs);
    ELSE
      EXECUTE format('ALTER ROLE %I %s', r.name, r.attrs);
    END IF;
  END LOOP;
END
$roles$;

-- The superuser that owns the platform (the cluster's bootstrap user here).
ALTER ROLE supabase_admin SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS;

-- PostgREST logs in as authenticator and switches to one of the API roles.
GRANT anon, authenticated, service_role TO authenticator;
-- The dashboard's SQL editor (running as postgres) impersonates them the same way.
GRANT anon, authenticated, service_role TO postgres;
GRANT supabase_realtime_admin TO postgres;
GRANT pg_read_all_data TO supabase_read_only_user;
GRANT pg_read_all_stats, pg_signal_backend TO postgres;

ALTER ROLE anon SET statement_timeout = '3s';
ALTER ROLE authenticated SET statement_timeout = '8s';
ALTER ROLE authenticator SET statement_timeout = '8s';
ALTER ROLE authenticator SET lock_timeout = '8s';
ALTER ROLE supabase_auth_admin SET search_path = auth;
ALTER ROLE supabase_storage_admin SET search_path = storage;
ALTER ROLE postgres SET search_path = "$user", public, extensions;

-- The application owner may create schemas and objects in database postgres.
GRANT ALL ON DATABASE postgres TO postgres;
GRANT CONNECT ON DATABASE postgres TO anon, authenticated, service_role, authenticator,
  dashboard_user, pgbouncer, supabase_auth_admin, supabase_storage_admin,
  supabase_functions_admin, supabase_read_only_user;

-- ---------------------------------------------------------------------------
-- Schemas
-- ---------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS extensions AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS storage AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS realtime AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS _realtime AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS graphql AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS graphql_public AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS vault AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS pgbouncer AUTHORIZATION pgbouncer;
CREATE SCHEMA IF NOT EXISTS supabase_functions AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS supabase_migrations AUTHORIZATION postgres;

ALTER SCHEMA auth OWNER TO supabase_admin;
ALTER SCHEMA storage OWNER TO supabase_admin;
ALTER SCHEMA realtime OWNER TO supabase_admin;

GRANT ALL ON SCHEMA public TO postgres, service_role;
GRANT USAGE ON SCHEMA public TO anon, authenticated;
GRANT USAGE ON SCHEMA extensions TO postgres, anon, authenticated, service_role, dashboard_user;
GRANT USAGE ON SCHEMA auth TO postgres, anon, authenticated, service_role, dashboard_user;
GRANT ALL ON SCHEMA auth TO supabase_auth_admin;
GRANT USAGE ON SCHEMA storage TO postgres, anon, authenticated, service_role, dashboard_user;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin;
GRANT USAGE ON SCHEMA realtime TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA realtime TO supabase_realtime_admin;
GRANT USAGE ON SCHEMA graphql, graphql_public TO postgres, anon, authenticated, service_role;
GRANT USAGE ON SCHEMA supabase_functions TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA supabase_functions TO supabase_functions_admin;
-- vault: only the superuser and service_role (as on Supabase: postgres gets
-- "permission denied" on vault.secrets).
GRANT USAGE ON SCHEMA vault TO service_role;

-- ---------------------------------------------------------------------------
-- Extensions (in schema extensions, as on Supabase)
-- ---------------------------------------------------------------------------
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements WITH SCHEMA extensions;

-- ---------------------------------------------------------------------------
-- auth
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS auth.users (
  instance_id uuid,
  id uuid NOT NULL PRIMARY KEY,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_token varchar(255),
  recovery_token varchar(255),
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  phone text UNIQUE,
  banned_until timestamptz,
  deleted_at timestamptz,
  is_sso_user boolean NOT NULL DEFAULT false,
  is_anonymous boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS users_instance_id_email_idx ON auth.users (instance_id, lower(email::text));
ALTER TABLE auth.users OWNER TO supabase_auth_admin;
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
  instance_id uuid,
  id bigserial PRIMARY KEY,
  token varchar(255) UNIQUE,
  user_id varchar(255),
  revoked boolean,
  created_at timestamptz,
  updated_at timestamptz,
  parent varchar(255),
  session_id uuid
);
ALTER TABLE auth.refresh_tokens OWNER TO supabase_auth_admin;

CREATE TABLE IF NOT EXISTS auth.audit_log_entries (
  instance_id uuid,
  id uuid NOT NULL PRIMARY KEY,
  payload json,
  created_at timestamptz,
  ip_address varchar(64) NOT NULL DEFAULT ''
);
ALTER TABLE auth.audit_log_entries OWNER TO supabase_auth_admin;

CREATE TABLE IF NOT EXISTS auth.schema_migrations (version varchar(255) PRIMARY KEY);
ALTER TABLE auth.schema_migrations OWNER TO supabase_auth_admin;

-- Supabase's helpers for RLS policies: read the claims PostgREST puts into
-- request.jwt.claims (older PostgREST: request.jwt.claim.sub / .role).
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

CREATE OR REPLACE FUNCTION auth.email() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

ALTER FUNCTION auth.uid() OWNER TO supabase_auth_admin;
ALTER FUNCTION auth.role() OWNER TO supabase_auth_admin;
ALTER FUNCTION auth.email() OWNER TO supabase_auth_admin;
ALTER FUNCTION auth.jwt() OWNER TO supabase_auth_admin;

GRANT ALL ON ALL TABLES IN SCHEMA auth TO supabase_auth_admin, postgres, dashboard_user;
GRANT ALL ON ALL SEQUENCES IN SCHEMA auth TO supabase_auth_admin, postgres, dashboard_user;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA auth TO postgres, anon, authenticated, service_role, dashboard_user;

-- ---------------------------------------------------------------------------
-- storage
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS storage.buckets (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  owner uuid REFERENCES auth.users (id),
  public boolean DEFAULT false,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now()
);
ALTER TABLE storage.buckets OWNER TO supabase_storage_admin;

CREATE TABLE IF NOT EXISTS storage.objects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bucket_id text REFERENCES storage.buckets (id),
  name text,
  owner uuid,
  metadata jsonb,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  last_accessed_at timestamptz DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname ON storage.objects (bucket_id, name);
ALTER TABLE storage.objects OWNER TO supabase_storage_admin;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;

CREATE TABLE IF NOT EXISTS storage.migrations (
  id integer PRIMARY KEY,
  name varchar(100) UNIQUE NOT NULL,
  hash varchar(40) NOT NULL,
  executed_at timestamp DEFAULT current_timestamp
);
ALTER TABLE storage.migrations OWNER TO supabase_storage_admin;

GRANT ALL ON ALL TABLES IN SCHEMA storage TO postgres, service_role, dashboard_user;
GRANT SELECT ON storage.buckets, storage.objects TO anon, authenticated;

-- ---------------------------------------------------------------------------
-- realtime
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS realtime.schema_migrations (
  version bigint PRIMARY KEY,
  inserted_at timestamp(0)
);
CREATE TABLE IF NOT EXISTS realtime.subscription (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscription_id uuid NOT NULL,
  entity regclass NOT NULL,
  filters jsonb NOT NULL DEFAULT '[]',
  claims jsonb NOT NULL,
  created_at timestamp NOT NULL DEFAULT timezone('utc', now())
);
CREATE TABLE IF NOT EXISTS realtime.messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic text NOT NULL,
  extension text NOT NULL,
  payload jsonb,
  event text,
  private boolean DEFAULT false,
  inserted_at timestamp NOT NULL DEFAULT now()
);
ALTER TABLE realtime.schema_migrations OWNER TO supabase_realtime_admin;
ALTER TABLE realtime.subscription OWNER TO supabase_realtime_admin;
ALTER TABLE realtime.messages OWNER TO supabase_realtime_admin;
ALTER TABLE realtime.messages ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON ALL TABLES IN SCHEMA realtime TO postgres, anon, authenticated, service_role;

DO $pub$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    CREATE PUBLICATION supabase_realtime;
  END IF;
END
$pub$;
-- The application's migrations (running as postgres) add their tables to it.
ALTER PUBLICATION supabase_realtime OWNER TO postgres;

-- ---------------------------------------------------------------------------
-- graphql (placeholder: pg_graphql is not packaged by Debian)
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION graphql_public.graphql(
  "operationName" text DEFAULT NULL,
  query text DEFAULT NULL,
  variables jsonb DEFAULT NULL,
  extensions jsonb DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  RETURN jsonb_build_object(
    'errors', jsonb_build_array(jsonb_build_object(
      'message', 'pg_graphql extension is not enabled.')));
END
$$;
GRANT EXECUTE ON FUNCTION graphql_public.graphql(text, text, jsonb, jsonb)
  TO postgres, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------
-- vault (placeholder for supabase_vault: a table only the platform may read)
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS vault.secrets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text UNIQUE,
  description text NOT NULL DEFAULT '',
  secret text NOT NULL,
  key_id uuid,
  nonce bytea DEFAULT extensions.gen_random_bytes(24),
  created_at timestamptz NOT NULL DEFAULT current_timestamp,
  updated_at timestamptz NOT NULL DEFAULT current_timestamp
);
REVOKE ALL ON vault.secrets FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- pgbouncer auth query (what the pooler uses to look users up)
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename text)
RETURNS TABLE (username text, password text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  RETURN QUERY
  SELECT usename::text, passwd::text FROM pg_catalog.pg_shadow WHERE usename = p_usename;
END
$$;
ALTER FUNCTION pgbouncer.get_auth(text) OWNER TO supabase_admin;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO pgbouncer;

-- ---------------------------------------------------------------------------
-- supabase_migrations (what `supabase db push` records)
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (
  version text NOT NULL PRIMARY KEY,
  statements text[],
  name text
);
ALTER TABLE supabase_migrations.schema_migrations OWNER TO postgres;

-- ---------------------------------------------------------------------------
-- Event trigger functions and event triggers (owned by supabase_admin)
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION extensions.grant_pg_cron_access() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() AS ev
             JOIN pg_extension AS ext ON ev.objid = ext.oid
             WHERE ext.extname = 'pg_cron') THEN
    EXECUTE 'GRANT USAGE ON SCHEMA cron TO postgres WITH GRANT OPTION';
    EXECUTE 'GRANT ALL ON ALL TABLES IN SCHEMA cron TO postgres WITH GRANT OPTION';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION extensions.grant_pg_net_access() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() AS ev
             JOIN pg_extension AS ext ON ev.objid = ext.oid
             WHERE ext.extname = 'pg_net') THEN
    EXECUTE 'GRANT USAGE ON SCHEMA net TO supabase_functions_admin, postgres, anon, authenticated, service_role';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION extensions.grant_pg_graphql_access() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() AS ev
             JOIN pg_extension AS ext ON ev.objid = ext.oid
             WHERE ext.extname = 'pg_graphql') THEN
    EXECUTE 'GRANT USAGE ON SCHEMA graphql TO postgres, anon, authenticated, service_role';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION extensions.set_graphql_placeholder() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- On Supabase this re-creates graphql_public.graphql() when pg_graphql is
  -- dropped; the placeholder above already exists here.
  PERFORM 1 FROM pg_event_trigger_dropped_objects() WHERE object_type = 'extension';
END
$$;

CREATE OR REPLACE FUNCTION extensions.pgrst_ddl_watch() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    IF cmd.command_tag IN (
        'CREATE SCHEMA', 'ALTER SCHEMA', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO',
        'ALTER TABLE', 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE', 'CREATE VIEW',
        'ALTER VIEW', 'CREATE MATERIALIZED VIEW', 'ALTER MATERIALIZED VIEW',
        'CREATE FUNCTION', 'ALTER FUNCTION', 'CREATE TRIGGER', 'CREATE TYPE',
        'ALTER TYPE', 'CREATE RULE', 'COMMENT')
       AND cmd.schema_name IS DISTINCT FROM 'pg_temp' THEN
      NOTIFY pgrst, 'reload schema';
    END IF;
  END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION extensions.pgrst_drop_watch() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  obj record;
BEGIN
  FOR obj IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
    IF obj.object_type IN ('schema', 'table', 'foreign table', 'view',
                           'materialized view', 'function', 'trigger', 'type', 'rule')
       AND obj.is_temporary IS false THEN
      NOTIFY pgrst, 'reload schema';
    END IF;
  END LOOP;
END
$$;

DO $evt$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
      ('issue_pg_cron_access',      'ddl_command_end', 'CREATE EXTENSION', 'extensions.grant_pg_cron_access()'),
      ('issue_pg_net_access',       'ddl_command_end', 'CREATE EXTENSION', 'extensions.grant_pg_net_access()'),
      ('issue_pg_graphql_access',   'ddl_command_end', 'CREATE FUNCTION',  'extensions.grant_pg_graphql_access()'),
      ('issue_graphql_placeholder', 'sql_drop',        'DROP EXTENSION',   'extensions.set_graphql_placeholder()'),
      ('pgrst_ddl_watch',           'ddl_command_end', NULL,               'extensions.pgrst_ddl_watch()'),
      ('pgrst_drop_watch',          'sql_drop',        NULL,               'extensions.pgrst_drop_watch()')
    ) AS v(name, event, tag, fn)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = t.name) THEN
      IF t.tag IS NULL THEN
        EXECUTE format('CREATE EVENT TRIGGER %I ON %s EXECUTE FUNCTION %s',
                       t.name, t.event, t.fn);
      ELSE
        EXECUTE format('CREATE EVENT TRIGGER %I ON %s WHEN TAG IN (%L) EXECUTE FUNCTION %s',
                       t.name, t.event, t.tag, t.fn);
      END IF;
    END IF;
    EXECUTE format('ALTER EVENT TRIGGER %I OWNER TO supabase_admin', t.name);
  END LOOP;
END
$evt$;

-- ---------------------------------------------------------------------------
-- Default privileges: new objects in public belong to the three API roles too
-- ---------------------------------------------------------------------------
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA extensions
  GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;

GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon, authenticated, service_role;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA extensions TO postgres, anon, authenticated, service_role;
