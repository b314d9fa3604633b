-- DQ09: no supplier id (blank, SAKNAS) and no foreign company form in the
-- name (those are DQ11).
select
    {{ dq_rule_output('DQ09', '0.7', 'amount', "'supplier_name', coalesce(supplier_name, '')") }}
from {{ ref('fct_spend') }}
where
    supplier_id_status = 'missing'
    and not coalesce({{ regex_match('supplier_name', dq_foreign_name_pattern()) }}, false)
