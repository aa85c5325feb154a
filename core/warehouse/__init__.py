"""Talk to a SQL warehouse (Databricks, or the embedded one) over the Statement Execution API."""
