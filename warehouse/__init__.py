"""The DuckDB warehouse: connection, numbered SQL migrations, partition loaders, publishing."""
