"""SQL for the impact table, built as sqlglot expressions and rendered in the Databricks dialect."""
