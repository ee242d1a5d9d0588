-- IMS Screen on PostgreSQL: an owner role for the schema and migrations, an app role for the app.
--
-- The app connects as ims_app, which may read and write rows but owns nothing: it cannot ALTER,
-- DROP or TRUNCATE a table, nor DISABLE or DROP the triggers that keep the audit trail
-- append-only (only a table's owner or a superuser can). Migrations run as ims_owner, which
-- owns every table they create.
--
-- Run once, as a superuser, connected to the app's (existing, empty) database:
--
--     psql -v ON_ERROR_STOP=1 -d ims_screen -f deploy/postgresql-roles.sql
--
-- then give each role a password at psql's prompt (it is hashed before it is sent, and never
-- lands in a shell history or a process list):
--
--     \password ims_owner
--     \password ims_app
--
-- and set DATABASE_URL to ims_app's URL and MIGRATIONS_DATABASE_URL to ims_owner's (README,
-- "PostgreSQL roles"). Running it again changes nothing. A database migrated earlier as another
-- role needs its tables handed over first: REASSIGN OWNED BY <that role> TO ims_owner;

\set ON_ERROR_STOP on

-- The roles, created only if missing. Neither is a superuser or may create roles or databases.
SELECT 'CREATE ROLE ims_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ims_owner') \gexec
SELECT 'CREATE ROLE ims_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ims_app') \gexec

-- Only these two roles (and superusers) may connect to this database.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO ims_owner, ims_app', current_database()) \gexec

-- ims_owner owns the schema and creates the tables in it; nobody else may create anything there
-- (PostgreSQL before 15 let every role create tables in public).
ALTER SCHEMA public OWNER TO ims_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ims_app;

-- Every table and sequence ims_owner creates from now on (each migration's) is usable by ims_app
-- for rows only: no TRUNCATE, REFERENCES or TRIGGER privilege, and no ownership.
ALTER DEFAULT PRIVILEGES FOR ROLE ims_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ims_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ims_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO ims_app;

-- And the same for tables that already exist (a database migrated before this script ran).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ims_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ims_app;
