"""The SQLite file: connection and pragmas, the schema and its migrations, info and vacuum."""
