"""The warehouse, a DuckLake: opening it, numbered SQL migrations, partition loaders, the weekly
reports, labelled snapshots and maintenance."""
