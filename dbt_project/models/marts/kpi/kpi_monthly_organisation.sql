{#- Spend KPIs per period for the whole organisation (the monthly report's front page). -#}
{{ spend_kpi_model(['period', 'fiscal_year']) }}
