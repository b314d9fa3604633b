-- DQ10: the supplier id fails the check digit or has no valid form, and the
-- name has no foreign company form (those are DQ11).
select
    {{ dq_rule_output('DQ10', '0.9', 'amount', "'supplier_name', coalesce(supplier_name, '')") }}
from {{ ref('fct_spend') }}
where
    supplier_id_status = 'invalid'
    and not coalesce({{ regex_match('supplier_name', dq_foreign_name_pattern()) }}, false)
