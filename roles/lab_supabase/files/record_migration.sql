-- Records one applied migration, in the same transaction as the migration itself.
-- psql variables: version, name, file.
\set statements `cat :file`
INSERT INTO supabase_migrations.schema_migrations (version, name, statements)
VALUES (:'version', :'name', ARRAY[:'statements']);
