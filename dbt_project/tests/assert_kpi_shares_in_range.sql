{#- A warning: the yearly shares (loyalty, compliance, small invoices, e-commerce)
    and the concentration shares lie between 0 and 100. -#}
{{ config(severity='warn') }}
select
    'kpi_yearly' as mart,
    cast(fiscal_year as varchar) as row_key
from {{ ref('kpi_yearly') }}
where
    supplier_loyalty_pct not between 0 and 100
    or category_compliance_pct not between 0 and 100
    or small_invoice_share_pct not between 0 and 100
    or ecommerce_share_pct not between 0 and 100
union all
select
    'kpi_supplier_concentration' as mart,
    cast(fiscal_year as varchar) as row_key
from {{ ref('kpi_supplier_concentration') }}
where
    suppliers_behind_80_pct not between 0 and 100
    or spend_share_smallest_94_pct not between 0 and 100
