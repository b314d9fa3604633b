"""An independent reference implementation of the KPI definitions (see kpi_reference)."""
