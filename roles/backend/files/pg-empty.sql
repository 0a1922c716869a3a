-- Empties the project's database as its owner role before a restore (bin/deploy restore, the
-- off-site backup's restore): what the role owns is dropped, never the schema with what others own
-- there (an extension a superuser created, which the role could not create again). A public schema
-- the role took over (an earlier restore's) goes back to pg_database_owner first (PostgreSQL 14+),
-- and is there again whatever happened.
SET client_min_messages = warning;
DO $$ BEGIN
  IF to_regrole('pg_database_owner') IS NOT NULL AND (SELECT nspowner FROM pg_namespace WHERE nspname = 'public')
     = (SELECT oid FROM pg_roles WHERE rolname = current_user) THEN
    ALTER SCHEMA public OWNER TO pg_database_owner;
  END IF;
END $$;
DROP OWNED BY CURRENT_USER CASCADE;
CREATE SCHEMA IF NOT EXISTS public;
