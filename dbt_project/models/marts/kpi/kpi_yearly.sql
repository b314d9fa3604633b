{#- Spend KPIs per fiscal year for the whole organisation (the headline figures). -#}
{{ spend_kpi_model(['fiscal_year']) }}
