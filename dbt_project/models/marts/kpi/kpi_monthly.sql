{#- Spend KPIs per period x org unit x category level 1. Definitions: _kpi__docs.md. -#}
{{ spend_kpi_model(['period', 'fiscal_year', 'org_unit_id', 'org_unit_name', 'category_level1']) }}
