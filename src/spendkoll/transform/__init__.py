"""The dbt transform of the raw layer into marts."""
