{#- Spend KPIs per period x org unit, all categories (the monthly report's figures). -#}
{{ spend_kpi_model(['period', 'fiscal_year', 'org_unit_id', 'org_unit_name']) }}
